"""Auditor commands: verify the sharing log, show and export its entries."""

import base64
import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from exchange.cli.edge import emit, err, parse_time
from exchange.client import ExchangeClient
from exchange.errors import InputError
from exchange.signatures import load_private_key, load_public_key
from exchange.verifier import SavedState, verify_log

audit_app = typer.Typer(help="The tamper-evident sharing log.", no_args_is_help=True)

KeyOption = Annotated[Path | None, typer.Option("--key", help="your signing key (PEM)")]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="EXCHANGE_TOKEN", help="an exchange token")
]
UrlOption = Annotated[str, typer.Option("--url")]


def connect(url: str, key: Path | None, token: str | None) -> ExchangeClient:
    signing_key = load_private_key(key.read_bytes()) if key is not None else None
    return ExchangeClient(url, key=signing_key, token=token)


@audit_app.command("verify")
def audit_verify(
    url: UrlOption = "http://127.0.0.1:8000",
    state: Annotated[Path | None, typer.Option("--state", help="saved checkpoint")] = None,
    pubkey: Annotated[Path | None, typer.Option("--pubkey", help="pin the operator key")] = None,
    key: KeyOption = None,
    token: TokenOption = None,
) -> None:
    """Verify the sharing log: signature, every entry, consistency with the saved checkpoint."""
    with connect(url, key, token) as client:
        meta = client.metadata()
        origin = meta["audit"]["origin"]
        if pubkey is not None:
            public_key = load_public_key(pubkey.read_bytes())
        else:
            public_key = client.published_key()
            err.print("[yellow]trusting the key the server publishes; pin it with --pubkey[/]")
        saved = SavedState.load(state) if state is not None and state.exists() else None
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("entries", total=None)
            verified = verify_log(
                client,
                origin=origin,
                public_key=public_key,
                saved=saved,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    if state is not None:
        verified.state.save(state)
    head = verified.checkpoint
    typer.echo(
        f"OK: {head.origin} verifies at size {head.size} "
        f"(root {base64.b64encode(head.root).decode()}; {verified.checked} entries checked)"
    )


@audit_app.command("show")
def audit_show(
    url: UrlOption = "http://127.0.0.1:8000",
    partner: Annotated[str | None, typer.Option("--partner")] = None,
    action: Annotated[str | None, typer.Option("--action")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    output: Annotated[str, typer.Option("--format", help="table, jsonl or csv")] = "table",
    key: KeyOption = None,
    token: TokenOption = None,
) -> None:
    """Show sharing-log entries: who did what, to whose data, when."""
    if output not in ("table", "jsonl", "csv"):
        raise InputError("--format is table, jsonl or csv")
    params = {
        name: value
        for name, value in (
            ("partner", partner),
            ("action", action),
            ("since", since and parse_time(since).isoformat()),  # type: ignore[union-attr]
            ("until", until and parse_time(until).isoformat()),  # type: ignore[union-attr]
        )
        if value
    }
    rows: list[dict[str, Any]] = []
    with connect(url, key, token) as client:
        start: int | None = 0
        while start is not None:
            page = client.get_json("/api/v1/audit/entries", params | {"start": start})
            rows += [{"seq": item["seq"], **item["entry"]} for item in page["entries"]]
            start = page["next"]
    if output == "jsonl":
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["seq", "at", "action", "actor", "subject", "partners", "details"])
        for row in rows:
            writer.writerow(
                [
                    row["seq"],
                    row["at"],
                    row["action"],
                    row["actor"],
                    row["subject"],
                    " ".join(row["partners"]),
                    json.dumps(row["details"], ensure_ascii=False),
                ]
            )
    else:
        for row in rows:
            row["partners"] = ", ".join(row["partners"])
            row["details"] = json.dumps(row["details"], ensure_ascii=False)
        emit(rows, False, "Sharing log")
