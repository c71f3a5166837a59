"""The main behavioural suite for submissions: a real database, keys made per test."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from exchange.core.claims import Tlp
from exchange.core.dedup import Status
from exchange.core.flags import Flag
from exchange.core.partners import Partner, Role
from exchange.errors import (
    BundleError,
    ConflictError,
    DocumentError,
    SignatureError,
    TooLargeError,
)
from exchange.services.flags import lookup_flag
from exchange.services.partners import revoke_key
from exchange.services.submissions import Limits, Receipt, submit_bundle
from exchange.store.flags import FlagStore
from exchange.store.submissions import SubmissionStore
from tests.factories import (
    BTC_BECH32,
    BTC_P2PKH,
    ETH_CHECKSUMMED,
    ETH_LOWER,
    NOW,
    Member,
    bundle,
    indicator,
    make_member,
    signed,
    transaction,
)

LIMITS = Limits()


def look(session: Session, viewer: Partner, chain: str, address: str) -> Flag:
    return lookup_flag(session, viewer, chain, address, now=NOW, alias_secret=b"test")


def submit(engine: Engine, member: Member, body: bytes, *, limits: Limits = LIMITS) -> Receipt:
    with transaction(engine) as session:
        return submit_bundle(session, member.partner, body, now=NOW, limits=limits)


def counts(engine: Engine) -> tuple[int, int]:
    with transaction(engine) as session:
        return FlagStore(session).count()


def test_two_partners_flagging_one_address_in_two_spellings_corroborate_one_flag(
    engine: Engine,
) -> None:
    ngo, firm = make_member(engine, "ngo"), make_member(engine, "firm")
    submit(engine, ngo, signed(bundle(indicator(ngo.id, ETH_CHECKSUMMED)), ngo.key))
    submit(engine, firm, signed(bundle(indicator(firm.id, ETH_LOWER)), firm.key))

    admin = make_member(engine, "operator", roles=[Role.ADMIN])
    with transaction(engine) as session:
        flag = look(session, admin.partner, "ethereum", ETH_CHECKSUMMED)
    assert (flag.address, flag.corroboration, len(flag.reports)) == (ETH_LOWER, 2, 2)
    assert counts(engine) == (1, 2)


def test_resubmitting_the_same_bundle_marks_every_object_duplicate_and_stores_nothing(
    engine: Engine,
) -> None:
    ngo = make_member(engine)
    body = signed(bundle(indicator(ngo.id, BTC_P2PKH), indicator(ngo.id, BTC_BECH32)), ngo.key)
    first = submit(engine, ngo, body)
    again = submit(engine, ngo, body)

    assert first.created
    assert [o.status for o in first.submission.outcomes] == [Status.ACCEPTED] * 2
    assert not again.created
    assert [o.status for o in again.submission.outcomes] == [Status.DUPLICATE] * 2
    assert again.submission.id == first.submission.id
    assert counts(engine) == (2, 2)


def test_the_same_claim_in_a_new_bundle_is_a_duplicate_but_a_new_category_is_accepted(
    engine: Engine,
) -> None:
    ngo = make_member(engine)
    submit(engine, ngo, signed(bundle(indicator(ngo.id, ETH_CHECKSUMMED)), ngo.key))
    receipt = submit(
        engine,
        ngo,
        signed(
            bundle(
                indicator(ngo.id, ETH_LOWER),
                indicator(ngo.id, ETH_LOWER, category="sanctions"),
            ),
            ngo.key,
        ),
    )
    assert [o.status for o in receipt.submission.outcomes] == [Status.DUPLICATE, Status.ACCEPTED]
    assert counts(engine) == (1, 2)


def test_a_bundle_repeating_one_address_stores_one_report(engine: Engine) -> None:
    ngo = make_member(engine)
    body = signed(
        bundle(indicator(ngo.id, ETH_CHECKSUMMED), indicator(ngo.id, ETH_LOWER)), ngo.key
    )
    receipt = submit(engine, ngo, body)
    assert [o.status for o in receipt.submission.outcomes] == [Status.ACCEPTED, Status.DUPLICATE]
    assert counts(engine) == (1, 1)


def test_without_an_agreement_a_partner_sees_only_its_own_amber_reports(engine: Engine) -> None:
    ngo, firm = make_member(engine), make_member(engine)
    submit(engine, ngo, signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key))
    with transaction(engine) as session:
        own = look(session, ngo.partner, "bitcoin", BTC_P2PKH)
        assert own.corroboration == 1
        with pytest.raises(Exception, match="no flag"):
            look(session, firm.partner, "bitcoin", BTC_P2PKH)


def test_the_exact_bytes_are_kept_and_verify_again(engine: Engine) -> None:
    ngo = make_member(engine)
    body = signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key)
    receipt = submit(engine, ngo, body)
    with transaction(engine) as session:
        assert SubmissionStore(session).raw(receipt.submission.id) == body
    assert receipt.submission.signer_kids == (ngo.key.kid,)
    assert receipt.submission.received_at == NOW


def test_tlp_comes_from_the_marking_or_defaults_to_amber(engine: Engine) -> None:
    ngo = make_member(engine)
    body = signed(
        bundle(
            indicator(ngo.id, BTC_P2PKH, tlp=Tlp.RED),
            indicator(ngo.id, BTC_BECH32, tlp=None),
        ),
        ngo.key,
    )
    submit(engine, ngo, body)
    with transaction(engine) as session:
        red = look(session, ngo.partner, "bitcoin", BTC_P2PKH)
        unmarked = look(session, ngo.partner, "bitcoin", BTC_BECH32)
    assert (red.reports[0].tlp, unmarked.reports[0].tlp) == (Tlp.RED, Tlp.AMBER)


def _refused(engine: Engine, member: Member, body: bytes, error: type[Exception]) -> str:
    before = counts(engine)
    with pytest.raises(error) as raised:
        submit(engine, member, body)
    assert counts(engine) == before
    return str(raised.value)


def test_a_tampered_bundle_is_refused(engine: Engine) -> None:
    ngo = make_member(engine)
    doc = json.loads(signed(bundle(indicator(ngo.id, ETH_LOWER)), ngo.key))
    doc["bundle"]["objects"][0]["confidence"] = 81
    detail = _refused(engine, ngo, json.dumps(doc).encode(), SignatureError)
    assert ngo.key.kid in detail


def test_a_bundle_signed_by_another_partner_is_refused(engine: Engine) -> None:
    ngo, other = make_member(engine), make_member(engine)
    detail = _refused(
        engine, ngo, signed(bundle(indicator(ngo.id, ETH_LOWER)), other.key), SignatureError
    )
    assert "no signature by a key of the submitting partner" in detail


def test_a_co_signed_bundle_is_accepted_only_if_every_signature_verifies(engine: Engine) -> None:
    ngo, firm = make_member(engine), make_member(engine)
    doc = bundle(indicator(ngo.id, ETH_LOWER))
    body = json.loads(signed(doc, ngo.key, firm.key))
    body["signatures"][1]["signature"] = body["signatures"][0]["signature"]
    _refused(engine, ngo, json.dumps(body).encode(), SignatureError)
    assert submit(engine, ngo, signed(doc, ngo.key, firm.key)).submission.signer_kids == (
        ngo.key.kid,
        firm.key.kid,
    )


def test_a_revoked_key_is_refused(engine: Engine) -> None:
    ngo = make_member(engine)
    with transaction(engine) as session:
        revoke_key(session, ngo.key.kid, reason="laptop stolen", now=NOW)
    detail = _refused(
        engine, ngo, signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key), SignatureError
    )
    assert "revoked (laptop stolen)" in detail


def test_a_key_outside_its_validity_window_is_refused(engine: Engine) -> None:
    early = make_member(engine, not_before=NOW + timedelta(days=1))
    late = make_member(engine, not_after=NOW - timedelta(days=1))
    for member in (early, late):
        body = signed(bundle(indicator(member.id, BTC_P2PKH)), member.key)
        assert member.key.kid in _refused(engine, member, body, SignatureError)


def test_a_signature_made_too_long_ago_is_refused(engine: Engine) -> None:
    ngo = make_member(engine)
    body = signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key, iat=NOW - timedelta(hours=1))
    assert "from the exchange's clock" in _refused(engine, ngo, body, SignatureError)


@pytest.mark.parametrize(
    ("body", "error", "says"),
    [
        (b"{not json", DocumentError, "not valid JSON"),
        (b'{"bundle": {}, "signatures": [], "extra": 1}', DocumentError, "signed-bundle"),
        (b'{"a": 1, "a": 2}', DocumentError, "duplicate member"),
        (b"[1, NaN]", DocumentError, "NaN"),
        (b"\xff\xfe", DocumentError, "not valid JSON"),
    ],
)
def test_malformed_documents_are_refused(
    engine: Engine, body: bytes, error: type[Exception], says: str
) -> None:
    ngo = make_member(engine)
    assert says in _refused(engine, ngo, body, error)


def test_non_stix_json_is_refused(engine: Engine) -> None:
    ngo = make_member(engine)
    body = signed({"type": "report", "objects": []}, ngo.key)
    assert "not a STIX bundle" in _refused(engine, ngo, body, BundleError)


def test_an_invalid_address_refuses_the_whole_bundle_and_names_the_object(engine: Engine) -> None:
    ngo = make_member(engine)
    bad = ETH_CHECKSUMMED[:-1] + ("7" if ETH_CHECKSUMMED[-1] != "7" else "8")
    bad = bad[:3] + bad[3].swapcase() + bad[4:]
    doc = bundle(indicator(ngo.id, BTC_P2PKH), indicator(ngo.id, bad))
    with pytest.raises(BundleError) as raised:
        submit(engine, ngo, signed(doc, ngo.key))
    assert [(e["index"], e["id"]) for e in raised.value.outcomes] == [(1, doc["objects"][1]["id"])]
    assert "EIP-55" in str(raised.value) or "checksum" in str(raised.value)
    assert counts(engine) == (0, 0)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"pattern": "[ipv4-addr:value = '1.2.3.4']"}, "pattern"),
        ({"labels": ["spam"]}, "labels"),
        ({"confidence": 101}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"valid_from": "yesterday"}, "valid_from"),
        ({"valid_until": "2026-01-01T00:00:00Z"}, "valid_until"),
        ({"created_by_ref": "identity--00000000-0000-4000-8000-000000000000"}, "created_by_ref"),
        ({"spec_version": "2.0"}, "spec_version"),
        ({"id": "indicator--not-a-uuid"}, "id"),
        ({"object_marking_refs": ["tlp:amber"]}, "object_marking_refs"),
        ({"pattern_type": "sigma"}, "pattern_type"),
    ],
)
def test_an_indicator_missing_what_we_rely_on_is_refused_naming_the_field(
    engine: Engine, change: dict[str, object], says: str
) -> None:
    ngo = make_member(engine)
    body = signed(bundle(indicator(ngo.id, BTC_P2PKH) | change), ngo.key)
    assert says in _refused(engine, ngo, body, BundleError)


def test_a_bundle_id_reused_for_different_content_is_a_conflict(engine: Engine) -> None:
    ngo = make_member(engine)
    doc = bundle(indicator(ngo.id, BTC_P2PKH))
    submit(engine, ngo, signed(doc, ngo.key))
    changed = doc | {"objects": [indicator(ngo.id, BTC_BECH32)]}
    assert "different content" in _refused(engine, ngo, signed(changed, ngo.key), ConflictError)


def test_an_object_version_reused_for_different_content_is_refused(engine: Engine) -> None:
    ngo = make_member(engine)
    first = indicator(ngo.id, BTC_P2PKH)
    submit(engine, ngo, signed(bundle(first), ngo.key))
    altered = first | {"confidence": 10}
    assert "different content" in _refused(
        engine, ngo, signed(bundle(altered), ngo.key), BundleError
    )


def test_the_object_limit_is_enforced(engine: Engine) -> None:
    ngo = make_member(engine)
    body = signed(bundle(*(indicator(ngo.id, BTC_P2PKH) for _ in range(3))), ngo.key)
    with pytest.raises(TooLargeError, match="limit is 2"):
        submit(engine, ngo, body, limits=Limits(max_objects=2))
