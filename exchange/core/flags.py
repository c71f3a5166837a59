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
    decided: Sequence[tuple[Report, Decision]],
    alias: Callable[[str], str],
    masks: Callable[[Report], bool],
) -> tuple[Report, ...]:
    """The allowed reports of one flag as one recipient may see them.

    `decided` holds every report of the flag with its decision for the recipient (allowed
    or not); `masks(report)` says whether the recipient sees that report's submitter under a
    pseudonym whenever it may see it (policy.masks: independent of time and withdrawal).

    One submitter shows under one identity per flag, and under the same one forever: its
    first report on the flag decides. A name beside its pseudonym, or a report re-sent
    under a pseudonym after it was shown named, would tie the pseudonym to the name and
    unmask every report the submitter made anonymously to this recipient. So if the first
    report masks the submitter, all its reports here are pseudonymous; if not, its reports
    that must be pseudonymous are withheld from this recipient on this flag.
    """
    first: dict[str, Report] = {}
    for report, _ in sorted(decided, key=lambda pair: (pair[0].created_at, pair[0].id)):
        first.setdefault(report.partner_id, report)
    shown = []
    for report, decision in decided:
        if not decision.allow:
            continue
        if decision.show_case_reference:  # the submitter itself, or oversight
            shown.append(report)
        elif masks(first[report.partner_id]):
            pseudonymous = replace(decision, pseudonymous=True)
            shown.append(disclose(report, pseudonymous, alias=alias(report.partner_id)))
        elif not decision.pseudonymous:
            shown.append(disclose(report, decision, alias=alias(report.partner_id)))
    return tuple(shown)


def disclose(report: Report, decision: Decision, *, alias: str) -> Report:
    """`report` as its recipient may see it: `alias` for an anonymous submitter, and no case
    reference or submission id unless the decision shows them (own reports, oversight)."""
    if decision.show_case_reference:
        return report
    if decision.pseudonymous:
        # Times to the day: an exact instant would match the submitter's named reports
        # of the same submission, on other flags.
        return replace(
            report,
            partner_id=alias,
            case_reference=None,
            submission_id=None,
            indicator_id=None,
            recipients=frozenset(),
            created_at=_day(report.created_at),
            valid_from=None if report.valid_from is None else _day(report.valid_from),
        )
    return replace(report, case_reference=None, submission_id=None, recipients=frozenset())


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
