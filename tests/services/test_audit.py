"""The sharing log records every change in the same transaction, and proves it."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from exchange.core import merkle
from exchange.core.ledger import Action, parse_checkpoint
from exchange.core.partners import Role
from exchange.errors import BundleError, NotFoundError
from exchange.services import audit
from exchange.services.partners import issue_token, revoke_key
from exchange.services.submissions import Limits, submit_bundle
from exchange.signatures import generate_key, verify_note
from exchange.store.ledger import LedgerStore
from tests.factories import BTC_P2PKH, NOW, bundle, indicator, make_member, signed, transaction

LOG = audit.LogKey("exchange.test/audit", generate_key())


def entries(engine: Engine) -> list[dict[str, object]]:
    with transaction(engine) as session:
        return [json.loads(body) for _, body in LedgerStore(session).entries(limit=10_000)]


def test_every_operator_and_partner_action_is_logged(engine: Engine) -> None:
    ngo = make_member(engine, "ngo")
    with transaction(engine) as session:
        submit_bundle(
            session, ngo.partner, signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key),
            now=NOW, limits=Limits(),
        )  # fmt: skip
        issue_token(session, LOG.key, "ngo", audience="a", ttl=timedelta(hours=1), now=NOW)
        revoke_key(session, ngo.key.kid, reason="rotated", now=NOW)
    logged = entries(engine)
    assert [e["action"] for e in logged] == [
        Action.PARTNER_ADDED,
        Action.KEY_REGISTERED,
        Action.BUNDLE_SUBMITTED,
        Action.TOKEN_ISSUED,
        Action.KEY_REVOKED,
    ]
    assert all(e["partners"] == [ngo.id] for e in logged)
    submitted = logged[2]["details"]
    assert isinstance(submitted, dict)
    assert (submitted["accepted"], submitted["kids"]) == (1, [ngo.key.kid])
    assert logged[4]["details"] == {"kid": ngo.key.kid, "reason": "rotated"}


def test_a_refused_submission_leaves_no_entry(engine: Engine) -> None:
    ngo = make_member(engine)
    before = entries(engine)
    body = signed(bundle(indicator(ngo.id, "1BadAddress")), ngo.key)
    with pytest.raises(BundleError), transaction(engine) as session:
        submit_bundle(session, ngo.partner, body, now=NOW, limits=Limits())
    assert entries(engine) == before


def test_a_checkpoint_is_signed_and_commits_to_every_entry(engine: Engine) -> None:
    make_member(engine)
    make_member(engine)
    with transaction(engine) as session:
        note = audit.checkpoint(session, LOG, now=NOW)
        bodies = [body for _, body in LedgerStore(session).entries()]
        proof = audit.inclusion_proof(session, 2, 4)
    head = parse_checkpoint(verify_note(note, LOG.origin, LOG.key.public_key))
    assert (head.origin, head.size) == (LOG.origin, 4)
    leaves = [merkle.leaf_hash(body.encode()) for body in bodies]
    merkle.verify_inclusion(leaves[2], 2, 4, proof, head.root)


def test_checkpoints_are_reused_until_the_log_grows(engine: Engine) -> None:
    make_member(engine)
    with transaction(engine) as session:
        first = audit.checkpoint(session, LOG, now=NOW)
        assert audit.checkpoint(session, LOG, now=NOW + timedelta(seconds=5)) == first
    make_member(engine)
    with transaction(engine) as session:
        grown = audit.checkpoint(session, LOG, now=NOW + timedelta(seconds=10))
    assert grown != first


def test_partners_read_only_entries_about_themselves_and_auditor_reads_are_logged(
    engine: Engine,
) -> None:
    ngo, firm = make_member(engine), make_member(engine)
    auditor = make_member(engine, roles=[Role.AUDITOR])
    with transaction(engine) as session:
        own = audit.read_entries(session, ngo.partner, audit.EntryFilter(), now=NOW)
        asked_for_other = audit.EntryFilter(partner=firm.id)
        still_own = audit.read_entries(session, ngo.partner, asked_for_other, now=NOW)
        everything = audit.read_entries(session, auditor.partner, audit.EntryFilter(), now=NOW)
    assert {json.loads(b)["subject"] for _, b in own} == {ngo.id, ngo.key.kid}
    assert still_own == own
    assert len(everything) == 6
    assert entries(engine)[-1]["action"] == Action.LOG_READ
    assert entries(engine)[-1]["actor"] == auditor.id


def test_proofs_for_sizes_the_log_never_had_are_not_found(engine: Engine) -> None:
    make_member(engine)
    with transaction(engine) as session, pytest.raises(NotFoundError):
        audit.consistency_proof(session, 1, 99)
