"""Batched inserts, and inserts that skip rows already present, on SQLite and PostgreSQL."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def bulk_insert(
    session: Session,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    skip_existing: bool = False,
) -> None:
    """Insert many rows with one executemany: no ORM objects on the ingest hot path.

    With `skip_existing`, rows clashing with a unique key are skipped, so concurrent
    writers of the same key never fail: one inserts, the others find it there.
    """
    if rows:
        statement = _skipping(session, table) if skip_existing else _table(table).insert()
        session.execute(statement, list(rows))


def insert_if_new(session: Session, table: type[SQLModel], row: dict[str, Any]) -> bool:
    """Insert one row unless its unique key is taken; True if it was inserted."""
    # RETURNING, not rowcount: drivers need not report rowcount for INSERT.
    statement = _skipping(session, table).values(row)
    return session.execute(statement.returning(literal_column("1"))).first() is not None


def _skipping(session: Session, table: type[SQLModel]) -> Insert:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement: Insert = module.insert(_table(table)).on_conflict_do_nothing()
    return statement


def _table(table: type[SQLModel]) -> Table:
    return table.__table__  # type: ignore[attr-defined, no-any-return]
