"""What every command shares at the process edge: the clock, one transaction per command,
argument parsing and output."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from exchange.config import Settings
from exchange.errors import InputError
from exchange.signatures import SigningKey, generate_key, load_private_key, write_private_key
from exchange.store.db import make_engine

err = Console(stderr=True)


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One command, one transaction, committed at the end."""
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601; a time without a zone is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not an ISO 8601 date and time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_duration(value: str) -> timedelta:
    """`90s`, `15m`, `1h`, `7d`."""
    match = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if match is None:
        raise InputError(f"{value!r} is not a duration like 90s, 15m, 1h or 7d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def ensure_operator_key(path: Path) -> SigningKey:
    """The operator key at `path`, generated (mode 0600) on first start."""
    if not path.exists():
        write_private_key(generate_key(), path)
        err.print(f"generated the operator key {path}")
    return load_private_key(path.read_bytes())


def emit(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title=title)
    for column in rows[0] if rows else ["(none)"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) if value is not None else "" for value in row.values()))
    Console().print(table)
