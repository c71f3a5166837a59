"""The sharing policy over HTTP: read it, explain a decision, withdraw a report."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from exchange.services import policy as policy_service
from exchange.services.alerts import notify_withdrawn
from exchange.store.policies import PolicyStore
from exchange.web.deps import CurrentPartner, DbSession, Now
from exchange.web.models import DecisionOut, PolicyOut

router = APIRouter(prefix="/api/v1", tags=["policy"])


@router.get("/policy")
def read_policy(
    partner: CurrentPartner,
    session: DbSession,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> PolicyOut:
    """The current sharing policy (or an earlier `version`): for admins and auditors."""
    policy_service.require_oversight(partner)
    store = PolicyStore(session)
    wanted = version or store.next_version() - 1
    if wanted == 0:
        return PolicyOut(version=0, applied_at=None, document="", groups={}, agreements=[])
    policy, document, applied_at = store.get(wanted)
    return PolicyOut(
        version=policy.version,
        applied_at=applied_at,
        document=document,
        groups={name: sorted(members) for name, members in policy.groups.items()},
        agreements=[
            {
                "id": a.id,
                "from": a.source,
                "to": a.to,
                "max_tlp": a.max_tlp,
                "categories": sorted(a.categories),
                "attribution": a.attribution,
            }
            for a in policy.agreements
        ],
    )


@router.get("/policy/explain")
def explain_decision(
    partner: CurrentPartner,
    session: DbSession,
    now: Now,
    report: Annotated[int, Query(ge=1)],
    recipient: Annotated[str, Query(min_length=1)],
) -> DecisionOut:
    """May `recipient` see `report`, under which rule, and why — in words.

    For admins, auditors, and the submitter for its own reports.
    """
    found = policy_service.explain(session, partner, report, recipient, now=now)
    return DecisionOut(
        report=report,
        recipient=found.recipient.id,
        policy_version=found.policy_version,
        allow=found.decision.allow,
        rule=found.decision.rule,
        reason=found.decision.reason,
        pseudonymous=found.decision.pseudonymous,
        shows_case_reference=found.decision.show_case_reference,
    )


@router.post("/reports/{report_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_report(report_id: int, partner: CurrentPartner, session: DbSession, now: Now) -> None:
    """Withdraw one of your reports: it stays stored for audit, shown to nobody else.
    Subscribers whose alerts carried it receive a revocation notice."""
    policy_service.revoke_report(session, partner, report_id, now=now)
    notify_withdrawn(session, report_id, reason="revoked", effective=now, now=now)
