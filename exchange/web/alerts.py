"""Subscriptions, watchlists, alerts (polling and Server-Sent Events) and deliveries."""

import asyncio
import codecs
import json
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from typing import IO, Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange.core.partners import Partner
from exchange.core.subscriptions import State, Subscription
from exchange.errors import InputError, TooLargeError
from exchange.services import deliveries as delivery_service
from exchange.services import subscriptions as subscription_service
from exchange.store.alerts import AlertStore
from exchange.web.deps import CurrentPartner, DbSession, Now, SettingsDep
from exchange.web.models import (
    AlertPageOut,
    DeliveryOut,
    LineProblemOut,
    SubscriptionIn,
    SubscriptionOut,
    UploadOut,
)

router = APIRouter(prefix="/api/v1", tags=["alerts"])
PAGE = 1000
_HEARTBEAT = 15.0  # seconds between SSE comments that keep proxies from closing the stream


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def create_subscription(
    spec: SubscriptionIn,
    partner: CurrentPartner,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    response: Response,
) -> SubscriptionOut:
    """Subscribe (subscriber role). A webhook URL must be https and public."""
    subscription = subscription_service.create_subscription(
        session,
        partner,
        name=spec.name,
        kind=spec.kind,
        delivery=spec.delivery,
        webhook_url=spec.webhook_url,
        chains=spec.chains,
        categories=spec.categories,
        min_corroboration=spec.min_corroboration,
        min_confidence=spec.min_confidence,
        allow_private_webhooks=settings.webhook_allow_private,
        now=now,
    )
    response.headers["Location"] = f"/api/v1/subscriptions/{subscription.id}"
    return SubscriptionOut.of(subscription, 0)


@router.get("/subscriptions")
def list_subscriptions(partner: CurrentPartner, session: DbSession) -> list[SubscriptionOut]:
    return [
        _out(session, subscription)
        for subscription in subscription_service.list_subscriptions(session, partner)
    ]


@router.get("/subscriptions/{subscription_id}")
def read_subscription(
    subscription_id: str, partner: CurrentPartner, session: DbSession
) -> SubscriptionOut:
    subscription = subscription_service.get_subscription(session, partner, subscription_id)
    return _out(session, subscription)


@router.post("/subscriptions/{subscription_id}/pause")
def pause(
    subscription_id: str, partner: CurrentPartner, session: DbSession, now: Now
) -> SubscriptionOut:
    """Stop alerts; what happens meanwhile is not sent later."""
    changed = subscription_service.set_state(
        session, partner, subscription_id, State.PAUSED, now=now
    )
    return _out(session, changed)


@router.post("/subscriptions/{subscription_id}/resume")
def resume(
    subscription_id: str, partner: CurrentPartner, session: DbSession, now: Now
) -> SubscriptionOut:
    changed = subscription_service.set_state(
        session, partner, subscription_id, State.ACTIVE, now=now
    )
    return _out(session, changed)


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(subscription_id: str, partner: CurrentPartner, session: DbSession, now: Now) -> None:
    """Delete the subscription and its watchlist; alerts already sent stay readable."""
    subscription_service.set_state(session, partner, subscription_id, State.DELETED, now=now)


