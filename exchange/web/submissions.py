"""POST and GET /api/v1/submissions: signed bundles in, per-object outcomes out."""

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from exchange.config import Settings
from exchange.core.partners import Role
from exchange.services.alerts import alert_on_submission
from exchange.services.submissions import Limits, get_raw, get_submission, submit_bundle
from exchange.web.deps import CurrentPartner, DbSession, Now, RawBody, SettingsDep, require
from exchange.web.models import SubmissionOut

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])

_DOCUMENT = {
    "description": "A signed-bundle document: the STIX 2.1 bundle and its detached JWS "
    "signatures over the bundle's RFC 8785 form.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignedBundle"}}},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": SubmissionOut, "description": "The same bundle, sent again"}},
    openapi_extra={"requestBody": {"required": True, **_DOCUMENT}},
)
def post_submission(
    partner: CurrentPartner,
    body: RawBody,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> SubmissionOut:
    """Submit a signed bundle. All or nothing: one refused object refuses the bundle (422).

    201: stored, with every object's outcome (accepted or duplicate). 200: this exact
    bundle was submitted before; nothing changed.
    """
    require(partner, Role.SUBMITTER)
    receipt = submit_bundle(session, partner, body, now=now, limits=limits_of(settings))
    if receipt.created:
        secret = request.app.state.alias_secret
        alert_on_submission(session, receipt.submission.id, now=now, alias_secret=secret)
    if not receipt.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/submissions/{receipt.submission.id}"
    return SubmissionOut.of(receipt.submission)


@router.get("/{submission_id}")
def read_submission(
    submission_id: str, partner: CurrentPartner, session: DbSession
) -> SubmissionOut:
    """A submission's outcome: its submitter, admins and auditors may read it."""
    return SubmissionOut.of(get_submission(session, partner, submission_id))


@router.get(
    "/{submission_id}/raw",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def read_raw(submission_id: str, partner: CurrentPartner, session: DbSession) -> Response:
    """The exact signed bytes received, for re-verification offline by anyone."""
    return Response(get_raw(session, partner, submission_id), media_type="application/json")


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_objects=settings.max_objects,
        clock_skew=timedelta(seconds=settings.signature_clock_skew_seconds),
        default_tlp=settings.default_tlp,
    )
