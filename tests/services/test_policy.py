"""Applying, reading and explaining the sharing policy, on a real database."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from exchange.core.claims import Tlp
from exchange.core.ledger import Action
from exchange.core.partners import Role
from exchange.errors import ConflictError, NotFoundError, PolicyError
from exchange.services import policy as policy_service
from exchange.services.flags import lookup_flag
from exchange.services.submissions import Limits, submit_bundle
from exchange.store.ledger import LedgerStore
from exchange.store.policies import PolicyStore
from tests.factories import BTC_P2PKH, NOW, bundle, indicator, make_member, signed, transaction

POLICY = """
groups:
  forensic-firms: [Firm]
agreements:
  - id: ngo-to-firms
    from: NGO
    to: forensic-firms
    max_tlp: amber
    categories: [human-trafficking]
defaults:
  NGO: {tlp: green}
"""


def test_a_policy_resolves_partner_names_and_every_version_is_kept(engine: Engine) -> None:
    ngo, firm = make_member(engine, "NGO"), make_member(engine, "Firm")
    with transaction(engine) as session:
        first = policy_service.apply_policy(session, POLICY, now=NOW)
        second = policy_service.apply_policy(session, POLICY.replace("amber", "green"), now=NOW)
    assert (first.version, second.version) == (1, 2)
    assert first.groups == {"forensic-firms": frozenset({firm.id})}
    (agreement,) = first.agreements
    assert (agreement.source, agreement.to, agreement.max_tlp) == (
        ngo.id,
        "forensic-firms",
        Tlp.AMBER,
    )
    with transaction(engine) as session:
        store = PolicyStore(session)
        assert [v for v, _ in store.list_versions()] == [1, 2]
        assert store.current().agreements[0].max_tlp is Tlp.GREEN
        assert store.get(1)[0].agreements[0].max_tlp is Tlp.AMBER
        (logged,) = LedgerStore(session).entries(action=Action.POLICY_APPLIED, limit=1)
    assert json.loads(logged[1])["details"]["version"] == 1


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("agreements: [{id: a, from: Nobody, to: Firm, max_tlp: green}]", "no partner named"),
        ("agreements: [{id: a, from: NGO, to: Firm, max_tlp: red}]", "max_tlp"),
        ("agreements: [{id: a, from: NGO, to: Firm}]", "'max_tlp' is a required property"),
        ("groups: {Bad Name: [Firm]}", "groups"),
        ("colours: [red]", "Additional properties"),
        ("agreements: [{id: a, from: Firm, to: NGO, max_tlp: green}]", "is not a submitter"),
        (
            "agreements: [{id: a, from: NGO, to: Firm, max_tlp: green},"
            " {id: a, from: NGO, to: Firm, max_tlp: amber}]",
            "used twice",
        ),
        ("agreements: [{id: a, from: NGO", "not YAML"),
    ],
)
def test_a_bad_policy_names_every_problem_and_applies_nothing(
    engine: Engine, document: str, says: str
) -> None:
    make_member(engine, "NGO")
    make_member(engine, "Firm", roles=[Role.SUBSCRIBER])
    with pytest.raises(PolicyError, match=says), transaction(engine) as session:
        policy_service.apply_policy(session, document, now=NOW)
    with transaction(engine) as session:
        assert PolicyStore(session).list_versions() == []


def test_an_agreement_shares_and_explain_says_why(engine: Engine) -> None:
    ngo, firm = make_member(engine, "NGO"), make_member(engine, "Firm")
    bank = make_member(engine, "Bank")
    with transaction(engine) as session:
        policy_service.apply_policy(session, POLICY, now=NOW)
        body = signed(bundle(indicator(ngo.id, BTC_P2PKH, tlp=None)), ngo.key)
        submit_bundle(session, ngo.partner, body, now=NOW, limits=Limits())
    with transaction(engine) as session:
        seen = lookup_flag(session, firm.partner, "bitcoin", BTC_P2PKH, now=NOW, alias_secret=b"k")
        (report,) = seen.reports
        assert report.tlp is Tlp.GREEN  # no marking: the submitter's default in the policy
        assert report.case_reference is None
        allowed = policy_service.explain(session, ngo.partner, report.id, "Firm", now=NOW)
        denied = policy_service.explain(session, ngo.partner, report.id, "Bank", now=NOW)
        with pytest.raises(NotFoundError):
            policy_service.explain(session, bank.partner, report.id, "Firm", now=NOW)
    assert (allowed.decision.allow, allowed.decision.rule) == (True, "ngo-to-firms")
    assert (denied.decision.allow, denied.decision.rule) == (False, "deny")
    assert "no agreement" in denied.decision.reason


def test_a_withdrawn_report_disappears_for_others_and_stays_for_audit(engine: Engine) -> None:
    ngo, firm = make_member(engine, "NGO"), make_member(engine, "Firm")
    auditor = make_member(engine, "Oversight", roles=[Role.AUDITOR])
    with transaction(engine) as session:
        policy_service.apply_policy(session, POLICY, now=NOW)
        body = signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key)
        submit_bundle(session, ngo.partner, body, now=NOW, limits=Limits())
        (report,) = lookup_flag(
            session, firm.partner, "bitcoin", BTC_P2PKH, now=NOW, alias_secret=b"k"
        ).reports
    with transaction(engine) as session:
        with pytest.raises(NotFoundError):
            policy_service.revoke_report(session, firm.partner, report.id, now=NOW)
        policy_service.revoke_report(session, ngo.partner, report.id, now=NOW)
        with pytest.raises(ConflictError):
            policy_service.revoke_report(session, ngo.partner, report.id, now=NOW)
    later = NOW + timedelta(minutes=1)
    with transaction(engine) as session:
        with pytest.raises(NotFoundError):
            lookup_flag(session, firm.partner, "bitcoin", BTC_P2PKH, now=later, alias_secret=b"k")
        kept = lookup_flag(
            session, auditor.partner, "bitcoin", BTC_P2PKH, now=later, alias_secret=b"k"
        )
        (revoked,) = LedgerStore(session).entries(action=Action.REPORT_REVOKED)
    assert kept.reports[0].revoked_at == NOW
    assert json.loads(revoked[1])["subject"] == f"report:{report.id}"
