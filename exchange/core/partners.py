"""Partners (organisations), their roles, and the keys they sign with."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    SUBMITTER = "submitter"
    SUBSCRIBER = "subscriber"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Partner:
    id: str  # the partner's STIX identity id: `created_by_ref` of everything it submits
    name: str
    roles: frozenset[Role]
    created_at: datetime

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class PartnerKey:
    """A partner's Ed25519 public key, valid from `not_before` to `not_after` unless revoked."""

    kid: str
    partner_id: str
    public_key: bytes
    created_at: datetime
    not_before: datetime | None = None
    not_after: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def unusable_at(self, at: datetime) -> str | None:
        """Why this key cannot vouch for something signed at `at`, or None if it can."""
        if self.revoked_at is not None:
            return f"key {self.kid} was revoked ({self.revoked_reason or 'no reason given'})"
        if self.not_before is not None and at < self.not_before:
            return f"key {self.kid} is not valid before {self.not_before.isoformat()}"
        if self.not_after is not None and at > self.not_after:
            return f"key {self.kid} expired at {self.not_after.isoformat()}"
        return None
