"""Flags (one per chain and canonical address) and the reports that partners made of them."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from exchange.core.claims import Attribution, Category, Tlp
from exchange.core.policy import Decision, Shared


@dataclass(frozen=True, slots=True)
class Report:
    """One partner's claim about a flag, as stored."""

    id: int
    partner_id: str
    category: Category
    tlp: Tlp
    indicator_id: str | None  # None when withheld from the viewer
    submission_id: str | None
    created_at: datetime
    confidence: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    case_reference: str | None = None
    asset: str | None = None
    recipients: frozenset[str] = frozenset()
    attribution: Attribution = Attribution.NAMED
    handling: str | None = None
    revoked_at: datetime | None = None

    def shared(self) -> Shared:
        """The facts the sharing decision needs."""
        return Shared(
            submitter=self.partner_id,
            category=self.category,
            tlp=self.tlp,
            recipients=self.recipients,
            attribution=self.attribution,
            valid_until=self.valid_until,
            revoked=self.revoked_at is not None,
        )


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


def disclose_all(
    decided: Sequence[tuple[Report, Decision]], alias: Callable[[str], str]
) -> tuple[Report, ...]:
    """The allowed reports of one flag as one recipient may see them.

    One submitter shows under one identity per flag: if any of its reports here must be
    pseudonymous, all are. Otherwise a name beside its pseudonym would unmask the
    pseudonym, and corroboration would count one partner twice.
    """
    hidden = {r.partner_id for r, d in decided if d.allow and d.pseudonymous}
    return tuple(
        disclose(
            report,
            replace(decision, pseudonymous=True) if report.partner_id in hidden else decision,
            alias=alias(report.partner_id),
        )
        for report, decision in decided
        if decision.allow
    )


def disclose(report: Report, decision: Decision, *, alias: str) -> Report:
    """`report` as its recipient may see it: `alias` for an anonymous submitter, and no case
    reference or submission id unless the decision shows them (own reports, oversight)."""
    if decision.show_case_reference:
        return report
    return replace(
        report,
        partner_id=alias if decision.pseudonymous else report.partner_id,
        case_reference=None,
        submission_id=None,
        indicator_id=None if decision.pseudonymous else report.indicator_id,
        recipients=frozenset(),
    )
