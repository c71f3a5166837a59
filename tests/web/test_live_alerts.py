"""The served exchange as subscribers meet it: the in-process worker delivers at once, and
the Server-Sent Events stream resumes from Last-Event-ID without gaps."""

import json
from datetime import UTC, datetime

import httpx2 as httpx
import pytest
from sqlalchemy import Engine

from exchange.client import ExchangeClient
from exchange.config import Settings
from exchange.core.partners import Role
from exchange.services.policy import apply_policy
from tests.factories import Member, bundle, indicator, make_member, signed, transaction
from tests.receivers import receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"worker": True})


def _world(engine: Engine) -> tuple[Member, Member]:
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    vasp = make_member(engine, "Coinbridge", roles=(Role.SUBSCRIBER,))
    with transaction(engine) as session:
        document = "agreements:\n  - {id: a, from: Hope NGO, to: Coinbridge, max_tlp: amber}\n"
        apply_policy(session, document, now=datetime.now(UTC))
    return ngo, vasp


def _flag(url: str, ngo: Member, *addresses: str) -> None:
    body = signed(
        bundle(*(indicator(ngo.id, a) for a in addresses)), ngo.key, iat=datetime.now(UTC)
    )
    with ExchangeClient(url, key=ngo.key) as client:
        client.call(
            "POST",
            "/api/v1/submissions",
            content=body,
            headers={"Content-Type": "application/json"},
        )


def test_the_served_exchange_delivers_a_webhook_by_itself(live_url: str, engine: Engine) -> None:
    ngo, vasp = _world(engine)
    address = "0x" + "ab" * 20
    with receiver() as hook, ExchangeClient(live_url, key=vasp.key) as client:
        spec = {"name": "h", "kind": "watchlist", "delivery": "webhook", "webhook_url": hook.url}
        subscription = client.call("POST", "/api/v1/subscriptions", json=spec)["id"]
        client.call(
            "PUT",
            f"/api/v1/subscriptions/{subscription}/watchlist",
            content=address.encode(),
            headers={"Content-Type": "text/csv"},
        )
        _flag(live_url, ngo, address)
        (got,) = hook.wait_for(1, timeout=10)  # how fast: bench/alerts.py (p50 2-4 ms)
    assert json.loads(got.body)["flag"]["address"] == address


def test_the_stream_resumes_after_the_last_event_without_gaps(
    live_url: str, engine: Engine
) -> None:
    ngo, vasp = _world(engine)
    addresses = [f"0x{i:040x}" for i in range(1, 4)]
    with ExchangeClient(live_url, key=vasp.key) as client:
        spec = {"name": "s", "kind": "watchlist", "delivery": "stream"}
        subscription = client.call("POST", "/api/v1/subscriptions", json=spec)["id"]
        client.call(
            "PUT",
            f"/api/v1/subscriptions/{subscription}/watchlist",
            content="\n".join(addresses).encode(),
            headers={"Content-Type": "text/csv"},
        )
        _flag(live_url, ngo, addresses[0])
        _flag(live_url, ngo, addresses[1])
        events = client.events("/api/v1/alerts/stream")
        first = [next(events) for _ in range(2)]
        events.close()  # the subscriber goes away...
        _flag(live_url, ngo, addresses[2])  # ...and misses this one while away
        resumed = client.events("/api/v1/alerts/stream", after=first[-1][0])
        cursor, kind, data = next(resumed)
        resumed.close()
    seen = [json.loads(d)["flag"]["address"] for _, _, d in first] + [
        json.loads(data)["flag"]["address"]
    ]
    assert seen == addresses
    assert kind == "alert"
    assert cursor > first[-1][0]


def test_the_stream_refuses_a_cursor_it_did_not_send(live_url: str, engine: Engine) -> None:
    _, vasp = _world(engine)
    with ExchangeClient(live_url, key=vasp.key) as client:
        response = httpx.get(
            f"{live_url}/api/v1/alerts/stream",
            headers=client._auth() | {"Last-Event-ID": "abc"},
        )
    assert response.status_code == 422
