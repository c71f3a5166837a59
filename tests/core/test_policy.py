"""decide() against the issue's sharing table: row by row, and by property against an oracle.

`oracle` is the table from the issue, written as literally as possible and, on purpose, not
in the shape of exchange.core.policy: for each TLP row it lists every way the table entitles a
partner to a report, then takes the first. tests/web/test_no_leak.py judges the HTTP API by it.

Reading of the table (the decisions recorded in exchange/core/policy.py's docstring):
- an agreement reaches a partner when its `to` is the partner or a group holding it, applies
  to its categories (all if none) and to reports at or below its `max_tlp`; never to RED;
- "named" is the report's recipients naming the partner, directly or through a group; for
  AMBER+STRICT and RED only directly (and for AMBER+STRICT an agreement to the partner itself);
- when several grants apply, the first agreement in the document decides, then naming;
- a report is pseudonymous when it asked to be or when the agreement that allowed it says
  anonymous; the submitter and oversight see names and the case reference.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.claims import Attribution, Category, Tlp
from exchange.core.policy import (
    Agreement,
    Channel,
    Decision,
    Policy,
    Shared,
    Viewer,
    decide,
    pseudonym,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T = TypeVar("T")
ANONYMOUS, NAMED = Attribution.ANONYMOUS, Attribution.NAMED
LOOKUP, FEED = Channel.LOOKUP, Channel.FEED
CLEAR, GREEN, AMBER, STRICT, RED = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


# --- The oracle: the table, literally -------------------------------------------------

# TLP 2.0, least to most restricted.
LEVEL = {CLEAR: 0, GREEN: 1, AMBER: 2, STRICT: 3, RED: 4}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the table says: allowed or not, by which rule, and what is hidden."""

    allow: bool
    rule: str  # own, oversight, tlp:clear, an agreement id, named; revoked, expired, deny
    pseudonymous: bool = False
    case_reference: bool = False


def oracle(
    report: Shared, viewer: Viewer, policy: Policy, *, now: datetime, channel: Channel
) -> Verdict:
    """May `viewer` see `report`? The issue's table, one row at a time."""
    # "the submitter always sees its own reports; admins and auditors see everything"
    if viewer.id == report.submitter:
        return Verdict(True, "own", pseudonymous=False, case_reference=True)
    if viewer.oversight:
        return Verdict(True, "oversight", pseudonymous=False, case_reference=True)
    # "a revoked report ... stops being disclosed"; "an expired report (valid_until past)"
    if report.revoked:
        return Verdict(False, "revoked")
    if report.valid_until is not None and not now < report.valid_until:
        return Verdict(False, "expired")

    def holds(group: str) -> bool:
        return viewer.id in policy.groups.get(group, frozenset())

    named_itself = viewer.id in report.recipients
    named_through_a_group = any(holds(name) for name in report.recipients)

    def agreements(*, to_the_partner_itself: bool) -> list[Agreement]:
        """The submitter's agreements that reach the viewer and apply to this report."""
        return [
            agreement
            for agreement in policy.agreements
            if agreement.source == report.submitter
            and (report.category in agreement.categories or not agreement.categories)
            and report.tlp is not RED
            and LEVEL[report.tlp] <= LEVEL[agreement.max_tlp]
            and (agreement.to == viewer.id or (not to_the_partner_itself and holds(agreement.to)))
        ]

    grants: list[Agreement | str]
    if report.tlp is CLEAR:  # "every partner"
        grants = ["tlp:clear"]
    elif report.tlp in (GREEN, AMBER):
        # GREEN: "every partner reached by an agreement of the submitter, or named"; AMBER:
        # "only partners reached by an agreement whose TLP limit allows AMBER, or named".
        # Alike, since an agreement applies only up to its limit.
        grants = [*agreements(to_the_partner_itself=False)]
        grants += ["named"] if named_itself or named_through_a_group else []
    elif report.tlp is STRICT:  # "only partners named explicitly ... never via a group"
        grants = [*agreements(to_the_partner_itself=True)]
        grants += ["named"] if named_itself else []
    else:  # RED: "only partners named in the report's own recipients, and never through feeds"
        grants = ["named"] if named_itself and channel is not FEED else []

    if not grants:  # "a deny is the default: anything not granted is not shared"
        return Verdict(False, "deny")
    asked_anonymous = report.attribution is ANONYMOUS
    first = grants[0]
    if isinstance(first, Agreement):
        says_anonymous = first.attribution is ANONYMOUS
        return Verdict(True, first.id, pseudonymous=says_anonymous or asked_anonymous)
    return Verdict(True, first, pseudonymous=asked_anonymous)


