"""Subscriber commands: subscriptions, watchlist uploads, and watching alerts arrive."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from exchange.cli.edge import err
from exchange.client import ExchangeClient, RemoteError
from exchange.core.claims import Category
from exchange.core.subscriptions import Delivery, Kind
from exchange.signatures import load_private_key

subscription_app = typer.Typer(help="Create and manage subscriptions.", no_args_is_help=True)
watchlist_app = typer.Typer(help="Upload watchlists.", no_args_is_help=True)

Url = Annotated[str, typer.Option("--url", help="the exchange")]
Key = Annotated[Path, typer.Option("--key", help="your signing key")]
_URL, _KEY = "http://127.0.0.1:8000", Path("key.pem")


def _client(url: str, key: Path) -> ExchangeClient:
    return ExchangeClient(url, key=load_private_key(key.read_bytes()))


@subscription_app.command("add")
def subscription_add(
    name: str,
    kind: Annotated[Kind, typer.Option("--kind")] = Kind.WATCHLIST,
    delivery: Annotated[Delivery, typer.Option("--delivery")] = Delivery.POLL,
    webhook_url: Annotated[str | None, typer.Option("--webhook-url")] = None,
    chain: Annotated[list[str] | None, typer.Option("--chain", help="repeat; none: all")] = None,
    category: Annotated[list[Category] | None, typer.Option("--category")] = None,
    min_corroboration: Annotated[int, typer.Option("--min-corroboration", min=1)] = 1,
    min_confidence: Annotated[int | None, typer.Option("--min-confidence", min=0, max=100)] = None,
    url: Url = _URL,
    key: Key = _KEY,
) -> None:
    """Subscribe; prints the new subscription's id."""
    spec = {
        "name": name,
        "kind": kind.value,
        "delivery": delivery.value,
        "webhook_url": webhook_url,
        "chains": chain or [],
        "categories": [c.value for c in category or []],
        "min_corroboration": min_corroboration,
        "min_confidence": min_confidence,
    }
    with _client(url, key) as client:
        typer.echo(client.call("POST", "/api/v1/subscriptions", json=spec)["id"])


@subscription_app.command("list")
def subscription_list(
    as_json: Annotated[bool, typer.Option("--json")] = False, url: Url = _URL, key: Key = _KEY
) -> None:
    with _client(url, key) as client:
        found: list[dict[str, Any]] = client.call("GET", "/api/v1/subscriptions")
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for s in found:
        typer.echo(
            f"{s['id']}  {s['state']:<7} {s['kind']:<9} {s['delivery']:<7} "
            f"{s['watchlist_entries']:>9} entries  {s['name']}"
        )


def _change(subscription: str, verb: str, url: str, key: Path) -> None:
    with _client(url, key) as client:
        if verb == "delete":
            client.call("DELETE", f"/api/v1/subscriptions/{subscription}")
        else:
            client.call("POST", f"/api/v1/subscriptions/{subscription}/{verb}")
    err.print(f"{subscription}: {verb}d", highlight=False)


@subscription_app.command("pause")
def subscription_pause(subscription: str, url: Url = _URL, key: Key = _KEY) -> None:
    _change(subscription, "pause", url, key)


@subscription_app.command("resume")
def subscription_resume(subscription: str, url: Url = _URL, key: Key = _KEY) -> None:
    _change(subscription, "resume", url, key)


@subscription_app.command("delete")
def subscription_delete(subscription: str, url: Url = _URL, key: Key = _KEY) -> None:
    _change(subscription, "delete", url, key)


@watchlist_app.command("upload")
def watchlist_upload(
    subscription: str,
    file: Path,
    replace: Annotated[bool, typer.Option("--replace", help="replace the list")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid")] = False,
    url: Url = _URL,
    key: Key = _KEY,
) -> None:
    """Upload a CSV (`address[,chain]` per line) or NDJSON (*.ndjson, *.jsonl) watchlist,
    streamed with a progress bar. Addresses already flagged alert at once."""
    ndjson = file.suffix.lower() in (".ndjson", ".jsonl")
    params = {"mode": "replace" if replace else "append", "skip_invalid": skip_invalid}
    headers = {"Content-Type": "application/x-ndjson" if ndjson else "text/csv"}
    size = file.stat().st_size
    columns = (*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn())
    with Progress(*columns, TransferSpeedColumn(), console=err) as progress:
        task = progress.add_task(f"uploading {file.name}", total=size)

        def chunks() -> Iterator[bytes]:
            with file.open("rb") as stream:
                while chunk := stream.read(1 << 20):
                    progress.advance(task, len(chunk))
                    yield chunk

        with _client(url, key) as client:
            try:
                answer = client.call(
                    "PUT",
                    f"/api/v1/subscriptions/{subscription}/watchlist",
                    content=chunks(),
                    params=params,
                    headers=headers,
                )
            except RemoteError as error:
                _print_problems(file, error.problem.get("errors", []))
                raise
    _print_problems(file, answer["problems"])
    err.print(
        f"{answer['entries']} entries stored, {answer['refused']} refused; the watchlist holds "
        f"{answer['watchlist_entries']}; {answer['alerts']} alert(s) on addresses already flagged",
        highlight=False,
    )


def _print_problems(file: Path, problems: list[Any]) -> None:
    for problem in problems:
        if isinstance(problem, dict) and "line" in problem:
            err.print(f"{file}:{problem['line']}: {problem['reason']}", highlight=False)


def watch(
    after: Annotated[int, typer.Option("--after", help="resume after this cursor")] = 0,
    url: Url = _URL,
    key: Key = _KEY,
) -> None:
    """Print alerts as they arrive (one JSON document per line), until interrupted.
    Reconnects on its own and resumes where it stopped."""
    with _client(url, key) as client:
        for cursor, event, data in client.events("/api/v1/alerts/stream", after=after):
            alert = json.loads(data)
            flag = alert["flag"]
            err.print(f"#{cursor} {event}: {flag['chain']} {flag['address']}", highlight=False)
            typer.echo(data)
