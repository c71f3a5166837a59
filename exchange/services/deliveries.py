"""Webhook deliveries as use cases: claim due attempts, record what the receivers said.

The worker (exchange.worker) owns the transactions and the HTTP; these functions only read
and write through the stores, in the caller's transaction.
"""

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from exchange.core.ledger import Action, Entry
from exchange.core.partners import Partner
from exchange.core.subscriptions import retry_delay
from exchange.services.audit import record
from exchange.store.alerts import Attempt, DeliveryStore, DeliveryView


@dataclass(frozen=True, slots=True)
class Schedule:
    first_retry: timedelta = timedelta(seconds=5)
    max_retry: timedelta = timedelta(hours=1)
    horizon: timedelta = timedelta(hours=24)  # then dead-lettered
    lease: timedelta = timedelta(seconds=60)  # a claimed attempt's time to finish


@dataclass(frozen=True, slots=True)
class Result:
    attempt: Attempt
    status: int | None  # the receiver's HTTP status; None when it was not reached
    error: str | None  # None: delivered

    @property
    def delivered(self) -> bool:
        return self.error is None


def claim(session: Session, *, now: datetime, limit: int, schedule: Schedule) -> list[Attempt]:
    return DeliveryStore(session).claim(now=now, limit=limit, lease=schedule.lease)


def settle_attempts(
    session: Session,
    results: Sequence[Result],
    *,
    now: datetime,
    schedule: Schedule,
    jitter: random.Random,
) -> None:
    """Delivered, retried later with backoff, or dead once past the horizon; deliveries are
    logged per recipient."""
    store = DeliveryStore(session)
    delivered: dict[str, list[str]] = defaultdict(list)
    store.delivered(
        [(r.attempt.alert_id, r.attempt.attempt, r.status or 0) for r in results if r.delivered],
        at=now,
    )
    for result in results:
        attempt = result.attempt
        if result.delivered:
            delivered[attempt.partner_id].append(attempt.alert_id)
            continue
        delay = retry_delay(
            attempt.attempt,
            first=schedule.first_retry,
            cap=schedule.max_retry,
            jitter=jitter.random(),
        )
        retry_at: datetime | None = now + delay
        if now + delay - attempt.created_at > schedule.horizon:
            retry_at = None  # dead-lettered
        store.failed(
            attempt.alert_id,
            attempt.attempt,
            status=result.status,
            error=result.error or "",
            retry_at=retry_at,
        )
    if delivered:
        record(
            session,
            *(
                Entry(
                    Action.ALERTS_DELIVERED,
                    now,
                    "exchange",
                    recipient,
                    partners=(recipient,),
                    details={"channel": "webhook", "alerts": sorted(ids)},
                )
                for recipient, ids in sorted(delivered.items())
            ),
        )


def list_deliveries(
    session: Session, partner: Partner, *, state: str | None, after: str | None, limit: int
) -> list[DeliveryView]:
    return DeliveryStore(session).of_partner(partner.id, state=state, after=after, limit=limit)


def redeliver(session: Session, partner: Partner, alert_id: str, *, now: datetime) -> DeliveryView:
    """Queue the webhook delivery of one of the partner's alerts again, at once."""
    return DeliveryStore(session).redeliver(alert_id, partner.id, now=now)
