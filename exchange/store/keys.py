"""Finding rows by a two-column key, in SQL that every engine answers from its index.

`(a, b) IN ((…), (…))` reads naturally but SQLite answers it with a full table scan (its
planner does not use a composite index for row values), which made Merkle proofs on a
million-entry log take 250 ms. `(a = x AND b IN (…)) OR (a = y AND b IN (…))` is an index
search on SQLite and PostgreSQL alike.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

BATCH = 500  # keys per statement: well under every driver's parameter limit


def pairs_in(
    first: Any, second: Any, pairs: Iterable[tuple[Any, Any]]
) -> Iterator[ColumnElement[bool]]:
    """WHERE clauses matching `pairs` of (first, second) values, BATCH pairs per clause."""
    grouped: dict[Any, list[Any]] = {}
    for a, b in pairs:
        grouped.setdefault(a, []).append(b)
    batch: list[ColumnElement[bool]] = []
    size = 0
    for a, values in grouped.items():
        for start in range(0, len(values), BATCH):
            chunk = values[start : start + BATCH]
            batch.append(and_(first == a, second.in_(chunk)))
            size += len(chunk)
            if size >= BATCH:
                yield or_(*batch)
                batch, size = [], 0
    if batch:
        yield or_(*batch)
