"""Flags (one per chain and canonical address) and the reports that partners made of them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from exchange.core.claims import Category, Tlp


@dataclass(frozen=True, slots=True)
class Report:
    """One partner's claim about a flag, as stored."""

    id: int
    partner_id: str
    category: Category
    tlp: Tlp
    indicator_id: str
    submission_id: str
    created_at: datetime
    confidence: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    case_reference: str | None = None
    asset: str | None = None


@dataclass(frozen=True, slots=True)
class Flag:
    """A flagged address with the reports one caller may see, and aggregates of just those."""

    chain: str
    address: str
    reports: tuple[Report, ...]

    @property
    def corroboration(self) -> int:
        """How many distinct partners vouch for this flag."""
        return len({report.partner_id for report in self.reports})

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(sorted({report.category for report in self.reports}))

    @property
    def first_seen(self) -> datetime:
        return min(report.created_at for report in self.reports)

    @property
    def last_seen(self) -> datetime:
        return max(report.created_at for report in self.reports)


def visible(flag_reports: Sequence[Report], *, viewer: str, sees_all: bool) -> tuple[Report, ...]:
    """The reports `viewer` may see until the sharing policy lands: its own; admins all."""
    return tuple(r for r in flag_reports if sees_all or r.partner_id == viewer)
