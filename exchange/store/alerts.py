"""Alerts (the outbox) and their webhook deliveries. Queries live here. Never commits.

Alerts are inserted after the transaction's sharing-log entry, which holds the log's lock
until commit: alert sequence numbers are therefore assigned in commit order, and a reader
resuming after cursor N never misses an alert committed later with a smaller number.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from exchange.errors import NotFoundError
from exchange.store.inserts import bulk_insert
from exchange.store.tables import AlertRow, DeliveryRow, ReportRow

CHANNEL = "exchange_alerts"  # PostgreSQL NOTIFY channel: new deliveries or alerts


@dataclass(frozen=True, slots=True)
class NewAlert:
    id: str
    kind: str
    partner_id: str
    subscription_id: str
    report_id: int
    flag_id: int
    body: str
    webhook_url: str | None  # a delivery is queued when set
    why: str = ""  # for the sharing log: the policy version and rule that allowed it


@dataclass(frozen=True, slots=True)
class Attempt:
    """A claimed delivery attempt: the worker owns it until `lease_until`."""

    alert_id: str
    partner_id: str
    url: str
    body: str
    attempt: int
    created_at: datetime  # when the delivery was queued: the dead-letter horizon counts from it


@dataclass(frozen=True, slots=True)
class DeliveryView:
    alert_id: str
    subscription_id: str
    url: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class AlertStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            found.update(
                self._session.exec(
                    select(AlertRow.id).where(col(AlertRow.id).in_(ids[start : start + 500]))
                )
            )
        return found

    def add(self, alerts: Sequence[NewAlert], *, at: datetime) -> int:
        """Store new alerts (the caller checked `existing` under the log's lock) and queue
        their webhook deliveries; returns how many."""
        fresh = alerts
        bulk_insert(
            self._session,
            AlertRow,
            [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "partner_id": a.partner_id,
                    "subscription_id": a.subscription_id,
                    "report_id": a.report_id,
                    "flag_id": a.flag_id,
                    "body": a.body,
                    "created_at": at,
                }
                for a in fresh
            ],
        )
        bulk_insert(
            self._session,
            DeliveryRow,
            [
                {
                    "alert_id": a.id,
                    "partner_id": a.partner_id,
                    "subscription_id": a.subscription_id,
                    "url": a.webhook_url,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                }
                for a in fresh
                if a.webhook_url is not None
            ],
        )
        if fresh:
            _notify(self._session)
        return len(fresh)

    def since(
        self, partner_id: str, after: int, limit: int, *, subscription_id: str | None = None
    ) -> list[tuple[int, str]]:
        """(cursor, body) of the partner's alerts after cursor `after`, oldest first."""
        query = (
            select(AlertRow.seq, AlertRow.body)
            .where(AlertRow.partner_id == partner_id)
            .where(col(AlertRow.seq) > after)
        )
        if subscription_id is not None:
            query = query.where(AlertRow.subscription_id == subscription_id)
        rows = self._session.exec(query.order_by(col(AlertRow.seq)).limit(limit))
        return [(seq, body) for seq, body in rows if seq is not None]

    def page(
        self,
        partner_id: str,
        *,
        after: int,
        limit: int,
        report_ids: Collection[int] | None = None,
        added_after: datetime | None = None,
    ) -> list[tuple[int, int, datetime, str]]:
        """(cursor, report id, created at, body) of the partner's alerts (not revocation
        notices) after cursor `after`, oldest first; only those about `report_ids` if given."""
        query = (
            select(AlertRow.seq, AlertRow.report_id, AlertRow.created_at, AlertRow.body)
            .where(AlertRow.partner_id == partner_id)
            .where(AlertRow.kind == "alert")
            .where(col(AlertRow.seq) > after)
        )
        if report_ids is not None:
            query = query.where(col(AlertRow.report_id).in_(list(report_ids)))
        if added_after is not None:
            query = query.where(col(AlertRow.created_at) > added_after)
        rows = self._session.exec(query.order_by(col(AlertRow.seq)).limit(limit))
        return [(seq, report, at, body) for seq, report, at, body in rows if seq is not None]

    def sent_on_flag(self, flag_id: int) -> list[tuple[str, str, str, str]]:
        """(subscription id, partner id, alert id, body) of every alert about the flag."""
        rows = self._session.exec(
            select(AlertRow.subscription_id, AlertRow.partner_id, AlertRow.id, AlertRow.body)
            .where(AlertRow.flag_id == flag_id)
            .where(AlertRow.kind == "alert")
            .order_by(col(AlertRow.seq))
        )
        return list(rows)

    def expired_unnotified(self, *, now: datetime) -> list[tuple[int, datetime]]:
        """(report id, valid_until) of reports past `valid_until` that alerts were about
        and that no revocation notice has followed yet."""
        notice = aliased(AlertRow)
        rows = self._session.exec(
            select(ReportRow.id, ReportRow.valid_until)
            .join(AlertRow, col(AlertRow.report_id) == col(ReportRow.id))
            .outerjoin(
                notice,
                and_(col(notice.report_id) == col(ReportRow.id), col(notice.kind) == "revocation"),
            )
            .where(AlertRow.kind == "alert")
            .where(col(ReportRow.valid_until) <= now)
            .where(col(ReportRow.revoked_at).is_(None))
            .where(col(notice.seq).is_(None))
            .distinct()
        )
        return [(id_, until) for id_, until in rows if id_ is not None and until is not None]


class DeliveryStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(self, *, now: datetime, limit: int, lease: timedelta) -> list[Attempt]:
        """Take up to `limit` due deliveries; each is leased: not due again until the lease
        ends (then a crashed worker's attempt is retried). Concurrent workers on PostgreSQL
        skip each other's rows; SQLite's writers are serialised."""
        rows = self._session.exec(
            select(DeliveryRow, AlertRow.body)
            .join(AlertRow, col(AlertRow.id) == col(DeliveryRow.alert_id))
            .where(DeliveryRow.state == "pending")
            .where(col(DeliveryRow.next_attempt_at) <= now)
            .order_by(col(DeliveryRow.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True, of=DeliveryRow)
        ).all()
        attempts = []
        for row, body in rows:
            row.attempts += 1
            row.next_attempt_at = now + lease
            self._session.add(row)
            attempts.append(
                Attempt(row.alert_id, row.partner_id, row.url, body, row.attempts, row.created_at)
            )
        self._session.flush()
        return attempts

    def delivered(self, attempts: Sequence[tuple[str, int, int]], *, at: datetime) -> None:
        """Record 2xx answers, (alert id, attempt, status) each, in one statement; only the
        attempt that holds the lease may finish a delivery (not a late, superseded one)."""
        if not attempts:
            return
        table = DeliveryRow.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(table.c.alert_id == bindparam("b_alert"))
            .where(table.c.attempts == bindparam("b_attempt"))
            .where(table.c.state == "pending")
            .values(state="delivered", last_status=bindparam("b_status"), delivered_at=at)
        )
        self._session.execute(
            statement,
            [{"b_alert": a, "b_attempt": n, "b_status": status} for a, n, status in attempts],
        )

    def failed(
        self,
        alert_id: str,
        attempt: int,
        *,
        status: int | None,
        error: str,
        retry_at: datetime | None,
    ) -> None:
        """Record a failed attempt: due again at `retry_at`, or dead when it is None."""
        values: dict[str, Any] = {"last_error": error[:500], "state": "dead"}
        if retry_at is not None:
            values |= {"state": "pending", "next_attempt_at": retry_at}
        self._finish(alert_id, attempt, status=status, **values)

    def _finish(self, alert_id: str, attempt: int, *, status: int | None, **values: Any) -> None:
        # As `delivered`: only the attempt that holds the lease may finish it.
        self._session.execute(
            update(DeliveryRow)
            .where(col(DeliveryRow.alert_id) == alert_id)
            .where(col(DeliveryRow.attempts) == attempt)
            .where(col(DeliveryRow.state) == "pending")
            .values(last_status=status, **values)
        )

    def of_partner(
        self, partner_id: str, *, state: str | None, after: str | None, limit: int
    ) -> list[DeliveryView]:
        query = select(DeliveryRow).where(DeliveryRow.partner_id == partner_id)
        if state is not None:
            query = query.where(DeliveryRow.state == state)
        if after is not None:
            query = query.where(col(DeliveryRow.alert_id) > after)
        rows = self._session.exec(query.order_by(col(DeliveryRow.alert_id)).limit(limit))
        return [_view(row) for row in rows]

    def redeliver(self, alert_id: str, partner_id: str, *, now: datetime) -> DeliveryView:
        """Queue a delivery again now (any state); raises NotFoundError."""
        row = self._session.get(DeliveryRow, alert_id, with_for_update=True)
        if row is None or row.partner_id != partner_id:
            raise NotFoundError(f"no delivery of alert {alert_id}")
        row.state, row.next_attempt_at, row.created_at = "pending", now, now
        self._session.add(row)
        self._session.flush()
        _notify(self._session)
        return _view(row)

    def next_due(self) -> datetime | None:
        return self._session.exec(
            select(DeliveryRow.next_attempt_at)
            .where(DeliveryRow.state == "pending")
            .order_by(col(DeliveryRow.next_attempt_at))
            .limit(1)
        ).first()


def _view(row: DeliveryRow) -> DeliveryView:
    return DeliveryView(
        alert_id=row.alert_id,
        subscription_id=row.subscription_id,
        url=row.url,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


def _notify(session: Session) -> None:
    """Wake workers and streams once this transaction commits: NOTIFY on PostgreSQL (sent at
    commit), and a mark the edge that commits reads to wake its own process."""
    session.info["outbox"] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))
