"""settle(): which objects of a bundle are new, already held, or refused, and which claims.

The checks come from read_bundle on real bundles; "what the exchange holds" is what earlier
settlements said to store, kept here the way the store keeps it.
"""

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.bundles import ObjectCheck, read_bundle
from exchange.core.claims import Tlp
from exchange.core.dedup import Settlement, Status, settle
from tests.factories import BTC_BECH32, BTC_P2PKH, ETH_CHECKSUMMED, ETH_LOWER, bundle, indicator

SUBMITTER = "identity--5b1f4c1e-2f0a-4d6e-9a7b-3c8d9e0f1a2b"
ACCEPTED, DUPLICATE, REJECTED = Status.ACCEPTED, Status.DUPLICATE, Status.REJECTED


def read(*objects: dict[str, Any]) -> tuple[ObjectCheck, ...]:
    document = bundle(*objects)
    return read_bundle(
        document, submitter=SUBMITTER, default_tlp=Tlp.AMBER, max_objects=100
    ).objects


@dataclass
class Holdings:
    """What the exchange holds for one partner: object versions and claim keys."""

    objects: dict[tuple[str, str], str] = field(default_factory=dict)
    claims: set[tuple[str, str, str]] = field(default_factory=set)

    def settle(self, checks: tuple[ObjectCheck, ...]) -> Settlement:
        return settle(checks, held_objects=dict(self.objects), held_claims=set(self.claims))

    def store(self, settlement: Settlement) -> None:
        self.objects |= {(c.id, c.version): c.fingerprint for c in settlement.new_objects}
        self.claims |= {claim.key for claim in settlement.new_claims}


def holding(*objects: dict[str, Any]) -> Holdings:
    held = Holdings()
    if objects:
        held.store(held.settle(read(*objects)))
    return held


SANCTIONED = indicator(SUBMITTER, ETH_CHECKSUMMED, category="sanctions")
SANCTIONED_LOWER = indicator(SUBMITTER, ETH_LOWER, category="sanctions")  # same claim
SANCTIONED_V2 = SANCTIONED | {"modified": "2026-11-21T10:00:00.000Z", "confidence": 95}
SANCTIONED_EDITED = SANCTIONED | {"confidence": 10}  # same id and version, other content
SANCTIONED_AND_SCAM = indicator(SUBMITTER, ETH_LOWER, labels=["sanctions", "scam"])
SCAM = indicator(SUBMITTER, ETH_CHECKSUMMED, category="scam")
RANSOMWARE = indicator(SUBMITTER, BTC_P2PKH, category="ransomware")
BROKEN = indicator(SUBMITTER, "0xnot-an-address")
IDENTITY = {
    "type": "identity",
    "spec_version": "2.1",
    "id": SUBMITTER,
    "created": "2026-01-02T03:04:05.000Z",
    "modified": "2026-01-02T03:04:05.000Z",
    "name": "An NGO",
    "identity_class": "organization",
}

# (held before, the bundle, each object's status, how many new claims, how many new objects)
CASES = [
    pytest.param([], [SANCTIONED], [ACCEPTED], 1, 1, id="a first claim"),
    pytest.param([SANCTIONED], [SANCTIONED], [DUPLICATE], 0, 0, id="the same indicator again"),
    pytest.param(
        [SANCTIONED], [SANCTIONED_LOWER], [DUPLICATE], 0, 1, id="same claim, other indicator"
    ),
    pytest.param(
        [], [SANCTIONED, SANCTIONED_LOWER], [ACCEPTED, DUPLICATE], 1, 2, id="same claim twice"
    ),
    pytest.param([], [SANCTIONED, SANCTIONED], [ACCEPTED, DUPLICATE], 1, 1, id="object twice"),
    pytest.param([SANCTIONED], [SANCTIONED_V2], [DUPLICATE], 0, 1, id="new version, same claim"),
    pytest.param([SANCTIONED], [SANCTIONED_EDITED], [REJECTED], 0, 0, id="edited in place"),
    pytest.param(
        [], [SANCTIONED, SANCTIONED_EDITED], [ACCEPTED, REJECTED], 1, 1, id="edited in one bundle"
    ),
    pytest.param([SANCTIONED], [SCAM], [ACCEPTED], 1, 1, id="another category, same address"),
    pytest.param(
        [SANCTIONED], [SANCTIONED_AND_SCAM], [ACCEPTED], 1, 1, id="one of two claims is new"
    ),
    pytest.param(
        [SANCTIONED, SCAM], [SANCTIONED_AND_SCAM], [DUPLICATE], 0, 1, id="both claims held"
    ),
    pytest.param(
        [], [BROKEN, RANSOMWARE], [REJECTED, ACCEPTED], 1, 1, id="a refused object among good"
    ),
    pytest.param([], [IDENTITY], [ACCEPTED], 0, 1, id="an object without claims"),
    pytest.param([IDENTITY], [IDENTITY], [DUPLICATE], 0, 0, id="held object without claims"),
    pytest.param(
        [IDENTITY],
        [IDENTITY | {"name": "Renamed"}],
        [REJECTED],
        0,
        0,
        id="object without claims edited in place",
    ),
]


@pytest.mark.parametrize(("before", "objects", "statuses", "claims", "stored"), CASES)
def test_each_object_is_accepted_duplicate_or_rejected(
    before: list[dict[str, Any]],
    objects: list[dict[str, Any]],
    statuses: list[Status],
    claims: int,
    stored: int,
) -> None:
    settlement = holding(*before).settle(read(*objects))

    assert [outcome.status for outcome in settlement.outcomes] == statuses
    assert len(settlement.new_claims) == claims
    assert len(settlement.new_objects) == stored
    assert settlement.rejected == tuple(o for o in settlement.outcomes if o.status is REJECTED)
    assert [settlement.count(status) for status in Status] == [
        statuses.count(status) for status in Status
    ]


