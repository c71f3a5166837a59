"""The sharing log in the database: entries, Merkle nodes, checkpoints. Append only; never commits.

Appends take a transaction-scoped lock (PostgreSQL advisory lock; SQLite's BEGIN IMMEDIATE
already serialises writers), so entries get gapless sequence numbers in commit order, in
the same transaction as the change they record.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from exchange.core import merkle
from exchange.core.ledger import Checkpoint, Entry
from exchange.errors import InputError, LedgerIntegrityError, NotFoundError
from exchange.store.inserts import bulk_insert, insert_if_new
from exchange.store.keys import pairs_in
from exchange.store.tables import CheckpointRow, LedgerEntryRow, LedgerNodeRow, LedgerPartnerRow

T = TypeVar("T")
_LOCK = 0x6C656467  # "ledg": the advisory lock that serialises appends on PostgreSQL


class LedgerStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def size(self) -> int:
        last = self._session.exec(select(func.max(LedgerEntryRow.seq))).one()
        return 0 if last is None else int(last) + 1

    def lock(self) -> None:
        """Hold the log's append lock until the transaction ends (PostgreSQL; SQLite's
        BEGIN IMMEDIATE already holds the database's)."""
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})

    def append(self, entries: Sequence[Entry]) -> list[int]:
        """Append `entries`; returns their sequence numbers."""
        if not entries:
            return []
        self.lock()
        size = self.size()
        known = self._nodes(merkle.frontier(size))
        bodies = [entry.canonical() for entry in entries]
        created = merkle.append(size, [merkle.leaf_hash(body) for body in bodies], known)
        seqs = list(range(size, size + len(entries)))
        bulk_insert(
            self._session,
            LedgerEntryRow,
            [
                {
                    "seq": seq,
                    "body": body.decode(),
                    "action": entry.action.value,
                    "actor": entry.actor,
                    "subject": entry.subject,
                    "at": entry.at,
                }
                for seq, body, entry in zip(seqs, bodies, entries, strict=True)
            ],
        )
        bulk_insert(
            self._session,
            LedgerPartnerRow,
            [
                {"seq": seq, "partner_id": partner}
                for seq, entry in zip(seqs, entries, strict=True)
                for partner in sorted(set(entry.partners))
            ],
        )
        bulk_insert(
            self._session,
            LedgerNodeRow,
            [{"level": level, "index": index, "hash": value} for level, index, value in created],
        )
        return seqs

    def root(self, size: int) -> bytes:
        return self._run(lambda node: merkle.root(size, node))

    def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        """Raises NotFoundError for a size the log never had, InputError for seq >= size."""
        self._check_size(size)
        if seq >= size:
            raise InputError(f"entry {seq} is not in the tree of size {size}")
        return self._run(lambda node: merkle.inclusion_proof(seq, size, node))

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """Raises NotFoundError for a size the log never had, InputError if first > second."""
        self._check_size(second)
        if not 0 < first <= second:
            raise InputError(f"no consistency proof from size {first} to size {second}")
        return self._run(lambda node: merkle.consistency_proof(first, second, node))

    def entries(
        self,
        *,
        start: int = 0,
        limit: int = 1000,
        partner: str | None = None,
        action: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[tuple[int, str]]:
        """(seq, canonical body) of the entries from `start` that match, in log order."""
        query = select(LedgerEntryRow.seq, LedgerEntryRow.body).where(
            col(LedgerEntryRow.seq) >= start
        )
        if partner is not None:
            query = query.join(
                LedgerPartnerRow, col(LedgerPartnerRow.seq) == col(LedgerEntryRow.seq)
            ).where(LedgerPartnerRow.partner_id == partner)
        if action is not None:
            query = query.where(LedgerEntryRow.action == action)
        if subject is not None:
            query = query.where(LedgerEntryRow.subject == subject)
        if since is not None:
            query = query.where(col(LedgerEntryRow.at) >= since)
        if until is not None:
            query = query.where(col(LedgerEntryRow.at) < until)
        rows = self._session.exec(query.order_by(col(LedgerEntryRow.seq)).limit(limit))
        return [(seq, body) for seq, body in rows]

    def latest_checkpoint(self) -> tuple[int, str] | None:
        """(size, signed note) of the newest checkpoint."""
        row = self._session.exec(
            select(CheckpointRow.size, CheckpointRow.note)
            .order_by(col(CheckpointRow.size).desc())
            .limit(1)
        ).first()
        return None if row is None else (row[0], row[1])

    def checkpoint(self, size: int) -> str:
        """The signed note of the checkpoint at `size`; raises NotFoundError."""
        row = self._session.get(CheckpointRow, size)
        if row is None:
            raise NotFoundError(f"no checkpoint at size {size}")
        return row.note

    def add_checkpoint(self, checkpoint: Checkpoint, note: str, *, at: datetime) -> None:
        """Store a checkpoint; one made concurrently for the same size is kept instead."""
        row = {"size": checkpoint.size, "root": checkpoint.root, "note": note, "created_at": at}
        insert_if_new(self._session, CheckpointRow, row)

    def _check_size(self, size: int) -> None:
        if not 0 < size <= self.size():
            raise NotFoundError(f"the log has no tree of size {size}")

    def _run(self, compute: Callable[[merkle.NodeReader], T]) -> T:
        """Run a Merkle computation with every node it needs fetched in one query."""
        nodes = self._nodes(merkle.nodes_needed(compute))

        def node(level: int, index: int) -> bytes:
            try:
                return nodes[(level, index)]
            except KeyError:
                raise LedgerIntegrityError(f"the log lacks Merkle node {level}/{index}") from None

        return compute(node)

    def _nodes(
        self, wanted: Sequence[tuple[int, int]] | set[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        found: dict[tuple[int, int], bytes] = {}
        for matching in pairs_in(col(LedgerNodeRow.level), col(LedgerNodeRow.index), wanted):
            rows = self._session.exec(
                select(LedgerNodeRow.level, LedgerNodeRow.index, LedgerNodeRow.hash).where(
                    matching
                )
            )
            found.update(((level, index), value) for level, index, value in rows)
        return found
