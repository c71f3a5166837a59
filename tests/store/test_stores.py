"""Stores against the real database: what goes in comes out, exactly."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine

from exchange.core.addresses import parse_address
from exchange.core.claims import Category, Claim, Tlp
from exchange.core.partners import PartnerKey
from exchange.services.submissions import Limits, submit_bundle
from exchange.store.flags import FlagStore
from exchange.store.partners import KeyStore, TokenUseStore
from tests.factories import (
    BTC_P2PKH,
    NOW,
    bundle,
    indicator,
    make_member,
    signed,
    transaction,
)


def test_times_come_back_utc_aware_and_equal_whatever_zone_they_went_in(engine: Engine) -> None:
    member = make_member(engine)
    paris = timezone(timedelta(hours=1))
    not_after = datetime(2027, 1, 1, 13, 30, 15, 123456, tzinfo=paris)
    key = PartnerKey(
        kid="kid-utc",
        partner_id=member.id,
        public_key=b"\x01" * 32,
        created_at=NOW,
        not_after=not_after,
    )
    with transaction(engine) as session:
        KeyStore(session).add(key)
    with transaction(engine) as session:
        stored = KeyStore(session).find("kid-utc")
    assert stored is not None
    assert stored.not_after == not_after
    assert stored.not_after.tzinfo is UTC
    assert stored.created_at == NOW


def test_a_token_id_is_accepted_once_and_forgotten_after_it_expires(engine: Engine) -> None:
    with transaction(engine) as session:
        uses = TokenUseStore(session)
        assert uses.add("k", "j", expires_at=NOW + timedelta(minutes=5), now=NOW)
        assert not uses.add("k", "j", expires_at=NOW + timedelta(minutes=5), now=NOW)
        assert uses.add("other-key", "j", expires_at=NOW + timedelta(minutes=5), now=NOW)
    later = NOW + timedelta(minutes=6)
    with transaction(engine) as session:
        assert TokenUseStore(session).add(
            "k", "j", expires_at=later + timedelta(minutes=5), now=later
        )


def test_reports_of_two_partners_land_on_one_flag(engine: Engine) -> None:
    ngo, firm = make_member(engine), make_member(engine)
    claim = Claim(
        address=parse_address(BTC_P2PKH),
        category=Category.SANCTIONS,
        tlp=Tlp.GREEN,
        indicator_id="indicator--6b7f1f0e-3c1e-4f55-9d2b-0d6f4c7a1b2c",
        confidence=70,
        valid_until=NOW + timedelta(days=30),
    )

    # The reports need a submission to point at: make one per partner the normal way.
    submission_ids = []
    for member in (ngo, firm):
        with transaction(engine) as session:
            body = signed(
                bundle(indicator(member.id, "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw")),
                member.key,
            )
            receipt = submit_bundle(session, member.partner, body, now=NOW, limits=Limits())
            submission_ids.append(receipt.submission.id)
    for member, submission_id in zip((ngo, firm), submission_ids, strict=True):
        with transaction(engine) as session:
            FlagStore(session).add_reports(member.id, [claim], submission_id=submission_id, at=NOW)
    with transaction(engine) as session:
        reports = FlagStore(session).reports_for("bitcoin", BTC_P2PKH)
        held = FlagStore(session).held_claims(ngo.id, [claim])
    assert {r.partner_id for r in reports} == {ngo.id, firm.id}
    assert reports[0].valid_until == NOW + timedelta(days=30)
    assert held == {claim.key}
