"""Webhook delivery to real receivers on 127.0.0.1: signed, retried, dead-lettered,
redelivered, never twice; the worker is driven round by round with its own clock."""

import json
import secrets
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from exchange.config import Settings
from exchange.core.partners import Role
from exchange.services.policy import apply_policy
from exchange.signatures import SigningKey
from exchange.webhooks import verify_webhook
from exchange.worker import Worker
from tests.factories import (
    BTC_P2PKH,
    ETH_LOWER,
    Member,
    auth,
    bundle,
    indicator,
    make_member,
    signed,
    transaction,
)
from tests.receivers import free_port, receiver


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def setup(client: TestClient, engine: Engine, url: str, addresses: list[str]) -> Member:
    """An NGO sharing with a VASP whose webhook subscription watches `addresses`."""
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    vasp = make_member(engine, "Coinbridge", roles=(Role.SUBSCRIBER,))
    with transaction(engine) as session:
        document = "agreements:\n  - {id: a, from: Hope NGO, to: Coinbridge, max_tlp: amber}\n"
        apply_policy(session, document, now=datetime.now(UTC))
    spec = {"name": "hook", "kind": "watchlist", "delivery": "webhook", "webhook_url": url}
    created = client.post("/api/v1/subscriptions", json=spec, headers=auth(vasp))
    assert created.status_code == 201, created.text
    client.put(
        f"/api/v1/subscriptions/{created.json()['id']}/watchlist",
        content="\n".join(addresses).encode(),
        headers={**auth(vasp), "Content-Type": "text/csv"},
    )
    objects = [indicator(ngo.id, a) for a in addresses]
    response = client.post(
        "/api/v1/submissions",
        content=signed(bundle(*objects), ngo.key, iat=datetime.now(UTC)),
        headers={**auth(ngo), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    return vasp


def deliveries(client: TestClient, member: Member, state: str | None = None) -> list[Any]:
    params = {"state": state} if state else {}
    response = client.get("/api/v1/deliveries", params=params, headers=auth(member))
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()
    return found


def test_an_alert_arrives_signed_and_verifies_against_the_published_keys(
    client: TestClient, engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    with receiver() as hook:
        vasp = setup(client, engine, hook.url, [ETH_LOWER])
        clock = Clock()
        worker = Worker(engine, operator_key, settings, clock=clock)
        assert worker.run_once() == 1
        worker.close()
        (got,) = hook.wait_for(1)
    jwks = client.get("/.well-known/jwks.json").json()
    assert verify_webhook(got.headers, got.body, jwks, now=clock.now) == operator_key.kid
    alert = json.loads(got.body)
    assert got.headers["webhook-id"] == alert["id"]
    assert got.headers["exchange-delivery-attempt"] == "1"
    assert alert["flag"]["address"] == ETH_LOWER
    (polled,) = client.get("/api/v1/alerts", headers=auth(vasp)).json()["alerts"]
    assert polled == alert  # the stream, polling and the webhook carry the same body
    (delivery,) = deliveries(client, vasp, "delivered")
    assert (delivery["attempts"], delivery["last_status"]) == (1, 200)


def test_a_500_is_retried_with_backoff_then_delivered(
    client: TestClient, engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    with receiver(statuses=[500]) as hook:
        vasp = setup(client, engine, hook.url, [ETH_LOWER])
        clock = Clock()
        worker = Worker(engine, operator_key, settings, clock=clock)
        assert worker.run_once() == 1
        (pending,) = deliveries(client, vasp, "pending")
        assert (pending["attempts"], pending["last_status"]) == (1, 500)
        assert worker.run_once() == 0  # not due yet: backoff
        clock.advance(seconds=settings.webhook_first_retry_seconds + 1)
        assert worker.run_once() == 1
        worker.close()
        (got,) = hook.wait_for(1)
    assert got.headers["exchange-delivery-attempt"] == "2"
    (delivered,) = deliveries(client, vasp, "delivered")
    assert delivered["attempts"] == 2


def test_a_receiver_down_for_a_while_loses_nothing_and_gets_no_duplicates(
    client: TestClient, engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    port = free_port()
    vasp = setup(client, engine, f"http://127.0.0.1:{port}/hook", [ETH_LOWER, BTC_P2PKH])
    clock = Clock()
    worker = Worker(engine, operator_key, settings, clock=clock)
    for _ in range(3):  # down: connection refused, three rounds
        worker.run_once()
        clock.advance(hours=1)
    assert {d["state"] for d in deliveries(client, vasp)} == {"pending"}
    with receiver(port=port) as hook:
        assert worker.run_once() == 2
        worker.run_once()
        clock.advance(hours=2)
        worker.run_once()
        worker.close()
        got = hook.wait_for(2)
    assert len(got) == 2
    assert len(set(hook.ids)) == 2
    assert {d["state"] for d in deliveries(client, vasp)} == {"delivered"}


def test_past_the_horizon_a_delivery_is_dead_and_can_be_redelivered(
    client: TestClient, engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    short = settings.model_copy(update={"webhook_horizon_seconds": 60})
    with receiver(statuses=[503] * 20) as hook:
        vasp = setup(client, engine, hook.url, [ETH_LOWER])
        clock = Clock()
        worker = Worker(engine, operator_key, short, clock=clock)
        while not deliveries(client, vasp, "dead"):
            assert worker.run_once() == 1
            clock.advance(seconds=30)
        (dead,) = deliveries(client, vasp, "dead")
        assert dead["last_status"] == 503
        assert dead["next_attempt_at"] is None
        hook.statuses.clear()
        again = client.post(f"/api/v1/deliveries/{dead['alert_id']}/redeliver", headers=auth(vasp))
        assert again.status_code == 200
        assert again.json()["state"] == "pending"
        assert worker.run_once() == 1
        worker.close()
        (got,) = hook.wait_for(1)
    assert got.headers["webhook-id"] == dead["alert_id"]
    assert deliveries(client, vasp, "delivered")[0]["alert_id"] == dead["alert_id"]


def test_another_partners_delivery_cannot_be_seen_or_redelivered(
    client: TestClient, engine: Engine
) -> None:
    with receiver() as hook:
        vasp = setup(client, engine, hook.url, [ETH_LOWER])
    (delivery,) = deliveries(client, vasp)
    other = make_member(engine, "Other", roles=(Role.SUBSCRIBER,))
    assert deliveries(client, other) == []
    response = client.post(
        f"/api/v1/deliveries/{delivery['alert_id']}/redeliver", headers=auth(other)
    )
    assert response.status_code == 404


def test_two_workers_never_deliver_the_same_attempt(
    client: TestClient, engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    addresses = [f"0x{secrets.token_hex(20)}" for _ in range(40)]
    with receiver() as hook:
        setup(client, engine, hook.url, addresses)
        workers = [Worker(engine, operator_key, settings, batch=3) for _ in range(2)]
        start = threading.Barrier(2)

        def run(worker: Worker) -> None:
            start.wait()
            while worker.run_once():
                pass

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        for worker in workers:
            worker.close()
        hook.wait_for(len(addresses))
    assert sorted(Counter(hook.ids).values()) == [1] * len(addresses)
    assert {r.headers["exchange-delivery-attempt"] for r in hook.received} == {"1"}


def test_an_expired_report_is_followed_by_one_revocation_notice(
    client: TestClient, engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    vasp = make_member(engine, "Coinbridge", roles=(Role.SUBSCRIBER,))
    with transaction(engine) as session:
        document = "agreements:\n  - {id: a, from: Hope NGO, to: Coinbridge, max_tlp: amber}\n"
        apply_policy(session, document, now=datetime.now(UTC))
    spec = {"name": "feed", "kind": "feed", "delivery": "poll"}
    assert client.post("/api/v1/subscriptions", json=spec, headers=auth(vasp)).status_code == 201
    expiring = indicator(ngo.id, ETH_LOWER, valid_until="2030-01-01T00:00:00Z")
    lasting = indicator(ngo.id, BTC_P2PKH)
    response = client.post(
        "/api/v1/submissions",
        content=signed(bundle(expiring, lasting), ngo.key, iat=datetime.now(UTC)),
        headers={**auth(ngo), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    clock = Clock()
    worker = Worker(engine, operator_key, settings, clock=clock)
    assert worker.sweep() == 0  # nothing has expired yet
    clock.now = datetime(2030, 1, 2, tzinfo=UTC)
    assert worker.sweep() == 1
    assert worker.sweep() == 0  # once only
    worker.close()
    alerts = client.get("/api/v1/alerts", headers=auth(vasp)).json()["alerts"]
    kinds = [(a["type"], a["flag"]["address"]) for a in alerts]
    assert kinds[-1] == ("revocation", ETH_LOWER)
    assert set(kinds[:-1]) == {("alert", BTC_P2PKH), ("alert", ETH_LOWER)}
    assert alerts[-1]["reason"] == "expired"
    assert alerts[-1]["effective"].startswith("2030-01-01T00:00:00")
