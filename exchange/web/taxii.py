"""TAXII 2.1 (OASIS): discovery, the API root, collections, objects, manifests, status.

Clients authenticate with a bearer token, or HTTP Basic whose password is a token (common
TAXII clients only do Basic). Posting objects needs an `Exchange-Signature` header: a
compact JWS with a detached payload over the envelope's RFC 8785 form, signed as a bundle
is (same keys, algorithms and clock rules).
"""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.exceptions import HTTPException

from exchange.core.partners import Partner, Role
from exchange.core.submissions import Submission
from exchange.errors import AuthenticationError, InputError
from exchange.services import taxii
from exchange.services.alerts import alert_on_submission
from exchange.services.auth import authenticate
from exchange.services.submissions import get_raw, get_submission, submit_signed
from exchange.signatures import parse_json, read_signed_envelope
from exchange.store.taxii import Item, ObjectPage
from exchange.web.deps import DbSession, Now, RawBody, SettingsDep, require
from exchange.web.submissions import limits_of

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
ROOT = "/taxii2/api/"

router = APIRouter(prefix="/taxii2", tags=["taxii"])


def _accepting(request: Request) -> None:
    """406 unless the client accepts TAXII 2.1 JSON."""
    accept = request.headers.get("accept", "")
    if not accept:
        return
    for part in accept.split(","):
        kind, *params = (piece.strip().lower() for piece in part.split(";"))
        version = next((p.split("=", 1)[1] for p in params if p.startswith("version=")), "2.1")
        if kind in ("*/*", "application/*", "application/taxii+json") and version == "2.1":
            return
    raise HTTPException(406, f"send Accept: {TAXII}")


def get_taxii_partner(
    request: Request, now: Now, authorization: Annotated[str | None, Header()] = None
) -> Partner:
    """Bearer <token>, or Basic <user:token>: the token is all that counts."""
    if not authorization:
        raise AuthenticationError("send a bearer token, or HTTP Basic with a token as password")
    scheme, _, credentials = authorization.partition(" ")
    token = credentials.strip()
    if scheme.lower() == "basic":
        try:
            _, _, token = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("HTTP Basic: not base64 of user:password") from None
    elif scheme.lower() != "bearer":
        raise AuthenticationError(f"unsupported authorization scheme {scheme!r}")
    state = request.app.state
    with Session(state.engine) as session, session.begin():
        return authenticate(
            session,
            token,
            audience=state.settings.audience,
            operator_keys=state.operator_keys,
            now=now,
        )


TaxiiPartner = Annotated[Partner, Depends(get_taxii_partner)]
Accepting = Depends(_accepting)


def _taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=TAXII, headers=headers)


@router.get("/", dependencies=[Accepting])
def discovery(request: Request, partner: TaxiiPartner) -> JSONResponse:
    base = request.app.state.settings.audience
    return _taxii(
        {
            "title": "Exchange",
            "description": "Signed STIX 2.1 flags of cryptocurrency addresses, shared under "
            "the partners' sharing policy.",
            "default": f"{base}{ROOT}",
            "api_roots": [f"{base}{ROOT}"],
        }
    )


@router.get("/api/", dependencies=[Accepting])
def api_root(request: Request, partner: TaxiiPartner) -> JSONResponse:
    return _taxii(
        {
            "title": "Exchange API root",
            "versions": [TAXII],
            "max_content_length": request.app.state.settings.max_body_bytes,
        }
    )


@router.get("/api/collections/", dependencies=[Accepting])
def list_collections(partner: TaxiiPartner) -> JSONResponse:
    return _taxii({"collections": [_collection(c) for c in taxii.collections_for(partner)]})


@router.get("/api/collections/{collection_id}/", dependencies=[Accepting])
def read_collection(collection_id: str, partner: TaxiiPartner) -> JSONResponse:
    return _taxii(_collection(taxii.collection(partner, collection_id)))


@router.get("/api/collections/{collection_id}/objects/", dependencies=[Accepting])
def get_objects(
    collection_id: str, request: Request, partner: TaxiiPartner, session: DbSession, now: Now
) -> JSONResponse:
    page = _read(request, session, partner, collection_id, _query(request), now)
    return _envelope({"objects": [item.body for item in page.items]}, page)


@router.get("/api/collections/{collection_id}/manifest/", dependencies=[Accepting])
def get_manifest(
    collection_id: str, request: Request, partner: TaxiiPartner, session: DbSession, now: Now
) -> JSONResponse:
    page = _read(request, session, partner, collection_id, _query(request), now)
    return _envelope({"objects": [_manifest(item) for item in page.items]}, page)


@router.get("/api/collections/{collection_id}/objects/{object_id}/", dependencies=[Accepting])
def get_object(
    collection_id: str,
    object_id: str,
    request: Request,
    partner: TaxiiPartner,
    session: DbSession,
    now: Now,
) -> JSONResponse:
    query = _query(request, ids=frozenset({object_id}))
    page = _read(request, session, partner, collection_id, query, now)
    if not page.items and query.after == 0:
        _versions(request, session, partner, collection_id, object_id, now)  # 404 if none
    return _envelope({"objects": [item.body for item in page.items]}, page)


