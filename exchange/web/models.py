"""HTTP response shapes (`…Out`): explicit, so a new column can never widen what is shared."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exchange.core.claims import Category
from exchange.core.dedup import Status
from exchange.core.flags import Flag, Report
from exchange.core.submissions import Submission
from exchange.core.subscriptions import Delivery, Kind, State, Subscription
from exchange.store.alerts import DeliveryView


class ObjectOutcomeOut(BaseModel):
    index: int
    id: str
    type: str
    status: Status
    reason: str | None = None


class SubmissionOut(BaseModel):
    id: str
    bundle_id: str
    partner: str
    signer_kids: list[str]
    received_at: datetime
    bundle_sha256: str
    accepted: int
    duplicates: int
    rejected: int
    objects: list[ObjectOutcomeOut]

    @classmethod
    def of(cls, submission: Submission) -> "SubmissionOut":
        return cls(
            id=submission.id,
            bundle_id=submission.bundle_id,
            partner=submission.partner_id,
            signer_kids=list(submission.signer_kids),
            received_at=submission.received_at,
            bundle_sha256=submission.bundle_sha256,
            accepted=submission.count(Status.ACCEPTED),
            duplicates=submission.count(Status.DUPLICATE),
            rejected=submission.count(Status.REJECTED),
            objects=[
                ObjectOutcomeOut(
                    index=o.index, id=o.id, type=o.type, status=o.status, reason=o.reason
                )
                for o in submission.outcomes
            ],
        )


class ReportOut(BaseModel):
    id: int
    partner: str
    category: str
    tlp: str
    confidence: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    case_reference: str | None
    asset: str | None
    attribution: str
    handling: str | None
    recipients: list[str]
    indicator_id: str | None
    submission_id: str | None
    reported_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, report: Report) -> "ReportOut":
        return cls(
            id=report.id,
            partner=report.partner_id,
            category=report.category,
            tlp=report.tlp,
            confidence=report.confidence,
            valid_from=report.valid_from,
            valid_until=report.valid_until,
            case_reference=report.case_reference,
            asset=report.asset,
            attribution=report.attribution,
            handling=report.handling,
            recipients=sorted(report.recipients),
            indicator_id=report.indicator_id,
            submission_id=report.submission_id,
            reported_at=report.created_at,
            revoked_at=report.revoked_at,
        )


class FlagOut(BaseModel):
    chain: str
    address: str
    first_seen: datetime
    last_seen: datetime
    categories: list[str]
    corroboration: int
    reports: list[ReportOut]

    @classmethod
    def of(cls, flag: Flag) -> "FlagOut":
        return cls(
            chain=flag.chain,
            address=flag.address,
            first_seen=flag.first_seen,
            last_seen=flag.last_seen,
            categories=list(flag.categories),
            corroboration=flag.corroboration,
            reports=[ReportOut.of(report) for report in flag.reports],
        )


class ChainOut(BaseModel):
    id: str
    formats: list[str]


class DecisionOut(BaseModel):
    report: int
    recipient: str
    policy_version: int
    allow: bool
    rule: str
    reason: str
    pseudonymous: bool
    shows_case_reference: bool


class PolicyOut(BaseModel):
    version: int
    applied_at: datetime | None
    document: str
    groups: dict[str, list[str]]
    agreements: list[dict[str, object]]


class SubscriptionIn(BaseModel):
    """A watchlist (addresses, uploaded with PUT .../watchlist) or a feed (filters only)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    delivery: Delivery
    webhook_url: str | None = Field(default=None, max_length=2048)
    chains: list[str] = Field(default_factory=list, max_length=100)
    categories: list[Category] = Field(default_factory=list)
    min_corroboration: int = Field(default=1, ge=1, le=1000)
    min_confidence: int | None = Field(default=None, ge=0, le=100)


class SubscriptionOut(BaseModel):
    id: str
    name: str
    kind: Kind
    delivery: Delivery
    webhook_url: str | None
    state: State
    chains: list[str]
    categories: list[str]
    min_corroboration: int
    min_confidence: int | None
    created_at: datetime
    watchlist_entries: int

    @classmethod
    def of(cls, subscription: Subscription, entries: int) -> "SubscriptionOut":
        return cls(
            id=subscription.id,
            name=subscription.name,
            kind=subscription.kind,
            delivery=subscription.delivery,
            webhook_url=subscription.webhook_url,
            state=subscription.state,
            chains=sorted(subscription.chains),
            categories=sorted(subscription.categories),
            min_corroboration=subscription.min_corroboration,
            min_confidence=subscription.min_confidence,
            created_at=subscription.created_at,
            watchlist_entries=entries,
        )


class LineProblemOut(BaseModel):
    line: int
    reason: str


class UploadOut(BaseModel):
    entries: int
    refused: int
    problems: list[LineProblemOut]
    watchlist_entries: int
    alerts: int


class AlertPageOut(BaseModel):
    alerts: list[dict[str, Any]]
    next: int  # pass as `after` to read on; unchanged when there is nothing new


class DeliveryOut(BaseModel):
    alert_id: str
    subscription: str
    url: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    queued_at: datetime

    @classmethod
    def of(cls, view: DeliveryView) -> "DeliveryOut":
        return cls(
            alert_id=view.alert_id,
            subscription=view.subscription_id,
            url=view.url,
            state=view.state,
            attempts=view.attempts,
            next_attempt_at=view.next_attempt_at if view.state == "pending" else None,
            last_status=view.last_status,
            last_error=view.last_error,
            delivered_at=view.delivered_at,
            queued_at=view.created_at,
        )
