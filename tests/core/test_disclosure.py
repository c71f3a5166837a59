"""disclose_all: one identity per submitter per flag, for good, whatever arrives later."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.claims import Category, Tlp
from exchange.core.flags import Report, disclose_all
from exchange.core.policy import Decision

T0 = datetime(2026, 11, 20, 10, 30, 15, tzinfo=UTC)
NGO, FIRM = "identity--00000000-0000-4000-8000-000000000001", "identity--firm"


def stored(id_: int, partner: str = NGO, *, anonymous: bool = False) -> Report:
    return Report(
        id=id_,
        partner_id=partner,
        category=Category.SANCTIONS,
        tlp=Tlp.AMBER,
        indicator_id=f"indicator--{id_}",
        submission_id=f"s{id_}",
        created_at=T0 + timedelta(hours=id_),
        case_reference="CASE",
    )


def show(reports: list[tuple[Report, bool]], *, oversight: bool = False) -> dict[int, str]:
    """report id -> the identity shown, for a recipient; (report, must be pseudonymous)."""
    decided = [
        (r, Decision(True, "a", "", pseudonymous=p, show_case_reference=oversight))
        for r, p in reports
    ]
    hidden = {r.id for r, p in reports if p}
    seen = disclose_all(
        decided, lambda partner: f"anonymous-{partner[-4:]}", lambda r: r.id in hidden
    )
    return {r.id: r.partner_id for r in seen}


def test_a_submitter_first_seen_by_name_keeps_it_its_later_anonymous_claim_is_withheld() -> None:
    assert show([(stored(1), False), (stored(2), True)]) == {1: NGO}


def test_a_submitter_first_seen_under_a_pseudonym_keeps_it_for_every_report() -> None:
    assert show([(stored(1), True), (stored(2), False)]) == {
        1: "anonymous-0001",
        2: "anonymous-0001",
    }


def test_oversight_and_the_submitter_see_every_report_as_stored() -> None:
    first, second = stored(1), stored(2)
    seen = disclose_all(
        [
            (first, Decision(True, "own", "", False, True)),
            (second, Decision(True, "own", "", True, True)),
        ],
        lambda partner: "anonymous-x",
        lambda r: r.id == 2,
    )
    assert seen == (first, second)


def test_a_pseudonymous_report_shows_its_day_and_nothing_that_names_its_submission() -> None:
    (seen,) = disclose_all(
        [(stored(1), Decision(True, "a", "", pseudonymous=True))],
        lambda p: "anonymous-x",
        lambda r: True,
    )
    assert seen.created_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert (seen.indicator_id, seen.submission_id, seen.case_reference) == (None, None, None)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([NGO, FIRM]), st.booleans()), min_size=1, max_size=8))
def test_as_reports_arrive_no_report_is_ever_shown_under_two_identities(
    arrivals: list[tuple[str, bool]],
) -> None:
    """Every prefix is the flag at some moment; a recipient keeps what it saw at each."""
    reports = [(stored(n, partner), p) for n, (partner, p) in enumerate(arrivals, start=1)]
    identities: dict[int, set[str]] = {}
    names: dict[str, set[str]] = {}
    for end in range(1, len(reports) + 1):
        for report_id, identity in show(reports[:end]).items():
            identities.setdefault(report_id, set()).add(identity)
    for (report, pseudonymous), n in zip(reports, range(1, len(reports) + 1), strict=True):
        shown = identities.get(n, set())
        assert len(shown) <= 1
        if pseudonymous:
            assert report.partner_id not in shown  # never named when it must not be
        names.setdefault(report.partner_id, set()).update(shown)
    for partner, shown in names.items():
        assert len(shown) <= 1, (partner, shown)  # a name never beside its pseudonym