# --- Property: decide() agrees with the oracle on random worlds ----------------------------------

PARTNERS = tuple(f"identity--{uuid.UUID(int=n)}" for n in range(1, 6))
GROUPS = ("forensic-firms", "banks", "ngos")
UNKNOWN_GROUP = "no-such-group"
CATEGORIES = (Category.HUMAN_TRAFFICKING, Category.SANCTIONS, Category.SCAM)
AGREEMENT_LIMITS = (CLEAR, GREEN, AMBER, STRICT)  # what the policy schema lets `max_tlp` say
VALIDITIES = (*[None] * 6, NOW + timedelta(days=1), NOW - timedelta(days=1), NOW)


@dataclass(frozen=True, slots=True)
class World:
    policy: Policy
    report: Shared
    viewer: Viewer
    channel: Channel

    def decision(self) -> Decision:
        return decide(self.report, self.viewer, self.policy, now=NOW, channel=self.channel)

    def verdict(self) -> Verdict:
        return oracle(self.report, self.viewer, self.policy, now=NOW, channel=self.channel)


def _subsets(items: tuple[T, ...], mostly_small: bool = False) -> st.SearchStrategy[frozenset[T]]:
    """Subsets of `items` as bit masks: far cheaper to generate than st.frozensets."""
    masks = st.integers(0, 2 ** len(items) - 1)
    if mostly_small:  # each item in about one subset of four
        masks = st.tuples(masks, masks).map(lambda pair: pair[0] & pair[1])
    return masks.map(lambda mask: frozenset(x for n, x in enumerate(items) if mask >> n & 1))


