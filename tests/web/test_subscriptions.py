"""Subscriptions, watchlists and alerts as subscribers see them over the API (polling)."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from exchange.core.claims import Tlp
from exchange.core.partners import Role
from exchange.services.policy import apply_policy
from exchange.store.ledger import LedgerStore
from tests.factories import (
    BTC_BECH32,
    BTC_P2PKH,
    ETH_CHECKSUMMED,
    ETH_LOWER,
    Member,
    auth,
    bundle,
    indicator,
    make_member,
    signed,
    transaction,
)

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "alert.schema.json").read_text())
# OFAC-listed Bitcoin Cash address (../shared/data/ofac): one key, three spellings.
BCH_LEGACY = "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB"


def submit(client: TestClient, member: Member, *objects: dict[str, Any]) -> httpx.Response:
    response = client.post(
        "/api/v1/submissions",
        content=signed(bundle(*objects), member.key, iat=datetime.now(UTC)),
        headers={**auth(member), "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 201), response.text
    return response


def subscribe(client: TestClient, member: Member, **spec: Any) -> dict[str, Any]:
    body = {"name": "watch", "kind": "watchlist", "delivery": "poll"} | spec
    response = client.post("/api/v1/subscriptions", json=body, headers=auth(member))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def upload(
    client: TestClient, member: Member, subscription: str, text: str, **params: Any
) -> httpx.Response:
    return client.put(
        f"/api/v1/subscriptions/{subscription}/watchlist",
        content=text.encode(),
        params=params,
        headers={**auth(member), "Content-Type": params.pop("content_type", "text/csv")},
    )


def poll(client: TestClient, member: Member, after: int = 0) -> list[dict[str, Any]]:
    response = client.get("/api/v1/alerts", params={"after": after}, headers=auth(member))
    assert response.status_code == 200, response.text
    alerts: list[dict[str, Any]] = response.json()["alerts"]
    for alert in alerts:
        jsonschema.validate(alert, SCHEMA)
    return alerts


@pytest.fixture
def world(engine: Engine) -> tuple[Member, Member, Member]:
    """An NGO sharing AMBER human-trafficking and sanctions reports with a VASP; a bank
    outside every agreement."""
    ngo = make_member(engine, "Hope NGO", roles=(Role.SUBMITTER,))
    vasp = make_member(engine, "Coinbridge", roles=(Role.SUBSCRIBER,))
    bank = make_member(engine, "First Bank", roles=(Role.SUBSCRIBER,))
    document = """
agreements:
  - id: hope-to-vasp
    from: Hope NGO
    to: Coinbridge
    max_tlp: amber
    categories: [human-trafficking, sanctions]
