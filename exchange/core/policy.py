"""Who may learn what: the sharing decision for one report and one recipient.

Pure: the caller brings the report, the recipient, the policy version and the time. The
rules, in order (docs/policy.md has them as a table, and the tests hold an oracle of it):

1. the submitter always sees its own reports;                              rule `own`
2. admins and auditors see everything, through their own views;            rule `oversight`
3. a revoked or expired report is disclosed to nobody else;                `revoked`, `expired`
4. TLP:CLEAR: every partner;                                               `tlp:clear`
5. TLP:GREEN: partners reached by an agreement of the submitter (any TLP
   limit), or named in the report's recipients (directly or by group);     agreement id, `named`
6. TLP:AMBER: partners reached by an agreement whose limit allows AMBER,
   or named in the report's recipients (directly or by group);             agreement id, `named`
7. TLP:AMBER+STRICT: only partners named explicitly: an agreement whose
   `to` is the partner itself (not a group) allowing AMBER+STRICT, or the
   report's recipients naming the partner itself;                         agreement id, `named`
8. TLP:RED: only partners the report's recipients name directly, and
   never through feeds;                                                    `named`
9. anything else is denied.                                                `deny`

An agreement reaches a partner only for the categories it lists (all, if it lists none).
Attribution: a report is shown under a per-recipient pseudonym when its submitter asked for
anonymity or the agreement that allowed it says so (an agreement never unmasks); the case
reference is shown to the submitter and oversight only.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from exchange.core.claims import Attribution, Category, Tlp

_TLP_ORDER = {Tlp.CLEAR: 0, Tlp.GREEN: 1, Tlp.AMBER: 2, Tlp.AMBER_STRICT: 3, Tlp.RED: 4}


class Channel(StrEnum):
    """How the recipient would learn it: asking (lookup, TAXII) or being told (feeds, alerts)."""

    LOOKUP = "lookup"
    FEED = "feed"


@dataclass(frozen=True, slots=True)
class Agreement:
    """From a submitter to a partner or a group: which categories, up to which TLP."""

    id: str
    source: str  # the submitting partner's id
    to: str  # a partner id, or a group name
    max_tlp: Tlp = Tlp.GREEN
    categories: frozenset[Category] = frozenset()  # empty: every category
    attribution: Attribution | None = None  # overrides the report's preference

    def covers(self, category: Category) -> bool:
        return not self.categories or category in self.categories


@dataclass(frozen=True, slots=True)
class Policy:
    """One applied version of the exchange-wide policy document, partner names resolved."""

    version: int = 0
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)  # name -> partner ids
    agreements: tuple[Agreement, ...] = ()
    default_tlp: Mapping[str, Tlp] = field(default_factory=dict)  # submitter id -> TLP
    _by_source: dict[str, tuple[Agreement, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_source: dict[str, list[Agreement]] = {}
        for agreement in self.agreements:
            by_source.setdefault(agreement.source, []).append(agreement)
        index = {source: tuple(found) for source, found in by_source.items()}
        object.__setattr__(self, "_by_source", index)

    def agreements_from(self, source: str) -> tuple[Agreement, ...]:
        return self._by_source.get(source, ())


def pseudonym(secret: bytes, submitter: str, recipient: str) -> str:
    """A stable name for `submitter` as `recipient` sees it; unlinkable across recipients
    without `secret` (HMAC-SHA-256)."""
    digest = hmac.new(secret, f"{submitter}\n{recipient}".encode(), hashlib.sha256).hexdigest()
    return f"anonymous-{digest[:20]}"


@dataclass(frozen=True, slots=True)
class Shared:
    """What the decision needs to know about a report."""

    submitter: str
    category: Category
    tlp: Tlp
    recipients: frozenset[str] = frozenset()  # partner ids and group names
    attribution: Attribution = Attribution.NAMED
    valid_until: datetime | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class Viewer:
    id: str
    oversight: bool = False  # an admin or an auditor


@dataclass(frozen=True, slots=True)
class Decision:
    allow: bool
    rule: str  # `own`, `oversight`, an agreement id, `named`, `tlp:clear`, or a denial
    reason: str  # in words, for the explain API and the sharing log
    pseudonymous: bool = False
    show_case_reference: bool = False


def decide(
    report: Shared,
    viewer: Viewer,
    policy: Policy,
    *,
    now: datetime,
    channel: Channel = Channel.LOOKUP,
) -> Decision:
    if viewer.id == report.submitter:
        return Decision(True, "own", "the submitter sees its own reports", False, True)
    if viewer.oversight:
        return Decision(True, "oversight", "admins and auditors see every report", False, True)
    if report.revoked:
        return Decision(False, "revoked", "the submitter withdrew this report")
    if report.valid_until is not None and report.valid_until <= now:
        return Decision(False, "expired", f"expired at {report.valid_until.isoformat()}")
    anonymous = report.attribution is Attribution.ANONYMOUS
    if report.tlp is Tlp.CLEAR:
        return Decision(True, "tlp:clear", "TLP:CLEAR may go to every partner", anonymous)
    named = _named(report, viewer, policy, strict=report.tlp in (Tlp.AMBER_STRICT, Tlp.RED))
    if report.tlp is Tlp.RED:
        if channel is Channel.FEED:
            return Decision(False, "deny", "TLP:RED is never sent through feeds")
        if named:
            return Decision(True, "named", "the report names this partner (TLP:RED)", anonymous)
        return Decision(False, "deny", "TLP:RED goes only to partners the report names")
    level = f"TLP:{report.tlp.upper()}"
    agreement = _agreement(report, viewer, policy)
    if agreement is not None:
        # An agreement (the operator's) may hide a submitter, never unmask one who asked.
        hidden = anonymous or agreement.attribution is Attribution.ANONYMOUS
        limit = f"TLP:{agreement.max_tlp.upper()}"
        reason = f"agreement {agreement.id} shares {report.category} up to {limit}"
        return Decision(True, agreement.id, reason, hidden)
    if named:
        return Decision(True, "named", f"the report names this partner ({level})", anonymous)
    reason = f"no agreement or recipient list shares {level} {report.category} with this partner"
    return Decision(False, "deny", reason)


def masks(report: Shared, viewer: Viewer, policy: Policy, *, now: datetime) -> bool:
    """Whether `viewer` sees the submitter of `report` under a pseudonym whenever it may see
    the report at all: `decide`'s answer for the report as if it were live and looked up,
    else the report's own wish. Independent of time, withdrawal and channel, so an identity
    chosen from it never changes while the policy stays."""
    live = replace(report, revoked=False, valid_until=None)
    decision = decide(live, viewer, policy, now=now)
    return decision.pseudonymous if decision.allow else report.attribution is Attribution.ANONYMOUS


def _named(report: Shared, viewer: Viewer, policy: Policy, *, strict: bool) -> bool:
    if viewer.id in report.recipients:
        return True
    return not strict and any(
        viewer.id in policy.groups.get(name, frozenset()) for name in report.recipients
    )


def _agreement(report: Shared, viewer: Viewer, policy: Policy) -> Agreement | None:
    """The first agreement of the submitter that reaches the viewer for this report."""
    strict = report.tlp is Tlp.AMBER_STRICT
    for agreement in policy.agreements_from(report.submitter):
        if _TLP_ORDER[report.tlp] > _TLP_ORDER[agreement.max_tlp]:
            continue
        if not agreement.covers(report.category):
            continue
        if agreement.to == viewer.id or (
            not strict and viewer.id in policy.groups.get(agreement.to, frozenset())
        ):
            return agreement
    return None
