"""Partner commands: sign and verify bundles offline, submit them."""

import json
from pathlib import Path
from typing import Annotated

import typer

from exchange.cli.edge import err, now
from exchange.client import ExchangeClient
from exchange.core.claims import Category, Tlp
from exchange.core.spreadsheets import Defaults, build_bundle
from exchange.errors import InputError, SignatureError
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


@bundle_app.command("build")
def bundle_build(
    spreadsheet: Path,
    partner_id: Annotated[
        str,
        typer.Option("--partner-id", help="your identity id (exchange partner add printed it)"),
    ],
    partner_name: Annotated[str, typer.Option("--partner-name")] = "",
    category: Annotated[Category | None, typer.Option("--category")] = None,
    tlp: Annotated[Tlp, typer.Option("--tlp")] = Tlp.AMBER,
    chain: Annotated[str | None, typer.Option("--chain")] = None,
    confidence: Annotated[int | None, typer.Option("--confidence", min=0, max=100)] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid")] = False,
) -> None:
    """Turn a CSV of addresses into a STIX 2.1 bundle in our modelling, on stdout.

    Columns: address, and optionally chain, asset, category, confidence, tlp, valid_until,
    case reference, note. Every bad line is reported with its number; nothing is written
    unless --skip-invalid is given.
    """
    result = build_bundle(
        spreadsheet.read_text(encoding="utf-8-sig"),
        identity_id=partner_id,
        identity_name=partner_name or partner_id,
        defaults=Defaults(category=category, tlp=tlp, chain=chain, confidence=confidence),
        now=now(),
        skip_invalid=skip_invalid,
    )
    for line, reason in result.problems:
        err.print(f"{spreadsheet}:{line}: {reason}", highlight=False, soft_wrap=True)
    if result.bundle is None:
        raise InputError(f"{len(result.problems)} bad line(s); fix them or pass --skip-invalid")
    typer.echo(json.dumps(result.bundle, ensure_ascii=False, indent=1))
    err.print(f"{result.written} indicator(s) written", highlight=False)


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
