"""The sharing log over HTTP: checkpoints, entries, inclusion and consistency proofs.

Auditors and admins read every entry; a partner reads the entries about itself. Proofs and
checkpoints carry only hashes and sizes, so any partner may fetch them.
"""

import base64
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from exchange.services import audit
from exchange.web.deps import CurrentPartner, DbSession, Now

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
JSONL = "application/jsonl"


def log_key(request: Request) -> audit.LogKey:
    key: audit.LogKey = request.app.state.log_key
    return key


@router.get("/checkpoint", response_class=PlainTextResponse)
def read_checkpoint(
    request: Request, _partner: CurrentPartner, session: DbSession, now: Now
) -> PlainTextResponse:
    """The newest signed tree head: a C2SP tlog-checkpoint in a signed note (Ed25519)."""
    note = audit.checkpoint(session, log_key(request), now=now)
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get("/entries", responses={200: {"content": {JSONL: {}}}})
def read_entries(
    partner: CurrentPartner,
    session: DbSession,
    now: Now,
    start: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    of_partner: Annotated[str | None, Query(alias="partner")] = None,
    action: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    format: Annotated[str, Query(pattern="^(json|jsonl)$")] = "json",
) -> Any:
    """Entries from `start`, in log order, matching every filter given.

    `format=jsonl` answers one entry per line, exactly the canonical bytes the Merkle leaf
    commits to (line i is entry `start + i` when no filter is given): what verifiers hash.
    """
    wanted = audit.EntryFilter(
        start=start,
        limit=limit,
        partner=of_partner,
        action=action,
        subject=subject,
        since=since,
        until=until,
    )
    found = audit.read_entries(session, partner, wanted, now=now)
    if format == "jsonl":
        return Response("".join(f"{body}\n" for _, body in found), media_type=JSONL)
    return {
        "entries": [{"seq": seq, "entry": json.loads(body)} for seq, body in found],
        "next": found[-1][0] + 1 if len(found) == limit else None,
    }


@router.get("/proofs/inclusion")
def read_inclusion_proof(
    _partner: CurrentPartner,
    session: DbSession,
    seq: Annotated[int, Query(ge=0)],
    size: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """RFC 6962 audit path of entry `seq` in the tree of `size` entries (base64 hashes)."""
    hashes = audit.inclusion_proof(session, seq, size)
    return {"seq": seq, "size": size, "hashes": [_b64(h) for h in hashes]}


@router.get("/proofs/consistency")
def read_consistency_proof(
    _partner: CurrentPartner,
    session: DbSession,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """RFC 6962 consistency proof that the tree of `second` entries extends that of `first`."""
    hashes = audit.consistency_proof(session, first, second)
    return {"first": first, "second": second, "hashes": [_b64(h) for h in hashes]}


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()