@pytest.mark.parametrize(
    ("before", "objects", "reason"),
    [
        ([], [BROKEN], "pattern: invalid address"),
        ([SANCTIONED], [SANCTIONED_EDITED], "change `modified`"),
        ([SANCTIONED], [SANCTIONED], "already made this claim"),
        ([IDENTITY], [IDENTITY], "already held"),
        ([], [SANCTIONED], None),
    ],
    ids=["refused", "edited in place", "claim again", "object again", "accepted"],
)
def test_the_outcome_says_why(
    before: list[dict[str, Any]], objects: list[dict[str, Any]], reason: str | None
) -> None:
    (outcome,) = holding(*before).settle(read(*objects)).outcomes

    if reason is None:
        assert outcome.reason is None
    else:
        assert outcome.reason is not None
        assert reason in outcome.reason
    assert (outcome.index, outcome.id, outcome.type) == (0, objects[0]["id"], objects[0]["type"])


def test_the_new_claim_comes_from_the_first_indicator_that_made_it() -> None:
    settlement = Holdings().settle(read(SANCTIONED_LOWER, SANCTIONED, SCAM))

    assert [(c.indicator_id, c.category) for c in settlement.new_claims] == [
        (SANCTIONED_LOWER["id"], "sanctions"),
        (SCAM["id"], "scam"),
    ]


# Properties over bundles drawn from a small pool, so that ids, versions and claims collide -

IDS = [
    "indicator--0b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "indicator--1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f",
    "indicator--2d3e4f5a-6b7c-4d8e-af9a-1b2c3d4e5f60",
]
VERSIONS = ["2026-11-20T10:00:00.000Z", "2026-11-21T10:00:00.000Z"]
ADDRESSES = [ETH_CHECKSUMMED, ETH_LOWER, BTC_P2PKH, BTC_BECH32, BTC_BECH32.upper(), "0xbad"]
CATEGORIES = ["sanctions", "scam", "ransomware"]


@st.composite
def pooled_indicators(draw: st.DrawFn) -> dict[str, Any]:
    version = draw(st.sampled_from(VERSIONS))
    return indicator(
        SUBMITTER,
        draw(st.sampled_from(ADDRESSES)),
        id=draw(st.sampled_from(IDS)),
        created=VERSIONS[0],
        modified=version,
        labels=draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True)),
        confidence=draw(st.sampled_from([50, 80])),
    )


BUNDLES = st.lists(pooled_indicators(), min_size=1, max_size=6).map(lambda objs: read(*objs))
PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(BUNDLES, BUNDLES)
def test_settling_a_bundle_again_after_storing_it_changes_nothing(
    earlier: tuple[ObjectCheck, ...], checks: tuple[ObjectCheck, ...]
) -> None:
    held = Holdings()
    held.store(held.settle(earlier))
    first = held.settle(checks)
    held.store(first)
    again = held.settle(checks)

    assert [o.status for o in again.outcomes] == [
        REJECTED if o.status is REJECTED else DUPLICATE for o in first.outcomes
    ]
    assert (again.new_claims, again.new_objects) == ((), ())


@PROPERTY
@given(st.lists(BUNDLES, min_size=1, max_size=5))
def test_a_claim_is_accepted_at_most_once_across_any_sequence_of_bundles(
    bundles: list[tuple[ObjectCheck, ...]],
) -> None:
    held, accepted = Holdings(), []
    for checks in bundles:
        settlement = held.settle(checks)
        held.store(settlement)
        accepted += [claim.key for claim in settlement.new_claims]
        from_accepted = {o.id for o in settlement.outcomes if o.status is ACCEPTED}
        assert {claim.indicator_id for claim in settlement.new_claims} <= from_accepted

    assert len(accepted) == len(set(accepted))
    every_claim = {
        claim.key for checks in bundles for c in checks if not c.problem for claim in c.claims
    }
    assert set(accepted) <= every_claim


@PROPERTY
@given(BUNDLES, BUNDLES)
def test_there_is_one_outcome_per_object_in_bundle_order(
    earlier: tuple[ObjectCheck, ...], checks: tuple[ObjectCheck, ...]
) -> None:
    held = Holdings()
    held.store(held.settle(earlier))
    settlement = held.settle(checks)

    assert [(o.index, o.id, o.type) for o in settlement.outcomes] == [
        (c.index, c.id, c.type) for c in checks
    ]
    assert [o.index for o in settlement.outcomes] == list(range(len(checks)))


@PROPERTY
@given(BUNDLES, BUNDLES)
def test_an_id_and_version_held_with_other_content_is_rejected(
    earlier: tuple[ObjectCheck, ...], checks: tuple[ObjectCheck, ...]
) -> None:
    held = Holdings()
    held.store(held.settle(earlier))
    settlement = held.settle(checks)

    seen = dict(held.objects)  # what is held, then what this bundle adds, in order
    for check, outcome in zip(checks, settlement.outcomes, strict=True):
        fingerprint = seen.get((check.id, check.version))
        if check.problem is None and fingerprint not in (None, check.fingerprint):
            assert outcome.status is REJECTED
            assert outcome.reason is not None
            assert "different content" in outcome.reason
        if outcome.status is not REJECTED:
            seen.setdefault((check.id, check.version), check.fingerprint)
    versions = [(c.id, c.version) for c in settlement.new_objects]
    assert len(versions) == len(set(versions))
    assert not set(versions) & set(held.objects)