_PARTNER = st.sampled_from(PARTNERS)
_TARGETS = (*PARTNERS, *GROUPS, UNKNOWN_GROUP)
_MEMBERS = st.tuples(*(st.tuples(_subsets(PARTNERS), st.booleans()) for _ in GROUPS))
_AGREEMENTS = st.lists(
    st.tuples(
        st.integers(0, 3),  # 0: from any partner; else from the report's submitter
        _PARTNER,
        st.integers(0, 2),  # to: 0, the viewer itself; 1, a group; 2, any partner or group
        st.sampled_from(GROUPS),
        st.sampled_from(_TARGETS),
        # RED, were it ever stored, allows no RED; AMBER+STRICT twice, its rules are the finest
        st.sampled_from((*AGREEMENT_LIMITS, STRICT, RED)),
        _subsets(CATEGORIES, mostly_small=True),
        st.sampled_from((None, NAMED, NAMED, ANONYMOUS)),
    ),
    max_size=5,
)
_CATEGORY = st.sampled_from(CATEGORIES)
_TLP = st.sampled_from(list(Tlp))
_RECIPIENTS = st.tuples(
    _subsets(_TARGETS, mostly_small=True),
    st.integers(0, 2).map(lambda n: n == 0),  # names the viewer itself
    st.sampled_from((None, None, *GROUPS)),  # names a group
)
_ATTRIBUTION = st.sampled_from((NAMED, ANONYMOUS))
_VALIDITY = st.sampled_from(VALIDITIES)
_ONE_IN_EIGHT = st.integers(0, 7).map(lambda n: n == 0)
_ONE_IN_SIXTEEN = st.integers(0, 15).map(lambda n: n == 0)
_OTHER = st.integers(1, len(PARTNERS) - 1)
_CHANNEL = st.sampled_from(list(Channel))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Groups, agreements, a report, who asks and how. Skewed towards examples that involve
    the policy: the viewer is mostly not the submitter, is in about half the groups, and
    agreements lean towards the report's submitter and the viewer."""
    submitter = draw(_PARTNER)
    own = draw(_ONE_IN_EIGHT)
    other = PARTNERS[(PARTNERS.index(submitter) + draw(_OTHER)) % len(PARTNERS)]
    viewer = Viewer(submitter if own else other, oversight=draw(_ONE_IN_EIGHT))
    groups = {
        name: members | ({viewer.id} if joins else set())
        for name, (members, joins) in zip(GROUPS, draw(_MEMBERS), strict=True)
    }
    agreements = tuple(
        Agreement(
            id=f"agreement-{n}",
            source=other if from_any == 0 else submitter,
            to=(viewer.id, group, target)[to],
            max_tlp=limit,
            categories=categories,
            attribution=attribution,
        )
        for n, (from_any, other, to, group, target, limit, categories, attribution) in enumerate(
            draw(_AGREEMENTS)
        )
    )
    recipients, names_viewer, group = draw(_RECIPIENTS)
    report = Shared(
        submitter=submitter,
        category=draw(_CATEGORY),
        tlp=draw(_TLP),
        recipients=frozenset(recipients)
        | ({viewer.id} if names_viewer else set())
        | ({group} if group else set()),
        attribution=draw(_ATTRIBUTION),
        valid_until=draw(_VALIDITY),
        revoked=draw(_ONE_IN_SIXTEEN),
    )
    return World(Policy(1, groups, agreements), report, viewer, draw(_CHANNEL))


def _deciding(world: World, verdict: Verdict) -> Agreement | None:
    return next((a for a in world.policy.agreements if a.id == verdict.rule), None)


def _granted(tlp: Tlp, how: str) -> Callable[[World, Verdict], bool]:
    """`how`: "named", "agreement" (to the partner itself) or "group agreement"."""

    def holds(world: World, verdict: Verdict) -> bool:
        if world.report.tlp is not tlp or not verdict.allow:
            return False
        deciding = _deciding(world, verdict)
        if how == "named":
            return verdict.rule == "named"
        return deciding is not None and (deciding.to in GROUPS) == (how == "group agreement")

    return holds


def _strict_offered_through_a_group_agreement(world: World, verdict: Verdict) -> bool:
    """An AMBER+STRICT report that an agreement to a group holding the viewer would cover."""
    report, groups = world.report, world.policy.groups
    return (
        report.tlp is STRICT
        and verdict.rule not in ("own", "oversight", "revoked", "expired")
        and any(
            a.source == report.submitter
            and a.max_tlp in (STRICT, RED)
            and (report.category in a.categories or not a.categories)
            and world.viewer.id in groups.get(a.to, frozenset())
            for a in world.policy.agreements
        )
    )


def _red_named_on_the_feed(world: World, verdict: Verdict) -> bool:
    report = world.report
    named = world.viewer.id in report.recipients
    return report.tlp is RED and world.channel is FEED and named and verdict.rule == "deny"


def _anonymous_through_a_named_agreement(world: World, verdict: Verdict) -> bool:
    deciding = _deciding(world, verdict)
    return (
        world.report.attribution is ANONYMOUS
        and deciding is not None
        and deciding.attribution is NAMED
    )


