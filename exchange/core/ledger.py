"""The sharing log's entries and checkpoints: what was done, by whom, to whose data, when.

An entry is an RFC 8785 (JCS) canonical JSON object; its leaf hash in the Merkle tree is
`SHA-256(0x00 || entry)`. Checkpoints follow C2SP tlog-checkpoint: the log's origin, its
size and its root hash, one per line, as the body of a signed note.
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from exchange.core import jcs
from exchange.errors import LedgerIntegrityError


class Action(StrEnum):
    """`<actor>:<object>:<verb>`, so the log reads and greps like prose."""

    PARTNER_ADDED = "operator:partner:add"
    KEY_REGISTERED = "operator:key:register"
    KEY_REVOKED = "operator:key:revoke"
    TOKEN_ISSUED = "operator:token:issue"  # noqa: S105 (an action name, not a secret)
    POLICY_APPLIED = "operator:policy:apply"
    BUNDLE_SUBMITTED = "partner:bundle:submit"
    REPORT_REVOKED = "partner:report:revoke"
    LOG_READ = "auditor:log:read"
    SUBSCRIPTION_CHANGED = "partner:subscription:change"
    WATCHLIST_UPLOADED = "partner:watchlist:upload"
    REPORTS_DISCLOSED = "exchange:report:disclose"  # alerts and revocation notices queued
    ALERTS_DELIVERED = "exchange:alert:deliver"


@dataclass(frozen=True, slots=True)
class Entry:
    action: Action
    at: datetime
    actor: str  # who did it: a partner id, or "operator"
    subject: str  # what it is about: a submission id, a kid, a partner id
    partners: tuple[str, ...] = ()  # whose data or standing it concerns (they may read it)
    details: Mapping[str, Any] = field(default_factory=dict)

    def canonical(self) -> bytes:
        """The exact bytes the Merkle leaf commits to."""
        return jcs.dumps(self.to_json())

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "at": self.at.astimezone(UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            "actor": self.actor,
            "subject": self.subject,
            "partners": sorted(set(self.partners)),
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """The C2SP tlog-checkpoint note body: origin, size, base64 root, each on a line."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(body: str) -> Checkpoint:
    """Read a checkpoint note body; raises LedgerIntegrityError if it is not one."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[1].isdigit():
        raise LedgerIntegrityError("not a tlog checkpoint: origin, size, root hash lines")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise LedgerIntegrityError("checkpoint root hash is not base64") from None
    if len(root) != 32:
        raise LedgerIntegrityError("checkpoint root hash is not 32 bytes")
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root)
