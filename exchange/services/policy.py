"""The sharing policy as use cases: apply a version, explain a decision, withdraw a report.

The caller commits. Every applied version and every withdrawal is logged.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from sqlmodel import Session

from exchange.core.claims import Attribution, Category, Tlp
from exchange.core.flags import Report
from exchange.core.ledger import Action, Entry
from exchange.core.partners import Partner, Role
from exchange.core.policy import Agreement, Decision, Policy, Viewer, decide
from exchange.errors import ConflictError, NotFoundError, PermissionDeniedError, PolicyError
from exchange.services.audit import record
from exchange.store.flags import FlagStore
from exchange.store.partners import PartnerStore
from exchange.store.policies import PolicyStore

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "policy.schema.json"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def apply_policy(session: Session, document: str, *, now: datetime) -> Policy:
    """Validate `document` (YAML or JSON), resolve partner names, store it as a new version."""
    try:
        data = yaml.safe_load(document)
    except yaml.YAMLError as error:
        raise PolicyError([f"not YAML or JSON: {error}"]) from None
    data = {} if data is None else data
    problems = [
        f"{'.'.join(str(p) for p in error.absolute_path) or 'document'}: {error.message}"
        for error in _validator().iter_errors(data)
    ]
    if problems:
        raise PolicyError(problems)
    store = PolicyStore(session)
    policy = _resolve(session, data, store.next_version(), problems)
    if problems:
        raise PolicyError(problems)
    store.add(policy, document, at=now)
    record(
        session,
        Entry(
            Action.POLICY_APPLIED,
            now,
            "operator",
            f"policy:{policy.version}",
            partners=tuple(sorted({a.source for a in policy.agreements})),
            details={
                "version": policy.version,
                "document_sha256": hashlib.sha256(document.encode()).hexdigest(),
                "groups": len(policy.groups),
                "agreements": len(policy.agreements),
            },
        ),
    )
    return policy


def current_policy(session: Session) -> Policy:
    return PolicyStore(session).current()


def require_oversight(viewer: Partner) -> None:
    if not (viewer.has(Role.ADMIN) or viewer.has(Role.AUDITOR)):
        raise PermissionDeniedError("this needs the admin or auditor role")


@dataclass(frozen=True, slots=True)
class Explanation:
    report: Report
    recipient: Partner
    policy_version: int
    decision: Decision


def explain(
    session: Session, viewer: Partner, report_id: int, recipient_ref: str, *, now: datetime
) -> Explanation:
    """Why `recipient` may or may not see a report: for admins, auditors and its submitter."""
    report, _, _ = FlagStore(session).get_report(report_id)
    if report.partner_id != viewer.id:
        try:
            require_oversight(viewer)
        except PermissionDeniedError:
            raise NotFoundError(f"no report {report_id}") from None
    recipient = PartnerStore(session).get(recipient_ref)
    policy = current_policy(session)
    decision = decide(report.shared(), viewer_of(recipient), policy, now=now)
    return Explanation(report, recipient, policy.version, decision)


def revoke_report(session: Session, partner: Partner, report_id: int, *, now: datetime) -> None:
    """The submitter withdraws a report: it stays stored for audit, disclosed to nobody else."""
    report, chain, address = FlagStore(session).get_report(report_id)
    if report.partner_id != partner.id:
        raise NotFoundError(f"no report {report_id}")
    if report.revoked_at is not None:
        raise ConflictError(f"report {report_id} was already withdrawn")
    FlagStore(session).revoke_report(report_id, at=now)
    record(
        session,
        Entry(
            Action.REPORT_REVOKED,
            now,
            partner.id,
            f"report:{report_id}",
            partners=(partner.id,),
            details={"chain": chain, "address": address, "category": report.category.value},
        ),
    )


def viewer_of(partner: Partner) -> Viewer:
    return Viewer(partner.id, oversight=partner.has(Role.ADMIN) or partner.has(Role.AUDITOR))


def _resolve(session: Session, data: dict[str, Any], version: int, problems: list[str]) -> Policy:
    partners = {p.name: p for p in PartnerStore(session).list_all()}
    by_id = {p.id: p for p in partners.values()}

    def partner_id(ref: str, where: str) -> str:
        found = partners.get(ref) or by_id.get(ref)
        if found is None:
            problems.append(f"{where}: no partner named {ref!r}")
            return ref
        return found.id

    groups = {
        name: frozenset(partner_id(m, f"groups.{name}") for m in members)
        for name, members in data.get("groups", {}).items()
    }
    agreements = []
    seen: set[str] = set()
    for number, item in enumerate(data.get("agreements", [])):
        where = f"agreements[{number}]"
        if item["id"] in seen:
            problems.append(f"{where}.id: {item['id']!r} is used twice")
        seen.add(item["id"])
        source = partner_id(item["from"], f"{where}.from")
        if source in by_id and not by_id[source].has(Role.SUBMITTER):
            problems.append(f"{where}.from: {item['from']!r} is not a submitter")
        to = item["to"] if item["to"] in groups else partner_id(item["to"], f"{where}.to")
        agreements.append(
            Agreement(
                id=item["id"],
                source=source,
                to=to,
                max_tlp=Tlp(item["max_tlp"]),
                categories=frozenset(Category(c) for c in item.get("categories", [])),
                attribution=Attribution(item["attribution"]) if "attribution" in item else None,
            )
        )
    defaults = {
        partner_id(ref, f"defaults.{ref}"): Tlp(value["tlp"])
        for ref, value in data.get("defaults", {}).items()
        if "tlp" in value
    }
    return Policy(version, groups, tuple(agreements), defaults)