"""
    with transaction(engine) as session:
        apply_policy(session, document, now=datetime.now(UTC))
    return ngo, vasp, bank


def test_a_watched_address_alerts_once_in_any_spelling(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, _ = world
    watch = subscribe(client, vasp)
    assert upload(client, vasp, watch["id"], f"address\n{ETH_LOWER}\n").status_code == 200

    first = submit(client, ngo, indicator(ngo.id, ETH_CHECKSUMMED, chain="ethereum"))
    (alert,) = poll(client, vasp)
    assert alert["type"] == "alert"
    assert alert["subscription"] == watch["id"]
    assert alert["flag"]["address"] == ETH_LOWER
    assert [r["submitter"] for r in alert["reports"]] == [ngo.id]
    assert alert["reports"][0]["new"] is True
    assert alert["stix"]["objects"]

    # The same bundle again, and the same claim in a new bundle: no second alert.
    client.post(
        "/api/v1/submissions",
        content=first.request.content,
        headers={**auth(ngo), "Content-Type": "application/json"},
    )
    submit(client, ngo, indicator(ngo.id, ETH_LOWER, chain="ethereum"))
    assert len(poll(client, vasp)) == 1


def test_a_watchlist_line_in_a_third_spelling_matches(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, _ = world
    submit(client, ngo, indicator(ngo.id, BCH_LEGACY, chain="bitcoin-cash", category="sanctions"))
    flag = client.get(f"/api/v1/flags/bitcoin-cash/{BCH_LEGACY}", headers=auth(ngo)).json()
    cashaddr = flag["address"]
    assert cashaddr.startswith("bitcoincash:")
    watch = subscribe(client, vasp)
    # Without the prefix, in capitals: the spelling a user might paste from a block explorer.
    third = cashaddr.removeprefix("bitcoincash:").upper()
    answer = upload(client, vasp, watch["id"], f"{third},bitcoin-cash\n")
    assert answer.status_code == 200, answer.text
    assert answer.json()["alerts"] == 1  # retro-active: the flag was already there
    (alert,) = poll(client, vasp)
    assert alert["flag"]["address"] == cashaddr


def test_nothing_the_policy_withholds_is_alerted(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, bank = world
    for member in (vasp, bank):
        watch = subscribe(client, member)
        upload(client, member, watch["id"], f"{BTC_P2PKH}\n{BTC_BECH32}\n{ETH_LOWER}\n")
    submit(
        client,
        ngo,
        indicator(ngo.id, BTC_P2PKH, category="scam"),  # not in the agreement
        indicator(ngo.id, BTC_BECH32, tlp=Tlp.RED),  # never through feeds
        indicator(ngo.id, ETH_LOWER, chain="ethereum", category="sanctions"),
    )
    assert [a["flag"]["address"] for a in poll(client, vasp)] == [ETH_LOWER]
    assert poll(client, bank) == []  # no agreement reaches the bank
    body = json.dumps(poll(client, vasp))
    assert "case_reference" not in body
    assert "submission" not in body


def test_feeds_filter_by_chain_category_and_confidence(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, _ = world
    subscribe(
        client,
        vasp,
        kind="feed",
        chains=["bitcoin"],
        categories=["sanctions"],
        min_confidence=50,
    )
    submit(
        client,
        ngo,
        indicator(ngo.id, BTC_P2PKH, category="sanctions", confidence=90),
        indicator(ngo.id, BTC_BECH32, category="sanctions", confidence=10),
        indicator(ngo.id, ETH_LOWER, chain="ethereum", category="sanctions"),
    )
    assert [a["flag"]["address"] for a in poll(client, vasp)] == [BTC_P2PKH]


def test_a_paused_subscription_is_told_nothing_and_a_deleted_one_is_gone(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, _ = world
    watch = subscribe(client, vasp)
    upload(client, vasp, watch["id"], f"{BTC_P2PKH}\n{ETH_LOWER}\n")
    paused = client.post(f"/api/v1/subscriptions/{watch['id']}/pause", headers=auth(vasp))
    assert paused.json()["state"] == "paused"
    submit(client, ngo, indicator(ngo.id, BTC_P2PKH, category="sanctions"))
    assert poll(client, vasp) == []
    client.post(f"/api/v1/subscriptions/{watch['id']}/resume", headers=auth(vasp))
    submit(client, ngo, indicator(ngo.id, ETH_LOWER, chain="ethereum", category="sanctions"))
    assert [a["flag"]["address"] for a in poll(client, vasp)] == [ETH_LOWER]

    gone = client.delete(f"/api/v1/subscriptions/{watch['id']}", headers=auth(vasp))
    assert gone.status_code == 204
    assert (
        client.get(f"/api/v1/subscriptions/{watch['id']}", headers=auth(vasp)).status_code == 404
    )
    assert client.get("/api/v1/subscriptions", headers=auth(vasp)).json() == []


def test_subscriptions_are_private_to_their_owner_and_need_the_role(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, bank = world
    watch = subscribe(client, vasp)
    assert (
        client.get(f"/api/v1/subscriptions/{watch['id']}", headers=auth(bank)).status_code == 404
    )
    assert upload(client, bank, watch["id"], f"{ETH_LOWER}\n").status_code == 404
    denied = client.post(
        "/api/v1/subscriptions",
        json={"name": "x", "kind": "feed", "delivery": "poll"},
        headers=auth(ngo),
    )
    assert denied.status_code == 403


def test_bad_watchlist_lines_are_named_and_change_nothing(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    _, vasp, _ = world
    watch = subscribe(client, vasp)
    upload(client, vasp, watch["id"], f"{ETH_LOWER}\n")
    text = f"{BTC_P2PKH}\n{BTC_P2PKH[:-1]}Y\n\n# a comment\nnot-an-address\n"
    refused = upload(client, vasp, watch["id"], text, mode="replace")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [p["line"] for p in refused.json()["errors"]] == [2, 5]
    unchanged = client.get(f"/api/v1/subscriptions/{watch['id']}", headers=auth(vasp)).json()
    assert unchanged["watchlist_entries"] == 1

    kept = upload(client, vasp, watch["id"], text, mode="replace", skip_invalid="true")
    assert kept.status_code == 200
    assert (kept.json()["entries"], kept.json()["refused"]) == (1, 2)
    assert kept.json()["watchlist_entries"] == 1  # replaced: only the valid line remains


def test_ndjson_watchlists_and_wrong_content_types(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    _, vasp, _ = world
    watch = subscribe(client, vasp)
    lines = "\n".join(
        json.dumps(line)
        for line in (
            {"address": ETH_CHECKSUMMED},
            {"address": BTC_BECH32.upper(), "chain": "bitcoin"},
        )
    )
    ok = upload(client, vasp, watch["id"], lines, content_type="application/x-ndjson")
    assert ok.status_code == 200, ok.text
    assert ok.json()["watchlist_entries"] == 2
    bad = upload(client, vasp, watch["id"], "{}", content_type="application/x-ndjson")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["line"] == 1
    wrong = upload(client, vasp, watch["id"], "x", content_type="application/pdf")
    assert wrong.status_code == 422


def test_a_withdrawn_report_sends_a_revocation_notice(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, _ = world
    watch = subscribe(client, vasp)
    upload(client, vasp, watch["id"], f"{ETH_LOWER}\n")
    submit(client, ngo, indicator(ngo.id, ETH_LOWER, chain="ethereum"))
    (alert,) = poll(client, vasp)
    report = alert["reports"][0]["id"]
    revoked = client.post(f"/api/v1/reports/{report}/revoke", headers=auth(ngo))
    assert revoked.status_code == 204
    first, notice = poll(client, vasp)
    assert first == alert
    assert notice["type"] == "revocation"
    assert notice["report"] == report
    assert notice["alerts"] == [alert["id"]]
    assert notice["reason"] == "revoked"


def test_webhook_subscriptions_refuse_private_targets_unless_allowed(
    engine: Engine, settings: Any, operator_key: Any
) -> None:
    from exchange.web.app import create_app

    strict = settings.model_copy(update={"webhook_allow_private": False})
    vasp = make_member(engine, "Coinbridge", roles=(Role.SUBSCRIBER,))
    with TestClient(create_app(strict, operator_key=operator_key)) as client:
        for url in ("http://127.0.0.1:9/hook", "https://169.254.169.254/", "https://10.0.0.1/"):
            response = client.post(
                "/api/v1/subscriptions",
                json={"name": "w", "kind": "feed", "delivery": "webhook", "webhook_url": url},
                headers=auth(vasp),
            )
            assert response.status_code == 422, (url, response.text)
        assert client.get("/api/v1/subscriptions", headers=auth(vasp)).json() == []


def test_every_alert_is_in_the_sharing_log_with_its_recipient_and_the_rule_that_allowed_it(
    client: TestClient, engine: Engine, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, _ = world
    watch = subscribe(client, vasp)
    upload(client, vasp, watch["id"], f"{ETH_LOWER}\n")
    submit(client, ngo, indicator(ngo.id, ETH_LOWER, chain="ethereum"))
    (alert,) = poll(client, vasp)
    with transaction(engine) as session:
        found = LedgerStore(session).entries(action="exchange:report:disclose")
    (disclosed,) = [json.loads(body) for _, body in found]
    assert disclosed["partners"] == [vasp.id]  # never the submitter or other subscribers
    (logged,) = disclosed["details"]["alerts"]
    assert logged["id"] == alert["id"]
    assert logged["why"] == "policy v1: hope-to-vasp"


def test_an_evm_entry_matches_the_address_on_every_evm_chain_unless_it_names_one(
    client: TestClient, world: tuple[Member, Member, Member]
) -> None:
    ngo, vasp, _ = world
    submit(client, ngo, indicator(ngo.id, ETH_CHECKSUMMED, chain="polygon"))
    anywhere, on_ethereum = subscribe(client, vasp), subscribe(client, vasp)
    assert upload(client, vasp, anywhere["id"], f"{ETH_LOWER}\n").json()["alerts"] == 1
    named = upload(client, vasp, on_ethereum["id"], f"{ETH_LOWER},ethereum\n")
    assert named.json()["alerts"] == 0  # the flag is on polygon
    (alert,) = poll(client, vasp)
    assert (alert["subscription"], alert["flag"]["chain"]) == (anywhere["id"], "polygon")
