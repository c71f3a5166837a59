"""Subscriptions as use cases: create, list, pause, resume, delete; upload watchlists.

Only partners with the subscriber role subscribe, and each sees and changes only its own
subscriptions (another partner's is the same 404 as none). Every change is logged.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from exchange.core.addresses import chain_formats
from exchange.core.claims import Category
from exchange.core.ledger import Action, Entry
from exchange.core.partners import Partner, Role
from exchange.core.subscriptions import (
    Delivery,
    Kind,
    State,
    Subscription,
    WatchEntry,
    read_watchlist,
)
from exchange.errors import InputError, PermissionDeniedError, WatchlistError
from exchange.services.alerts import alert_on_watchlist
from exchange.services.audit import record
from exchange.store.subscriptions import SubscriptionStore
from exchange.webhooks import check_webhook_url

UPLOAD_BATCH = 5_000  # entries stored and retro-matched per step
MAX_PROBLEMS = 100  # refused lines listed in the answer (all are counted)


@dataclass(frozen=True, slots=True)
class Upload:
    entries: int  # lines read as entries in this upload
    refused: int
    problems: list[dict[str, Any]]
    watched: int  # entries on the watchlist now
    alerts: int  # retro-active alerts queued


def create_subscription(
    session: Session,
    partner: Partner,
    *,
    name: str,
    kind: Kind,
    delivery: Delivery,
    webhook_url: str | None,
    chains: Iterable[str],
    categories: Iterable[Category],
    min_corroboration: int,
    min_confidence: int | None,
    allow_private_webhooks: bool,
    now: datetime,
) -> Subscription:
    _require_subscriber(partner)
    chain_set = frozenset(chains)
    unknown = sorted(chain_set - set(chain_formats()))
    if unknown:
        raise InputError(f"unknown chains: {', '.join(unknown)} (GET /api/v1/chains lists them)")
    if delivery is Delivery.WEBHOOK:
        if not webhook_url:
            raise InputError("a webhook subscription needs webhook_url")
        check_webhook_url(webhook_url, allow_private=allow_private_webhooks)
    elif webhook_url:
        raise InputError(f"webhook_url is only for webhook delivery, not {delivery}")
    subscription = Subscription(
        id=str(uuid.uuid4()),
        partner_id=partner.id,
        name=name,
        kind=kind,
        delivery=delivery,
        state=State.ACTIVE,
        created_at=now,
        webhook_url=webhook_url,
        chains=chain_set,
        categories=frozenset(categories),
        min_corroboration=min_corroboration,
        min_confidence=min_confidence,
    )
    SubscriptionStore(session).add(subscription)
    _log(session, partner, subscription.id, "create", now)
    return subscription


def list_subscriptions(session: Session, partner: Partner) -> list[Subscription]:
    return SubscriptionStore(session).of_partner(partner.id)


def get_subscription(session: Session, partner: Partner, subscription_id: str) -> Subscription:
    return SubscriptionStore(session).get(subscription_id, partner_id=partner.id)


def watched(session: Session, subscription: Subscription) -> int:
    return SubscriptionStore(session).count_entries(subscription.id)


def set_state(
    session: Session, partner: Partner, subscription_id: str, state: State, *, now: datetime
) -> Subscription:
    """Pause, resume or delete. A paused subscription is sent nothing, and nothing it
    missed meanwhile is sent on resume (a new upload retro-matches); a deleted one is gone,
    its watchlist with it, its alerts kept for the record."""
    store = SubscriptionStore(session)
    subscription = store.get(subscription_id, partner_id=partner.id)
    store.set_state(subscription_id, state, at=now)
    if state is State.DELETED:
        store.clear_entries(subscription_id)
    _log(session, partner, subscription_id, state.value, now)
    return store.get(subscription_id) if state is not State.DELETED else subscription


def upload_watchlist(
    session: Session,
    partner: Partner,
    subscription_id: str,
    lines: Iterable[str],
    *,
    ndjson: bool,
    replace: bool,
    skip_invalid: bool,
    now: datetime,
    alias_secret: bytes,
) -> Upload:
    """Add (or with `replace`, set) the watchlist's entries from `lines`, streamed in
    batches; retro-match each batch against the flags already held.

    All or nothing unless `skip_invalid`: one refused line raises WatchlistError listing
    the first MAX_PROBLEMS with line numbers, and the caller's rollback keeps the old list.
    """
    store = SubscriptionStore(session)
    subscription = store.get(subscription_id, partner_id=partner.id)
    if subscription.kind is not Kind.WATCHLIST:
        raise InputError(
            f"subscription {subscription_id} is a {subscription.kind}, not a watchlist"
        )
    if replace:
        store.clear_entries(subscription_id)
    entries = refused = alerts = 0
    problems: list[dict[str, Any]] = []
    batch: list[WatchEntry] = []

    def flush() -> int:
        store.add_entries(subscription_id, batch)
        queued = 0
        if subscription.state is State.ACTIVE:
            queued = alert_on_watchlist(
                session, subscription, batch, now=now, alias_secret=alias_secret
            )
        batch.clear()
        return queued

    for number, read in read_watchlist(lines, ndjson=ndjson):
        if isinstance(read, str):
            refused += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append({"line": number, "reason": read})
            continue
        entries += 1
        batch.append(read)
        if len(batch) >= UPLOAD_BATCH:
            if refused and not skip_invalid:
                batch.clear()  # the upload will be refused: only keep reading for problems
            else:
                alerts += flush()
    if refused and not skip_invalid:
        raise WatchlistError(
            f"{refused} line(s) refused, first at line {problems[0]['line']}: "
            f"{problems[0]['reason']}; nothing was stored (skip_invalid=true stores the rest)",
            problems,
        )
    if batch:
        alerts += flush()
    total = store.count_entries(subscription_id)
    record(
        session,
        Entry(
            Action.WATCHLIST_UPLOADED,
            now,
            partner.id,
            subscription_id,
            partners=(partner.id,),
            details={"entries": entries, "refused": refused, "replace": replace, "total": total},
        ),
    )
    return Upload(entries, refused, problems, total, alerts)


def _require_subscriber(partner: Partner) -> None:
    if not partner.has(Role.SUBSCRIBER):
        raise PermissionDeniedError("subscriptions need the subscriber role")


def _log(
    session: Session, partner: Partner, subscription_id: str, verb: str, now: datetime
) -> None:
    record(
        session,
        Entry(
            Action.SUBSCRIPTION_CHANGED,
            now,
            partner.id,
            subscription_id,
            partners=(partner.id,),
            details={"change": verb},
        ),
    )
