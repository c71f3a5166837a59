"""What a subscriber receives: alert and revocation bodies against their JSON Schema, the STIX
inside them against the OASIS libraries, and, by property, that a redacted flag stays redacted.
"""

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import stix2
import stix2validator
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.alerts import (
    ALERT_NAMESPACE,
    AlertKind,
    alert_body,
    alert_id,
    revocation_body,
)
from exchange.core.bundles import EXTENSION_ID
from exchange.core.claims import TLP2_MARKING_IDS, Attribution, Category, Tlp
from exchange.core.flags import Flag, Report, disclose_all
from exchange.core.policy import Decision, pseudonym

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "alert.schema.json").read_text(encoding="utf-8")
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
STIX_OPTIONS = stix2validator.ValidationOptions(
    version="2.1", strict_types=True, strict_properties=True, enforce_refs=True
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ETH = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
SUBSCRIBER = "identity--0a6e7b55-1f3a-4a5e-9a61-3b5d5b0e8a10"
ACME = "identity--5b1f4c1e-2f0a-4d6e-9a7b-3c8d9e0f1a2b"
HOPE = "identity--2f2b6d3c-8a1e-4f5d-9c0b-7e6a5d4c3b2a"
SECRET = b"alias secret for tests"
MASK = pseudonym(SECRET, HOPE, SUBSCRIBER)  # how HOPE shows to SUBSCRIBER when anonymous
ACME_INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
HOPE_INDICATOR = "indicator--1c9d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
SUBSCRIPTION = "sub-1"
FORBIDDEN_KEYS = frozenset({"case_reference", "submission", "submission_id", "recipients"})


def report(id_: int = 1, partner_id: str = ACME, **changes: Any) -> Report:
    """A stored report carrying everything a recipient must never see."""
    stored = Report(
        id=id_,
        partner_id=partner_id,
        category=Category.SANCTIONS,
        tlp=Tlp.AMBER,
        indicator_id=ACME_INDICATOR if partner_id == ACME else HOPE_INDICATOR,
        submission_id=f"submission-{id_}-secret",
        created_at=EARLIER,
        confidence=90,
        case_reference=f"CASE-{id_}-secret",
        recipients=frozenset({"group-secret", SUBSCRIBER}),
    )
    return replace(stored, **changes)


def redacted(*stored: Report, anonymous: frozenset[str] = frozenset({HOPE})) -> Flag:
    """The flag as SUBSCRIBER may see it: the submitters in `anonymous` under pseudonyms."""
    decided = [
        (r, Decision(True, "tlp:clear", "test", pseudonymous=r.partner_id in anonymous))
        for r in stored
    ]
    seen = disclose_all(
        decided,
        lambda submitter: pseudonym(SECRET, submitter, SUBSCRIBER),
        lambda report: report.partner_id in anonymous,
    )
    return Flag(chain="ethereum", address=ETH, reports=seen)


def body(
    flag: Flag, new: frozenset[int] = frozenset({1}), names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return alert_body(
        alert_id=alert_id(SUBSCRIPTION, min(new, default=0), AlertKind.ALERT),
        created=NOW,
        subscription_id=SUBSCRIPTION,
        recipient=SUBSCRIBER,
        flag=flag,
        new_reports=new,
        names={ACME: "Acme Forensics"} | dict(names or {}),
    )


def derived_indicator(report_id: int) -> str:
    """The indicator id the exchange gives a report it may not show as its partner's own."""
    # "exchng", version 4 bits (validators want RFC 4122), variant 10, the report id.
    value = (0x657863686E67 << 80) | (4 << 76) | (0b10 << 62) | report_id
    return f"indicator--{uuid.UUID(int=value)}"


def objects(alert: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [obj for obj in alert["stix"]["objects"] if obj["type"] == type_]


def keys(value: Any) -> Iterator[str]:
    """Every member name at any depth of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def pattern_value(pattern: str) -> str:
    """The address an indicator's pattern matches, read by the OASIS pattern parser."""
    literal = stix2.pattern_visitor.create_pattern_object(pattern, version="2.1").operand.rhs.value
    assert isinstance(literal, str)
    return re.sub(r"\\(.)", r"\1", literal, flags=re.DOTALL)  # the grammar's two escapes


# The schema ------------------------------------------------------------------------------


def test_the_schema_is_draft_2020_12_and_published_beside_the_others() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"].endswith("/schemas/alert.schema.json")
    assert SCHEMA["$id"].startswith("https://github.com/exchange/exchange/blob/main/")


def test_the_schema_refuses_members_it_does_not_define_at_every_level() -> None:
    alert = body(redacted(report(1), report(2, HOPE)))
    VALIDATOR.validate(alert)

    for where in (alert, alert["flag"], alert["reports"][0]):
        where["case_reference"] = "CASE-1"
        assert not VALIDATOR.is_valid(alert)
        del where["case_reference"]
    assert not VALIDATOR.is_valid(alert | {"type": "revocation"})
    assert not VALIDATOR.is_valid(alert | {"reports": []})


# Alerts ----------------------------------------------------------------------------------


def test_an_alert_shows_named_and_pseudonymous_reports_as_documented() -> None:
    later = EARLIER + timedelta(days=1)
    flag = redacted(
        report(1, asset="USDT", handling="may-block"),
        report(2, HOPE, category=Category.SCAM, tlp=Tlp.GREEN, confidence=None, created_at=later),
    )

    alert = body(flag, new=frozenset({2}))

    VALIDATOR.validate(alert)
    assert list(alert) == [
        "type", "id", "created", "subscription", "recipient", "flag", "reports", "stix"
    ]  # fmt: skip
    assert alert["type"] == "alert"
    assert alert["id"] == alert_id(SUBSCRIPTION, 2, AlertKind.ALERT)
    assert (alert["created"], alert["subscription"], alert["recipient"]) == (
        "2026-11-25T12:00:00.000000Z",
        SUBSCRIPTION,
        SUBSCRIBER,
    )
    assert alert["flag"] == {
        "chain": "ethereum",
        "address": ETH,
        "categories": ["sanctions", "scam"],
        "corroboration": 2,
        "first_seen": "2026-11-20T10:00:00.000000Z",
        "last_seen": "2026-11-21T00:00:00.000000Z",  # the pseudonymous report's day
    }
    named, anonymous = alert["reports"]
    assert named == {
        "id": 1,
        "new": False,
        "category": "sanctions",
        "tlp": "amber",
        "confidence": 90,
        "submitter": ACME,
        "attribution": "named",
        "handling": "may-block",
        "asset": "USDT",
        "valid_from": "2026-11-20T10:00:00.000000Z",
        "valid_until": None,
        "reported_at": "2026-11-20T10:00:00.000000Z",
        "indicator": ACME_INDICATOR,
    }
    assert anonymous["submitter"] == MASK
    assert anonymous["attribution"] == "anonymous"
    assert (anonymous["new"], anonymous["confidence"], anonymous["tlp"]) == (True, None, "green")
    assert anonymous["indicator"] == derived_indicator(2)
    assert anonymous["reported_at"] == "2026-11-21T00:00:00.000000Z"  # to the day only


def test_a_named_report_is_its_partners_indicator_and_a_pseudonymous_one_is_derived() -> None:
    since = EARLIER - timedelta(days=3)
    stored = report(1, valid_from=since, valid_until=NOW)
    alert = body(redacted(stored, report(2, HOPE, tlp=Tlp.CLEAR)))

    acme, hope = objects(alert, "indicator")
    assert (acme["id"], acme["created_by_ref"]) == (ACME_INDICATOR, ACME)
    assert (acme["created"], acme["valid_from"]) == (
        "2026-11-20T10:00:00.000000Z",
        "2026-11-17T10:00:00.000000Z",
    )
    assert acme["valid_until"] == "2026-11-25T12:00:00.000000Z"
    assert acme["confidence"] == 90
    assert acme["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.AMBER]]
    assert acme["labels"] == ["sanctions"]
    assert acme["extensions"] == {
        EXTENSION_ID: {"extension_type": "property-extension", "chain": "ethereum"}
    }
    assert hope["id"] == derived_indicator(2)
    assert hope["created_by_ref"] == f"identity--{uuid.uuid5(ALERT_NAMESPACE, MASK)}"
    assert hope["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.CLEAR]]
    assert "valid_until" not in hope
    identities = {obj["id"]: obj["name"] for obj in objects(alert, "identity")}
    assert identities == {ACME: "Acme Forensics", hope["created_by_ref"]: MASK}
    markings = {obj["id"] for obj in objects(alert, "marking-definition")}
    assert markings == {TLP2_MARKING_IDS[Tlp.AMBER], TLP2_MARKING_IDS[Tlp.CLEAR]}


def test_names_never_name_a_pseudonymous_submitter() -> None:
    alert = body(redacted(report(1), report(2, HOPE)), names={HOPE: "Hope NGO", MASK: "Hope NGO"})

    assert "Hope NGO" not in json.dumps(alert)
    assert HOPE not in json.dumps(alert)


def test_a_pseudonym_never_shows_an_indicator_id_even_when_the_flag_holds_one() -> None:
    """Fail closed: a submitter shown by anything but a partner id is anonymous."""
    leaky = replace(report(1, MASK), indicator_id=HOPE_INDICATOR)

    alert = body(Flag(chain="ethereum", address=ETH, reports=(leaky,)))

    assert HOPE_INDICATOR not in json.dumps(alert)
    assert alert["reports"][0]["attribution"] == "anonymous"
    assert alert["reports"][0]["indicator"] == derived_indicator(1)


def test_a_partner_without_a_name_is_named_by_its_id() -> None:
    alert = alert_body(
        alert_id=alert_id(SUBSCRIPTION, 1, AlertKind.ALERT),
        created=NOW,
        subscription_id=SUBSCRIPTION,
        recipient=SUBSCRIBER,
        flag=redacted(report(1, asset="USDT", handling="investigate-only")),
        new_reports=[1],
    )

    (identity,) = objects(alert, "identity")
    assert identity["name"] == ACME
    (indicator,) = objects(alert, "indicator")
    assert indicator["extensions"][EXTENSION_ID] == {
        "extension_type": "property-extension",
        "chain": "ethereum",
        "asset": "USDT",
        "handling": "investigate-only",
    }


def test_the_stix_bundle_is_valid_stix_2_1_and_self_contained() -> None:
    alert = body(redacted(report(1), report(2, HOPE, tlp=Tlp.RED), report(3, valid_until=NOW)))

    parsed = stix2.parse(alert["stix"], allow_custom=False)

    assert parsed.id == f"bundle--{uuid.uuid5(ALERT_NAMESPACE, alert['id'])}"
    assert len(parsed.objects) == 2 + 2 + 3  # identities, markings, indicators
    results = stix2validator.validate_instance(alert["stix"], STIX_OPTIONS)
    assert results.is_valid, [str(error) for error in results.errors]


@pytest.mark.parametrize(
    "address",
    ["it's", "back\\slash", "\\'", "''", "end\\", "'", "\\\\'x'\\\\"],
)
def test_an_address_with_quotes_or_backslashes_round_trips_through_the_pattern(
    address: str,
) -> None:
    flag = replace(redacted(report(1)), address=address)
    alert = body(flag)

    VALIDATOR.validate(alert)
    (indicator,) = objects(alert, "indicator")
    stix2.parse(alert["stix"], allow_custom=False)  # the pattern grammar holds
    assert pattern_value(indicator["pattern"]) == address


def test_the_pattern_parser_would_notice_an_unescaped_quote() -> None:
    """A control for the test above: stix2 does refuse an indicator with a bad pattern."""
    (indicator,) = objects(body(redacted(report(1))), "indicator")
    broken = indicator | {"pattern": "[cryptocurrency-wallet:value = 'it's']"}

    with pytest.raises(stix2.exceptions.InvalidValueError):
        stix2.parse(broken, allow_custom=False)


def test_an_unredacted_flag_never_shows_case_references_submissions_or_recipients() -> None:
    own_view = Flag(chain="ethereum", address=ETH, reports=(report(1), report(2, HOPE)))

    alert = body(own_view)

    text = json.dumps(alert)
    assert FORBIDDEN_KEYS.isdisjoint(keys(alert))
    assert "secret" not in text  # case references, submission ids, the recipients' group


def test_reports_of_one_indicator_get_distinct_stix_ids_and_the_first_keeps_its_own() -> None:
    flag = redacted(report(7, category=Category.SCAM), report(3), anonymous=frozenset())

    alert = body(flag)

    first, second = objects(alert, "indicator")
    assert first["id"] == ACME_INDICATOR
    assert first["labels"] == ["sanctions"]  # report 3: reports go by id
    assert second["id"] == derived_indicator(7)
    assert [r["indicator"] for r in alert["reports"]] == [first["id"], second["id"]]


def test_the_same_alert_is_the_same_body() -> None:
    flag = redacted(report(1), report(2, HOPE))

    assert body(flag) == body(redacted(report(1), report(2, HOPE)))
    assert json.dumps(body(flag)) == json.dumps(body(flag))


def test_timestamps_are_utc_with_z_whatever_zone_they_come_in() -> None:
    tokyo = timezone(timedelta(hours=9))
    flag = redacted(report(1, created_at=EARLIER.astimezone(tokyo)))

    alert = alert_body(
        alert_id=alert_id(SUBSCRIPTION, 1, AlertKind.ALERT),
        created=NOW.astimezone(tokyo),
        subscription_id=SUBSCRIPTION,
        recipient=SUBSCRIBER,
        flag=flag,
        new_reports={1},
    )

    assert alert["created"] == "2026-11-25T12:00:00.000000Z"
    assert alert["reports"][0]["reported_at"] == "2026-11-20T10:00:00.000000Z"
    assert objects(alert, "indicator")[0]["created"] == "2026-11-20T10:00:00.000000Z"


def test_an_alert_without_reports_or_with_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one report"):
        body(Flag(chain="ethereum", address=ETH, reports=()))
    with pytest.raises(ValueError, match="naive"):
        body(redacted(report(1, created_at=EARLIER.replace(tzinfo=None))))


# By property: whatever the flag, the body keeps it redacted ------------------------------

PARTNERS = [ACME, HOPE, "identity--7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d"]
OUTSIDERS = ["identity--9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "group-vasps", "group-ngos"]
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# Any text, with the two characters a STIX pattern string must escape drawn often.
ADDRESSES = st.text(st.characters() | st.sampled_from("'\\"), min_size=1, max_size=24)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))])


def moments(start: datetime = EPOCH) -> st.SearchStrategy[datetime]:
    return st.builds(
        lambda offset, zone: (start + timedelta(microseconds=offset)).astimezone(zone),
        st.integers(0, 10 * 365 * 86_400 * 10**6),
        ZONES,
    )


@st.composite
def stored_reports(draw: st.DrawFn, id_: int) -> Report:
    partner = draw(st.sampled_from(PARTNERS))
    created = draw(moments())
    before = draw(st.none() | st.timedeltas(timedelta(0), timedelta(days=30)))
    valid_until = draw(st.none() | moments(created + timedelta(seconds=1)))
    # A partner's indicator may carry several of its reports (one per label).
    indicator = uuid.uuid5(uuid.NAMESPACE_URL, f"{partner} {draw(st.integers(0, 2))}")
    return Report(
        id=id_,
        partner_id=partner,
        category=draw(st.sampled_from(Category)),
        tlp=draw(st.sampled_from(Tlp)),
        indicator_id=f"indicator--{indicator}",
        submission_id=f"submission--{draw(st.uuids())}",
        created_at=created,
        confidence=draw(st.none() | st.integers(0, 100)),
        valid_from=None if before is None else created - before,
        valid_until=valid_until,
        case_reference=f"CASE-{draw(st.uuids())}",
        asset=draw(st.none() | st.sampled_from(["USDT", "USDC"])),
        recipients=frozenset(draw(st.lists(st.sampled_from(OUTSIDERS), max_size=3))),
        attribution=draw(st.sampled_from(Attribution)),
        handling=draw(st.none() | st.sampled_from(["investigate-only", "may-block"])),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[tuple[Report, ...], dict[int, bool], frozenset[int]]:
    """Stored reports, whether each one's decision makes it pseudonymous, and the new ids."""
    ids = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=6, unique=True))
    stored = tuple(draw(stored_reports(id_)) for id_ in ids)
    hidden = {id_: draw(st.booleans()) for id_ in ids}
    new = frozenset(draw(st.lists(st.sampled_from(ids) | st.integers(1, 10**9), max_size=4)))
    return stored, hidden, new


@settings(max_examples=60, deadline=None)
@given(scenarios(), ADDRESSES, st.sampled_from(["ethereum", "bitcoin"]))
def test_a_redacted_flag_stays_redacted_in_the_alert(
    scenario: tuple[tuple[Report, ...], dict[int, bool], frozenset[int]], address: str, chain: str
) -> None:
    stored, hidden, new = scenario
    decided = [(r, Decision(True, "tlp:clear", "test", pseudonymous=hidden[r.id])) for r in stored]
    alias = {p: pseudonym(SECRET, p, SUBSCRIBER) for p in PARTNERS}
    masked = {r.partner_id for r in stored if hidden[r.id]}  # one mask, all its reports
    seen = disclose_all(decided, alias.__getitem__, lambda report: report.partner_id in masked)
    flag = Flag(chain=chain, address=address, reports=seen)

    alert = alert_body(
        alert_id=alert_id(SUBSCRIPTION, min(new, default=1), AlertKind.ALERT),
        created=NOW,
        subscription_id=SUBSCRIPTION,
        recipient=SUBSCRIBER,
        flag=flag,
        new_reports=new,
        names={p: f"name of {p}" for p in PARTNERS},
    )

    VALIDATOR.validate(alert)
    text = json.dumps(alert)
    assert FORBIDDEN_KEYS.isdisjoint(keys(alert))
    for r in stored:
        assert r.case_reference is not None
        assert r.case_reference not in text
        assert r.submission_id is not None
        assert r.submission_id not in text
        assert all(recipient not in text for recipient in r.recipients)
        if r.partner_id in masked:
            assert r.indicator_id is not None
            assert r.indicator_id not in text
    for partner in masked:
        assert partner.removeprefix("identity--") not in text
    by_id = {r.id: r for r in stored}
    assert [r["id"] for r in alert["reports"]] == sorted(by_id)
    for shown in alert["reports"]:
        partner = by_id[shown["id"]].partner_id
        assert shown["new"] is (shown["id"] in new)
        assert shown["attribution"] == ("anonymous" if partner in masked else "named")
        assert shown["submitter"] == (alias[partner] if partner in masked else partner)
    assert alert["flag"]["corroboration"] == len({r.partner_id for r in stored})

    parsed = stix2.parse(alert["stix"], allow_custom=False)
    assert len({obj.id for obj in parsed.objects}) == len(parsed.objects)
    # The STIX says what the JSON says, report by report.
    indicators = {obj["id"]: obj for obj in objects(alert, "indicator")}
    assert len(indicators) == len(stored)
    for shown in alert["reports"]:
        indicator = indicators[shown["indicator"]]
        assert pattern_value(indicator["pattern"]) == address
        assert indicator["labels"] == [shown["category"]]
        assert indicator["created"] == shown["reported_at"]
        assert indicator["valid_from"] == shown["valid_from"]
        assert indicator.get("valid_until") == shown["valid_until"]
        assert indicator.get("confidence") == shown["confidence"]
        assert indicator["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp(shown["tlp"])]]


# Alert ids -------------------------------------------------------------------------------

ALERT_KEYS = st.tuples(
    st.text(alphabet="ab\n1", max_size=4), st.integers(-2, 12), st.sampled_from(AlertKind)
)


def test_an_alert_id_is_the_documented_uuid5() -> None:
    expected = uuid.uuid5(ALERT_NAMESPACE, f"revocation\n{SUBSCRIPTION}\n7")

    assert alert_id(SUBSCRIPTION, 7, AlertKind.REVOCATION) == str(expected)


@pytest.mark.parametrize(
    ("one", "other"),
    [(("a1", 2), ("a", 12)), (("a\n1", 2), ("a", 12)), (("", 12), ("1", 2))],
)
def test_alert_ids_do_not_collide_when_their_parts_run_together(
    one: tuple[str, int], other: tuple[str, int]
) -> None:
    assert alert_id(*one, AlertKind.ALERT) != alert_id(*other, AlertKind.ALERT)


@settings(max_examples=300)
@given(ALERT_KEYS, ALERT_KEYS)
def test_alert_ids_are_equal_exactly_when_subscription_report_and_kind_are(
    one: tuple[str, int, AlertKind], other: tuple[str, int, AlertKind]
) -> None:
    assert alert_id(*one) == alert_id(*one)
    assert (alert_id(*one) == alert_id(*other)) is (one == other)


# Revocations -----------------------------------------------------------------------------


def revocation(reason: str = "revoked", alerts: tuple[str, ...] = ()) -> dict[str, Any]:
    return revocation_body(
        alert_id=alert_id(SUBSCRIPTION, 2, AlertKind.REVOCATION),
        created=NOW,
        subscription_id=SUBSCRIPTION,
        recipient=SUBSCRIBER,
        chain="ethereum",
        address=ETH,
        report_id=2,
        reason=reason,
        effective=EARLIER,
        alerts=alerts,
    )


@pytest.mark.parametrize("reason", ["revoked", "expired"])
def test_a_revocation_names_the_report_and_the_alerts_it_withdraws(reason: str) -> None:
    first, second = (alert_id(SUBSCRIPTION, n, AlertKind.ALERT) for n in (1, 2))

    withdrawn = revocation(reason, alerts=(second, first, second))

    VALIDATOR.validate(withdrawn)
    assert withdrawn == {
        "type": "revocation",
        "id": alert_id(SUBSCRIPTION, 2, AlertKind.REVOCATION),
        "created": "2026-11-25T12:00:00.000000Z",
        "subscription": SUBSCRIPTION,
        "recipient": SUBSCRIBER,
        "flag": {"chain": "ethereum", "address": ETH},
        "report": 2,
        "reason": reason,
        "effective": "2026-11-20T10:00:00.000000Z",
        "alerts": [second, first],
    }
    assert not VALIDATOR.is_valid(withdrawn | {"reports": []})
    assert not VALIDATOR.is_valid(withdrawn | {"flag": {"chain": "ethereum"}})


def test_a_revocation_for_another_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="reason"):
        revocation("superseded")
