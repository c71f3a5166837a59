"""The sharing log as a use case: record, checkpoint, read, prove. The caller commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from exchange.core.ledger import Action, Checkpoint, Entry
from exchange.core.partners import Partner, Role
from exchange.signatures import SigningKey, sign_note
from exchange.store.ledger import LedgerStore


@dataclass(frozen=True, slots=True)
class LogKey:
    """The log's name (its checkpoint origin, also the signed-note key name) and its key."""

    origin: str
    key: SigningKey


@dataclass(frozen=True, slots=True)
class EntryFilter:
    start: int = 0
    limit: int = 1000
    partner: str | None = None
    action: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def record(session: Session, *entries: Entry) -> list[int]:
    """Append entries in the caller's transaction: no change without its entry."""
    return LedgerStore(session).append(entries)


def checkpoint(session: Session, log: LogKey, *, now: datetime) -> str:
    """The signed checkpoint of the log as it stands; a new one if it grew."""
    store = LedgerStore(session)
    size = store.size()
    latest = store.latest_checkpoint()
    if latest is not None and latest[0] == size:
        return latest[1]
    head = Checkpoint(origin=log.origin, size=size, root=store.root(size))
    note = sign_note(head.body(), log.origin, log.key)
    store.add_checkpoint(head, note, at=now)
    return store.checkpoint(size)


def read_entries(
    session: Session, viewer: Partner, wanted: EntryFilter, *, now: datetime
) -> list[tuple[int, str]]:
    """Entries for auditors and admins; a partner reads only entries about itself.

    An auditor's read is itself recorded, after what it read.
    """
    oversight = viewer.has(Role.AUDITOR) or viewer.has(Role.ADMIN)
    partner = wanted.partner if oversight else viewer.id
    found = LedgerStore(session).entries(
        start=wanted.start,
        limit=wanted.limit,
        partner=partner,
        action=wanted.action,
        subject=wanted.subject,
        since=wanted.since,
        until=wanted.until,
    )
    if viewer.has(Role.AUDITOR):
        details = {
            "start": wanted.start,
            "returned": len(found),
            "filter": {
                name: value
                for name, value in (
                    ("partner", wanted.partner),
                    ("action", wanted.action),
                    ("subject", wanted.subject),
                    ("since", wanted.since and wanted.since.isoformat()),
                    ("until", wanted.until and wanted.until.isoformat()),
                )
                if value is not None
            },
        }
        record(
            session,
            Entry(Action.LOG_READ, now, viewer.id, "log", partners=(viewer.id,), details=details),
        )
    return found


def inclusion_proof(session: Session, seq: int, size: int) -> Sequence[bytes]:
    return LedgerStore(session).inclusion_proof(seq, size)


def consistency_proof(session: Session, first: int, second: int) -> Sequence[bytes]:
    return LedgerStore(session).consistency_proof(first, second)
