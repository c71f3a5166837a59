"""Partner commands: sign and verify bundles offline, submit them."""

import json
from pathlib import Path
from typing import Annotated

import typer

from exchange.cli.edge import now
from exchange.client import ExchangeClient
from exchange.errors import SignatureError
from exchange.signatures import (
    load_private_key,
    load_public_key,
    parse_json,
    read_signed_bundle,
    sign_bundle,
    thumbprint,
    verify_signature,
)

bundle_app = typer.Typer(help="Build, sign and verify STIX bundles.", no_args_is_help=True)


@bundle_app.command("sign")
def bundle_sign(bundle: Path, key: Annotated[Path, typer.Option("--key")]) -> None:
    """Print the signed-bundle document for a STIX bundle (JSON file)."""
    signing_key = load_private_key(key.read_bytes())
    document = sign_bundle(
        parse_json(bundle.read_bytes()), signing_key, iat=int(now().timestamp())
    )
    typer.echo(json.dumps(document, ensure_ascii=False))


@bundle_app.command("verify")
def bundle_verify(signed: Path, pubkey: Annotated[Path, typer.Option("--pubkey")]) -> None:
    """Verify, offline, the signature a public key made on a signed-bundle document."""
    public_key = load_public_key(pubkey.read_bytes())
    document = read_signed_bundle(parse_json(signed.read_bytes()))
    kid = thumbprint(public_key)
    matching = [s for s in document.signatures if s.kid == kid]
    if not matching:
        raise SignatureError(f"no signature by key {kid} on this document")
    for signature in matching:
        verify_signature(signature, public_key)
    typer.echo(f"OK: signature by {kid} verifies over bundle {document.bundle.get('id')}")


def submit(
    signed: Path,
    url: Annotated[str, typer.Option("--url")] = "http://127.0.0.1:8000",
    key: Annotated[Path, typer.Option("--key")] = Path("key.pem"),
) -> None:
    """Submit a signed-bundle document, authenticating with a token signed by KEY."""
    with ExchangeClient(url, key=load_private_key(key.read_bytes())) as client:
        response = client.post("/api/v1/submissions", signed.read_bytes())
    typer.echo(json.dumps(response.json(), indent=2))
    if response.is_error:
        raise typer.Exit(1)