# Every row of the table the random worlds must reach, or the property proves little.
ROWS: dict[str, Callable[[World, Verdict], bool]] = {
    "own": lambda _, verdict: verdict.rule == "own",
    "oversight": lambda _, verdict: verdict.rule == "oversight",
    "revoked": lambda _, verdict: verdict.rule == "revoked",
    "expired": lambda _, verdict: verdict.rule == "expired",
    "clear": lambda _, verdict: verdict.rule == "tlp:clear",
    "green through an agreement to the partner": _granted(GREEN, "agreement"),
    "green through an agreement to a group": _granted(GREEN, "group agreement"),
    "green named": _granted(GREEN, "named"),
    "amber through an agreement to the partner": _granted(AMBER, "agreement"),
    "amber through an agreement to a group": _granted(AMBER, "group agreement"),
    "amber named": _granted(AMBER, "named"),
    "amber+strict through an agreement to the partner": _granted(STRICT, "agreement"),
    "amber+strict named": _granted(STRICT, "named"),
    "amber+strict a group agreement would cover": _strict_offered_through_a_group_agreement,
    "red named": _granted(RED, "named"),
    "red named, on the feed": _red_named_on_the_feed,
    "deny": lambda _, verdict: verdict.rule == "deny",
    "pseudonymous": lambda _, verdict: verdict.allow and verdict.pseudonymous,
    "anonymous report, agreement saying named": _anonymous_through_a_named_agreement,
}


def test_decide_agrees_with_the_oracle_on_random_policies_reports_and_viewers() -> None:
    """Allow or deny, the deciding rule, the case reference and the pseudonym, for 2,000
    random worlds; distinct disagreements are reported separately."""
    reached: set[str] = set()

    @settings(max_examples=2000, deadline=None)
    @given(worlds())
    def agrees(world: World) -> None:
        decision, verdict = world.decision(), world.verdict()
        reached.update(row for row, holds in ROWS.items() if holds(world, verdict))
        assert (decision.allow, decision.rule) == (verdict.allow, verdict.rule), decision.reason
        assert decision.show_case_reference == verdict.case_reference
        if verdict.allow:
            assert decision.pseudonymous == verdict.pseudonymous, decision.reason

    agrees()
    assert reached == set(ROWS), f"the random worlds never reached {set(ROWS) - reached}"


# --- The table, row by row -------------------------------------------------------------------

NGO, FIRM, BANK, VASP, STRANGER = PARTNERS
ADMIN = "identity--00000000-0000-0000-0000-0000000000ad"
FORENSIC_FIRMS = "forensic-firms"  # FIRM and BANK
GROUP = {FORENSIC_FIRMS: frozenset({FIRM, BANK})}
PAST, FUTURE = NOW - timedelta(days=30), NOW + timedelta(days=30)
HT = Category.HUMAN_TRAFFICKING


NAMES = {NGO: "ngo", FIRM: "firm", BANK: "bank", VASP: "vasp", FORENSIC_FIRMS: "firms"}


def agreement(to: str, max_tlp: Tlp, **changes: object) -> Agreement:
    """An agreement from the NGO, with an id that says where it goes."""
    made = Agreement(f"ngo-to-{NAMES[to]}-{max_tlp}", NGO, to, max_tlp)
    return replace(made, **changes)  # type: ignore[arg-type]