@router.put(
    "/subscriptions/{subscription_id}/watchlist",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def upload_watchlist(
    subscription_id: str,
    request: Request,
    partner: CurrentPartner,
    now: Now,
    settings: SettingsDep,
    mode: Annotated[Literal["append", "replace"], Query()] = "append",
    skip_invalid: Annotated[bool, Query()] = False,
) -> UploadOut:
    """Upload addresses to watch: CSV (`address` or `address,chain` per line) or NDJSON
    (`{"address": ..., "chain": ...}`), streamed. Addresses already flagged alert at once.

    All or nothing: a refused line refuses the upload (422, every problem with its line
    number), unless `skip_invalid=true` stores the valid lines and lists the others.
    """
    kind = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    if kind not in ("text/csv", "text/plain", "application/x-ndjson", "application/jsonl"):
        raise InputError(f"send text/csv or application/x-ndjson, not {kind}")
    spool = await _spool(request, settings.watchlist_max_bytes)
    engine, secret = request.app.state.engine, request.app.state.alias_secret

    def work() -> subscription_service.Upload:
        with spool, Session(engine) as session, session.begin():
            upload = subscription_service.upload_watchlist(
                session,
                partner,
                subscription_id,
                _lines(spool),
                ndjson=kind != "text/csv" and kind != "text/plain",
                replace=mode == "replace",
                skip_invalid=skip_invalid,
                now=now,
                alias_secret=secret,
            )
        if upload.alerts:
            request.app.state.wakeup.notify()
        return upload

    upload = await run_in_threadpool(work)
    return UploadOut(
        entries=upload.entries,
        refused=upload.refused,
        problems=[LineProblemOut(**problem) for problem in upload.problems],
        watchlist_entries=upload.watched,
        alerts=upload.alerts,
    )


@router.get("/alerts")
def poll_alerts(
    partner: CurrentPartner,
    session: DbSession,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
    subscription: str | None = None,
) -> AlertPageOut:
    """Your alerts and revocation notices after cursor `after`, oldest first."""
    rows = AlertStore(session).since(partner.id, after, limit, subscription_id=subscription)
    return AlertPageOut(
        alerts=[json.loads(body) for _, body in rows], next=rows[-1][0] if rows else after
    )


@router.get(
    "/alerts/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_alerts(
    request: Request,
    partner: CurrentPartner,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> StreamingResponse:
    """Server-Sent Events: each alert as it is queued (`id` is its cursor). Reconnect with
    `Last-Event-ID` (or `?after=`) and nothing in between is missed."""
    cursor = after or 0
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise InputError("Last-Event-ID must be a cursor sent by this stream")
        cursor = int(last_event_id)
    return StreamingResponse(
        _events(request, partner, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/deliveries")
def list_deliveries(
    partner: CurrentPartner,
    session: DbSession,
    state: Literal["pending", "delivered", "dead"] | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
) -> list[DeliveryOut]:
    """Your webhook deliveries, by alert id; `state=dead` is the dead-letter view."""
    views = delivery_service.list_deliveries(
        session, partner, state=state, after=after, limit=limit
    )
    return [DeliveryOut.of(view) for view in views]


@router.post("/deliveries/{alert_id}/redeliver")
def redeliver(alert_id: str, partner: CurrentPartner, session: DbSession, now: Now) -> DeliveryOut:
    """Send an alert's webhook again now (a dead one too), with a fresh retry horizon."""
    return DeliveryOut.of(delivery_service.redeliver(session, partner, alert_id, now=now))


def _out(session: Session, subscription: Subscription) -> SubscriptionOut:
    return SubscriptionOut.of(subscription, subscription_service.watched(session, subscription))


async def _spool(request: Request, limit: int) -> IO[bytes]:
    """The body in a temporary file (memory up to 8 MiB): the upload is never all in RAM."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (returned)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise TooLargeError(f"watchlist is over {limit} bytes; upload it in parts")
        spool.write(chunk)
    spool.seek(0)
    return spool


def _lines(spool: IO[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    number = 0
    pending = ""
    try:
        for chunk in iter(lambda: spool.read(1 << 20), b""):
            text = pending + decoder.decode(chunk)
            *complete, pending = text.split("\n")
            for line in complete:
                number += 1
                yield line
        tail = pending + decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(f"watchlist is not UTF-8 (after line {number})") from None
    if tail:
        yield tail


async def _events(request: Request, partner: Partner, cursor: int) -> AsyncIterator[str]:
    wakeup, engine = request.app.state.wakeup, request.app.state.engine

    def read(after: int) -> list[tuple[int, str]]:
        with Session(engine) as session, session.begin():
            return AlertStore(session).since(partner.id, after, PAGE)

    yield "retry: 1000\n\n"
    seen, looked, beat = -1, 0.0, time.monotonic()
    while not await request.is_disconnected():
        if wakeup.generation != seen or time.monotonic() - looked >= 1.0:
            seen, looked = wakeup.generation, time.monotonic()
            rows = await run_in_threadpool(read, cursor)
            for seq, body in rows:
                kind = json.loads(body)["type"]
                yield f"id: {seq}\nevent: {kind}\ndata: {body}\n\n"
                cursor, beat = seq, time.monotonic()
            if len(rows) == PAGE:
                continue
        if time.monotonic() - beat >= _HEARTBEAT:
            beat = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(0.05)