@router.get(
    "/api/collections/{collection_id}/objects/{object_id}/versions/", dependencies=[Accepting]
)
def get_versions(
    collection_id: str,
    object_id: str,
    request: Request,
    partner: TaxiiPartner,
    session: DbSession,
    now: Now,
) -> JSONResponse:
    versions = _versions(request, session, partner, collection_id, object_id, now)
    return _taxii({"more": False, "versions": versions})


def _read(
    request: Request,
    session: Session,
    partner: Partner,
    collection_id: str,
    query: taxii.Query,
    now: datetime,
) -> ObjectPage:
    secret = request.app.state.alias_secret
    return taxii.read_objects(session, partner, collection_id, query, now=now, alias_secret=secret)


def _versions(
    request: Request,
    session: Session,
    partner: Partner,
    collection_id: str,
    object_id: str,
    now: datetime,
) -> list[str]:
    secret = request.app.state.alias_secret
    return taxii.object_versions(
        session, partner, collection_id, object_id, now=now, alias_secret=secret
    )


@router.post("/api/collections/{collection_id}/objects/", dependencies=[Accepting])
def add_objects(
    collection_id: str,
    request: Request,
    partner: TaxiiPartner,
    body: RawBody,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    content_type: Annotated[str | None, Header()] = None,
    exchange_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Submit an envelope: all or nothing, like a signed bundle; answers a complete status."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind != "application/taxii+json":
        raise HTTPException(415, f"send Content-Type: {TAXII}")
    found = taxii.collection(partner, collection_id)
    if not found.can_write:
        require(partner, Role.SUBMITTER)
    if not exchange_signature:
        raise InputError(
            "unsigned envelope: add Exchange-Signature, a compact JWS with a detached payload "
            "over the envelope's RFC 8785 form, signed with one of your registered keys"
        )
    envelope = parse_json(body)
    signed = read_signed_envelope(envelope, exchange_signature.strip())
    evidence = {"taxii_envelope": envelope, "exchange_signature": exchange_signature.strip()}
    raw = json.dumps(evidence, ensure_ascii=False, separators=(",", ":")).encode()
    receipt = submit_signed(session, partner, signed, raw=raw, now=now, limits=limits_of(settings))
    if receipt.created:
        secret = request.app.state.alias_secret
        alert_on_submission(session, receipt.submission.id, now=now, alias_secret=secret)
    return _taxii(_status(receipt.submission, envelope["objects"]), status=202)


@router.get("/api/status/{status_id}/", dependencies=[Accepting])
def get_status(status_id: str, partner: TaxiiPartner, session: DbSession) -> JSONResponse:
    submission = get_submission(session, partner, status_id)
    objects: list[Any] = []
    document = parse_json(get_raw(session, partner, submission.id))
    if isinstance(document, dict) and "taxii_envelope" in document:
        objects = document["taxii_envelope"]["objects"]
    elif isinstance(document, dict) and "bundle" in document:
        objects = document["bundle"]["objects"]
    return _taxii(_status(submission, objects))


def _status(submission: Submission, objects: list[Any]) -> dict[str, Any]:
    successes = taxii.status_of(submission.outcomes, objects)
    return {
        "id": submission.id,
        "status": "complete",
        "request_timestamp": _stamp(submission.received_at),
        "total_count": len(successes),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": 0,
        "failures": [],
        "pending_count": 0,
        "pendings": [],
    }


def _collection(found: taxii.Collection) -> dict[str, Any]:
    return {
        "id": found.id,
        "title": found.title,
        "description": found.description,
        "can_read": found.can_read,
        "can_write": found.can_write,
        "media_types": [STIX],
    }


def _query(request: Request, **fixed: Any) -> taxii.Query:
    params = request.query_params

    def listed(name: str) -> frozenset[str]:
        return frozenset(v for value in params.getlist(name) for v in value.split(",") if v)

    limit = params.get("limit", "1000")
    if not limit.isdigit() or int(limit) < 1:
        raise InputError("limit: a positive integer")
    cursor = params.get("next", "0")
    if not cursor.isdigit():
        raise InputError("next: pass back the value a previous page gave")
    added_after = None
    if "added_after" in params:
        try:
            added_after = datetime.fromisoformat(params["added_after"])
        except ValueError:
            raise InputError("added_after: not a timestamp") from None
        if added_after.tzinfo is None:
            raise InputError("added_after: needs a time zone (e.g. Z)")
    versions = tuple(sorted(listed("match[version]"))) or ("last",)
    values: dict[str, Any] = {
        "ids": listed("match[id]"),
        "types": listed("match[type]"),
        "versions": versions,
        "spec_versions": listed("match[spec_version]"),
        "added_after": added_after,
        "limit": int(limit),
        "after": int(cursor),
    }
    return taxii.Query(**(values | fixed))


def _envelope(body: dict[str, Any], page: ObjectPage) -> JSONResponse:
    headers = {}
    if page.items:
        headers["X-TAXII-Date-Added-First"] = _stamp(page.items[0].added_at)
        headers["X-TAXII-Date-Added-Last"] = _stamp(page.items[-1].added_at)
    envelope = {"more": page.more, **({"next": str(page.last)} if page.more else {}), **body}
    return _taxii(envelope, headers=headers)


def _manifest(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "date_added": _stamp(item.added_at),
        "version": item.version or _stamp(item.added_at),
        "media_type": STIX,
    }


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
