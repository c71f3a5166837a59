"""Subscriptions and watchlist entries. Queries live here. Never commits."""

import json
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from exchange.core.claims import Category
from exchange.core.subscriptions import Delivery, Kind, State, Subscription, WatchEntry
from exchange.errors import NotFoundError
from exchange.store.inserts import bulk_insert
from exchange.store.keys import pairs_in
from exchange.store.tables import SubscriptionRow, WatchEntryRow


class SubscriptionStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, subscription: Subscription) -> None:
        self._session.add(
            SubscriptionRow(
                id=subscription.id,
                partner_id=subscription.partner_id,
                name=subscription.name,
                kind=subscription.kind.value,
                chains=json.dumps(sorted(subscription.chains)),
                categories=json.dumps(sorted(subscription.categories)),
                min_corroboration=subscription.min_corroboration,
                min_confidence=subscription.min_confidence,
                delivery=subscription.delivery.value,
                webhook_url=subscription.webhook_url,
                state=subscription.state.value,
                created_at=subscription.created_at,
                updated_at=subscription.created_at,
            )
        )
        self._session.flush()

    def get(self, subscription_id: str, *, partner_id: str | None = None) -> Subscription:
        """Raises NotFoundError, also for another partner's (or a deleted) subscription."""
        row = self._session.get(SubscriptionRow, subscription_id)
        if row is None or row.state == State.DELETED or partner_id not in (None, row.partner_id):
            raise NotFoundError(f"no subscription {subscription_id}")
        return _to_subscription(row)

    def of_partner(self, partner_id: str) -> list[Subscription]:
        rows = self._session.exec(
            select(SubscriptionRow)
            .where(SubscriptionRow.partner_id == partner_id)
            .where(SubscriptionRow.state != State.DELETED.value)
            .order_by(col(SubscriptionRow.created_at), col(SubscriptionRow.id))
        )
        return [_to_subscription(row) for row in rows]

    def active(self, ids: Collection[str]) -> dict[str, Subscription]:
        found: dict[str, Subscription] = {}
        unique = list(set(ids))
        for start in range(0, len(unique), 500):
            rows = self._session.exec(
                select(SubscriptionRow)
                .where(col(SubscriptionRow.id).in_(unique[start : start + 500]))
                .where(SubscriptionRow.state == State.ACTIVE.value)
            )
            found.update((row.id, _to_subscription(row)) for row in rows)
        return found

    def any_active(self) -> bool:
        """Whether any subscription is active: if none, no submission needs matching."""
        found = self._session.exec(
            select(SubscriptionRow.id).where(SubscriptionRow.state == State.ACTIVE.value).limit(1)
        ).first()
        return found is not None

    def active_feeds(self) -> list[Subscription]:
        rows = self._session.exec(
            select(SubscriptionRow)
            .where(SubscriptionRow.kind == Kind.FEED.value)
            .where(SubscriptionRow.state == State.ACTIVE.value)
        )
        return [_to_subscription(row) for row in rows]

    def set_state(self, subscription_id: str, state: State, *, at: datetime) -> None:
        self._session.execute(
            update(SubscriptionRow)
            .where(col(SubscriptionRow.id) == subscription_id)
            .values(state=state.value, updated_at=at)
        )

    # Watchlists

    def add_entries(self, subscription_id: str, entries: Sequence[WatchEntry]) -> None:
        rows = {
            (e.match_chain, e.address): {
                "subscription_id": subscription_id,
                "match_chain": e.match_chain,
                "address": e.address,
                "chain": e.chain,
            }
            for e in entries
        }
        bulk_insert(self._session, WatchEntryRow, list(rows.values()), skip_existing=True)

    def clear_entries(self, subscription_id: str) -> None:
        self._session.execute(
            delete(WatchEntryRow).where(col(WatchEntryRow.subscription_id) == subscription_id)
        )

    def count_entries(self, subscription_id: str) -> int:
        return self._session.exec(
            select(func.count())
            .select_from(WatchEntryRow)
            .where(WatchEntryRow.subscription_id == subscription_id)
        ).one()

    def watching(self, keys: Collection[tuple[str, str]]) -> list[tuple[str, WatchEntry]]:
        """(subscription id, entry) for every watchlist entry on one of `keys`."""
        found: list[tuple[str, WatchEntry]] = []
        for matching in pairs_in(col(WatchEntryRow.match_chain), col(WatchEntryRow.address), keys):
            rows = self._session.exec(select(WatchEntryRow).where(matching))
            found.extend(
                (row.subscription_id, WatchEntry(row.match_chain, row.address, row.chain))
                for row in rows
            )
        return found


def _to_subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        partner_id=row.partner_id,
        name=row.name,
        kind=Kind(row.kind),
        delivery=Delivery(row.delivery),
        state=State(row.state),
        created_at=row.created_at,
        webhook_url=row.webhook_url,
        chains=frozenset(json.loads(row.chains)),
        categories=frozenset(Category(c) for c in json.loads(row.categories)),
        min_corroboration=row.min_corroboration,
        min_confidence=row.min_confidence,
    )
