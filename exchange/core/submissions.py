"""A submission: the exact signed bytes received, who signed them, and each object's fate."""

from dataclasses import dataclass
from datetime import datetime

from exchange.core.dedup import Outcome, Status


@dataclass(frozen=True, slots=True)
class Submission:
    id: str
    partner_id: str
    bundle_id: str
    bundle_sha256: str  # SHA-256 of the bundle's RFC 8785 form: the signed payload
    signer_kids: tuple[str, ...]
    received_at: datetime
    outcomes: tuple[Outcome, ...]

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status is status)
