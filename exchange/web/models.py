"""HTTP response shapes (`…Out`): explicit, so a new column can never widen what is shared."""

from datetime import datetime

from pydantic import BaseModel

from exchange.core.dedup import Status
from exchange.core.flags import Flag, Report
from exchange.core.submissions import Submission


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