def report(tlp: Tlp, *recipients: str, **changes: object) -> Shared:
    return replace(Shared(NGO, HT, tlp, frozenset(recipients)), **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Row:
    report: Shared
    viewer: str
    allow: bool
    rule: str
    agreements: tuple[Agreement, ...] = ()
    channel: Channel = LOOKUP
    oversight: bool = False


TO_FIRMS_AMBER = agreement(FORENSIC_FIRMS, AMBER)
TO_FIRMS_STRICT = agreement(FORENSIC_FIRMS, STRICT)
TO_FIRM_STRICT = agreement(FIRM, STRICT)
TO_FIRM_AMBER = agreement(FIRM, AMBER)
TO_FIRM_HT_AMBER = agreement(FIRM, AMBER, categories=frozenset({HT}))

TABLE = [
    # The submitter and oversight.
    pytest.param(
        Row(report(RED, revoked=True, valid_until=PAST), NGO, True, "own"),
        id="the submitter sees its own red report even revoked and expired",
    ),
    pytest.param(
        Row(report(RED), NGO, True, "own", channel=FEED),
        id="the submitter sees its own red report even on the feed",
    ),
    pytest.param(
        Row(report(RED), ADMIN, True, "oversight", oversight=True),
        id="an admin or auditor sees a red report that names nobody",
    ),
    pytest.param(
        Row(report(AMBER, revoked=True), ADMIN, True, "oversight", oversight=True),
        id="an admin or auditor sees a revoked report",
    ),
    pytest.param(
        Row(report(AMBER, valid_until=PAST), ADMIN, True, "oversight", oversight=True),
        id="an admin or auditor sees an expired report",
    ),
    # TLP:CLEAR
    pytest.param(
        Row(report(CLEAR), STRANGER, True, "tlp:clear"),
        id="a clear report goes to a partner no agreement or recipient mentions",
    ),
    pytest.param(
        Row(report(CLEAR), STRANGER, True, "tlp:clear", channel=FEED),
        id="a clear report goes through feeds too",
    ),
    # TLP:GREEN
    pytest.param(
        Row(report(GREEN), BANK, True, TO_FIRMS_AMBER.id, (TO_FIRMS_AMBER,)),
        id="a green report reaches a partner through an agreement to its group",
    ),
    pytest.param(
        Row(report(GREEN), FIRM, True, TO_FIRM_AMBER.id, (TO_FIRM_AMBER,)),
        id="a green report reaches a partner through an agreement to itself",
    ),
    pytest.param(
        Row(report(GREEN, FORENSIC_FIRMS), BANK, True, "named"),
        id="a green report reaches a partner its recipients name through a group",
    ),
    pytest.param(
        Row(report(GREEN, VASP), VASP, True, "named"),
        id="a green report reaches a partner its recipients name directly",
    ),
    pytest.param(
        Row(report(GREEN, FORENSIC_FIRMS), STRANGER, False, "deny", (TO_FIRMS_AMBER,)),
        id="a green report does not reach a partner no agreement or recipient reaches",
    ),
    pytest.param(
        Row(report(GREEN), FIRM, False, "deny", (agreement(FIRM, CLEAR),)),
        id="a green report does not pass an agreement limited to clear",
    ),
    pytest.param(
        Row(
            report(GREEN),
            FIRM,
            False,
            "deny",
            (agreement(FIRM, AMBER, categories=frozenset({Category.SCAM})),),
        ),
        id="a green report does not pass an agreement for other categories",
    ),
    pytest.param(
        Row(report(GREEN), FIRM, False, "deny", (agreement(FIRM, AMBER, source=VASP),)),
        id="a green report does not pass another submitter's agreement",
    ),
    pytest.param(
        Row(report(GREEN), FIRM, True, TO_FIRM_HT_AMBER.id, (TO_FIRM_HT_AMBER,)),
        id="a green report passes an agreement listing its category",
    ),
    # TLP:AMBER
    pytest.param(
        Row(report(AMBER), BANK, True, TO_FIRMS_AMBER.id, (TO_FIRMS_AMBER,)),
        id="an amber report passes a group agreement whose limit allows amber",
    ),
    pytest.param(
        Row(report(AMBER), BANK, False, "deny", (agreement(FORENSIC_FIRMS, GREEN),)),
        id="an amber report does not pass an agreement limited to green",
    ),
    pytest.param(
        Row(report(AMBER, FORENSIC_FIRMS), BANK, True, "named"),
        id="an amber report reaches a partner its recipients name through a group",
    ),
    pytest.param(
        Row(report(AMBER, FIRM), FIRM, True, "named"),
        id="an amber report reaches a partner its recipients name directly",
    ),
    pytest.param(
        Row(report(AMBER, FIRM), BANK, False, "deny"),
        id="an amber report does not reach a partner nobody named",
    ),
    # TLP:AMBER+STRICT
    pytest.param(
        Row(report(STRICT), FIRM, True, TO_FIRM_STRICT.id, (TO_FIRM_STRICT,)),
        id="an amber+strict report passes an agreement to the partner itself up to amber+strict",
    ),
    pytest.param(
        Row(report(STRICT), FIRM, False, "deny", (TO_FIRMS_STRICT,)),
        id="an amber+strict report never passes an agreement to a group",
    ),
    pytest.param(
        Row(report(STRICT), FIRM, False, "deny", (TO_FIRM_AMBER,)),
        id="an amber+strict report does not pass an agreement limited to amber",
    ),
    pytest.param(
        Row(report(STRICT, FIRM), FIRM, True, "named"),
        id="an amber+strict report reaches a partner its recipients name directly",
    ),
    pytest.param(
        Row(report(STRICT, FORENSIC_FIRMS), FIRM, False, "deny"),
        id="an amber+strict report never reaches a partner named through a group",
    ),
    # TLP:RED
    pytest.param(
        Row(report(RED, FIRM), FIRM, True, "named"),
        id="a red report reaches a partner its recipients name directly when it asks",
    ),
    pytest.param(
        Row(report(RED, FIRM), FIRM, False, "deny", channel=FEED),
        id="a red report never goes through feeds even to a named partner",
    ),
    pytest.param(
        Row(report(RED, FORENSIC_FIRMS), FIRM, False, "deny"),
        id="a red report never reaches a partner named through a group",
    ),
    pytest.param(
        Row(report(RED), FIRM, False, "deny", (TO_FIRM_STRICT,)),
        id="a red report passes no agreement even one to the partner itself",
    ),
    # Revoked and expired.
    pytest.param(
        Row(report(CLEAR, FIRM, revoked=True), FIRM, False, "revoked"),
        id="a revoked report is disclosed to nobody but its submitter and oversight",
    ),
    pytest.param(
        Row(report(CLEAR, FIRM, valid_until=PAST), FIRM, False, "expired"),
        id="an expired report is disclosed to nobody but its submitter and oversight",
    ),
    pytest.param(
        Row(report(CLEAR, FIRM, valid_until=NOW), FIRM, False, "expired"),
        id="a report stops being disclosed at the instant its validity ends",
    ),
    pytest.param(
        Row(report(AMBER, FIRM, valid_until=FUTURE), FIRM, True, "named"),
        id="a report valid until a later date is still disclosed",
    ),
    # The default.
    pytest.param(
        Row(report(GREEN), FIRM, False, "deny"),
        id="without an agreement or recipients a green report is shared with nobody",
    ),
]


@pytest.mark.parametrize("row", TABLE)
def test_the_sharing_table(row: Row) -> None:
    policy = Policy(1, GROUP, row.agreements)
    viewer = Viewer(row.viewer, oversight=row.oversight)
    decision = decide(row.report, viewer, policy, now=NOW, channel=row.channel)
    assert (decision.allow, decision.rule) == (row.allow, row.rule), decision.reason
    verdict = oracle(row.report, viewer, policy, now=NOW, channel=row.channel)
    assert (verdict.allow, verdict.rule) == (row.allow, row.rule)  # the oracle reads it alike


# --- Attribution and the case reference --------------------------------------------------------


@pytest.mark.parametrize(
    ("shared", "deciding", "viewer", "pseudonymous"),
    [
        pytest.param(report(AMBER), TO_FIRM_AMBER, FIRM, False, id="a named report shows names"),
        pytest.param(
            report(AMBER, attribution=ANONYMOUS),
            TO_FIRM_AMBER,
            FIRM,
            True,
            id="a report asking for anonymity is pseudonymous through an agreement",
        ),
        pytest.param(
            report(AMBER),
            agreement(FIRM, AMBER, attribution=ANONYMOUS),
            FIRM,
            True,
            id="an agreement saying anonymous hides the submitter of a named report",
        ),
        pytest.param(
            report(AMBER, attribution=ANONYMOUS),
            agreement(FIRM, AMBER, attribution=NAMED),
            FIRM,
            True,
            id="an agreement saying named does not unmask a submitter who asked for anonymity",
        ),
        pytest.param(
            report(CLEAR, attribution=ANONYMOUS),
            None,
            STRANGER,
            True,
            id="an anonymous clear report is pseudonymous",
        ),
        pytest.param(
            report(RED, FIRM, attribution=ANONYMOUS),
            None,
            FIRM,
            True,
            id="an anonymous report to a named partner is pseudonymous",
        ),
    ],
)
def test_a_report_is_pseudonymous_when_it_or_the_agreement_that_allowed_it_asks(
    shared: Shared, deciding: Agreement | None, viewer: str, pseudonymous: bool
) -> None:
    policy = Policy(1, GROUP, () if deciding is None else (deciding,))
    decision = decide(shared, Viewer(viewer), policy, now=NOW)
    assert decision.allow, decision.reason
    if deciding is not None:
        assert decision.rule == deciding.id
    assert decision.pseudonymous is pseudonymous
    assert decision.show_case_reference is False


@pytest.mark.parametrize(
    "viewer",
    [
        pytest.param(Viewer(NGO), id="its submitter"),
        pytest.param(Viewer(ADMIN, True), id="oversight"),
    ],
)
def test_only_the_submitter_and_oversight_see_names_and_the_case_reference(viewer: Viewer) -> None:
    hidden = agreement(FIRM, AMBER, attribution=ANONYMOUS)
    shared = report(AMBER, attribution=ANONYMOUS)
    decision = decide(shared, viewer, Policy(1, GROUP, (hidden,)), now=NOW)
    assert (decision.allow, decision.pseudonymous, decision.show_case_reference) == (
        True,
        False,
        True,
    )
    seen_by_firm = decide(shared, Viewer(FIRM), Policy(1, GROUP, (hidden,)), now=NOW)
    assert (seen_by_firm.allow, seen_by_firm.show_case_reference) == (True, False)


# --- Pseudonyms --------------------------------------------------------------------------------

SECRET = bytes(range(32))


def test_a_pseudonym_is_stable_for_one_submitter_and_one_recipient() -> None:
    again = pseudonym(bytes(range(32)), f"identity--{uuid.UUID(int=1)}", PARTNERS[1])
    assert pseudonym(SECRET, NGO, FIRM) == again
    assert again.startswith("anonymous-")  # says what it is, not who


def test_each_recipient_sees_a_different_pseudonym_for_one_submitter() -> None:
    recipients = [f"identity--{uuid.UUID(int=n)}" for n in range(100, 400)]
    names = {pseudonym(SECRET, NGO, recipient) for recipient in recipients}
    assert len(names) == len(recipients)


def test_different_submitters_get_different_pseudonyms_for_one_recipient() -> None:
    submitters = [f"identity--{uuid.UUID(int=n)}" for n in range(100, 400)]
    names = {pseudonym(SECRET, submitter, FIRM) for submitter in submitters}
    assert len(names) == len(submitters)


def test_another_secret_gives_other_pseudonyms() -> None:
    assert pseudonym(SECRET, NGO, FIRM) != pseudonym(SECRET[::-1], NGO, FIRM)
    assert pseudonym(SECRET, NGO, FIRM) != pseudonym(b"", NGO, FIRM)


def test_submitter_and_recipient_are_not_interchangeable() -> None:
    assert pseudonym(SECRET, NGO, FIRM) != pseudonym(SECRET, FIRM, NGO)


@pytest.mark.parametrize(
    "submitter",
    [NGO, "identity--6f1c2a9e-0b4d-4c3e-8a7f-5d2e1b0c9a8f", "ngo", "x" * 200],
)
def test_a_pseudonym_reveals_nothing_obvious_of_the_submitter(submitter: str) -> None:
    name = pseudonym(SECRET, submitter, FIRM)
    assert submitter not in name
    assert submitter.removeprefix("identity--") not in name
    assert FIRM.removeprefix("identity--") not in name
    # Same shape whatever the submitter: not even its length shows.
    assert len(name) == len(pseudonym(SECRET, NGO, FIRM))
    assert name != pseudonym(SECRET, submitter, NGO)
