"""Subscriber commands: check, offline, that a webhook alert really came from the exchange."""

import json
import re
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from exchange.cli.edge import now, parse_duration
from exchange.errors import DocumentError, InputError
from exchange.webhooks import verify_webhook

_REQUEST_LINE = re.compile(r"[A-Z]+ \S+ HTTP/[0-9.]+")

alert_app = typer.Typer(help="Alerts the exchange POSTs to webhooks.", no_args_is_help=True)


@alert_app.command("verify")
def alert_verify(
    body: Annotated[Path, typer.Option("--body", help="the request body, byte for byte")],
    headers: Annotated[
        Path,
        typer.Option(
            "--headers", help='the request headers: a JSON object, or "Name: value" lines'
        ),
    ],
    jwks: Annotated[
        str | None, typer.Option("--jwks", help="the exchange's JWKS: a file or a URL")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="the exchange's base URL; its JWKS is fetched from there"),
    ] = None,
    tolerance: Annotated[
        str, typer.Option("--tolerance", help="accepted clock difference, e.g. 5m or 7d")
    ] = "5m",
) -> None:
    """Verify the signature (Standard Webhooks v1a) on an alert as it was received."""
    fields = read_headers(headers.read_text(encoding="utf-8"))
    kid = verify_webhook(
        fields,
        body.read_bytes(),
        load_jwks(jwks, url),
        now=now(),
        tolerance=parse_duration(tolerance),
    )
    typer.echo(f"verified: alert {fields['webhook-id']} signed by {kid}")


def read_headers(text: str) -> dict[str, str]:
    """Headers as received, with lower-case names: a JSON object or HTTP `Name: value` lines.

    A request line (`POST /hook HTTP/1.1`) is skipped and a blank line ends the headers.
    A repeated header's values are joined with spaces, as `webhook-signature` lists them.
    """
    if text.lstrip().startswith("{"):
        parsed = _read_json(text, "headers")
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise DocumentError("headers: every value of the JSON object must be a string")
        pairs = list(parsed.items())
    else:
        lines = text.lstrip().splitlines()
        skip = 1 if lines and _REQUEST_LINE.fullmatch(lines[0].strip()) else 0
        pairs = []
        for number, line in enumerate(lines[skip:], start=1 + skip):
            if not line.strip():
                break
            name, colon, value = line.partition(":")
            if not colon or not name.strip() or name != name.strip():
                raise InputError(f"headers line {number}: expected `Name: value`")
            pairs.append((name, value.strip()))
    fields: dict[str, str] = {}
    for name, value in pairs:
        folded = name.lower()
        fields[folded] = f"{fields[folded]} {value}" if folded in fields else value
    return fields


def load_jwks(source: str | None, url: str | None) -> dict[str, Any]:
    """The JWKS from a file, a URL, or the exchange at `url`."""
    if url is not None and source is None:
        source = f"{url.rstrip('/')}/.well-known/jwks.json"
    elif url is not None or source is None:
        raise InputError("give either --jwks (a file or a URL) or --url (the exchange)")
    if source.startswith(("https://", "http://")):
        response = httpx.get(source, timeout=30.0)
        response.raise_for_status()
        data = _read_json(response.text, source)
    else:
        data = _read_json(Path(source).read_text(encoding="utf-8"), source)
    if not isinstance(data, dict):
        raise DocumentError(f"{source}: a JWKS is a JSON object with a `keys` list")
    return data


def _read_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise DocumentError(f"{what} is not valid JSON: {error}") from None
