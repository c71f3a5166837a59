"""The HTTP API as partners' tools see it: status codes, problem+json, wire shapes."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import Engine

from exchange import tokens
from exchange.config import Settings
from exchange.core.partners import Role
from exchange.signatures import SigningKey, b64url, generate_key, read_signed_bundle
from tests.factories import (
    BTC_P2PKH,
    ETH_CHECKSUMMED,
    ETH_LOWER,
    Member,
    auth,
    bundle,
    indicator,
    make_member,
    own_token,
    signed,
)

PROBLEM = "application/problem+json"


def post(
    client: TestClient, member: Member, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(
        "/api/v1/submissions",
        content=body,
        headers=headers or {**auth(member), "Content-Type": "application/json"},
    )


def now_signed(doc: dict[str, object], *keys: SigningKey) -> bytes:
    return signed(doc, *keys, iat=datetime.now(UTC))


def assert_problem(response: httpx.Response, status: int, says: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:exchange:problem:")
    assert says in problem["detail"], problem
    return problem


def flag_count(client: TestClient, admin: Member, chain: str, address: str) -> int:
    response = client.get(f"/api/v1/flags/{chain}/{address}", headers=auth(admin))
    return 0 if response.status_code == 404 else len(response.json()["reports"])


def test_discovery_documents_the_audience_and_keys(
    client: TestClient, operator_key: SigningKey
) -> None:
    meta = client.get("/.well-known/exchange").json()
    assert meta["audience"] == "http://testserver"
    assert meta["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    (jwk,) = client.get("/.well-known/jwks.json").json()["keys"]
    assert (jwk["kid"], jwk["crv"]) == (operator_key.kid, "Ed25519")
    assert client.get("/openapi.json").json()["components"]["schemas"]["SignedBundle"]


def test_a_submission_answers_201_with_every_object_and_can_be_read_back(
    client: TestClient, engine: Engine
) -> None:
    ngo = make_member(engine)
    body = now_signed(
        bundle(indicator(ngo.id, ETH_CHECKSUMMED), indicator(ngo.id, BTC_P2PKH)), ngo.key
    )
    response = post(client, ngo, body)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert [o["status"] for o in receipt["objects"]] == ["accepted", "accepted"]
    assert response.headers["location"] == f"/api/v1/submissions/{receipt['id']}"

    again = client.get(f"/api/v1/submissions/{receipt['id']}", headers=auth(ngo))
    assert again.json() == receipt
    raw = client.get(f"/api/v1/submissions/{receipt['id']}/raw", headers=auth(ngo))
    assert raw.content == body

    # Anyone holding the raw bytes can verify them offline with a standard JOSE library.
    doc = json.loads(raw.content)
    (entry,) = doc["signatures"]
    payload = read_signed_bundle(doc).canonical
    compact = f"{entry['protected']}.{b64url(payload)}.{entry['signature']}"
    public = Ed25519PublicKey.from_public_bytes(ngo.key.public_key)
    jose = jwt.PyJWS()
    jose.register_algorithm("Ed25519", OKPAlgorithm())  # RFC 9864's name for EdDSA/Ed25519
    assert jose.decode(compact, public, algorithms=["Ed25519"]) == payload


def test_resubmission_answers_200_with_every_object_duplicate(
    client: TestClient, engine: Engine
) -> None:
    ngo = make_member(engine)
    body = now_signed(bundle(indicator(ngo.id, ETH_LOWER)), ngo.key)
    first = post(client, ngo, body).json()
    again = post(client, ngo, body)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert [o["status"] for o in again.json()["objects"]] == ["duplicate"]


def test_flags_answer_in_any_spelling_with_corroboration(
    client: TestClient, engine: Engine
) -> None:
    ngo, firm = make_member(engine), make_member(engine)
    admin = make_member(engine, roles=[Role.ADMIN])
    post(client, ngo, now_signed(bundle(indicator(ngo.id, ETH_CHECKSUMMED)), ngo.key))
    post(
        client, firm, now_signed(bundle(indicator(firm.id, ETH_LOWER, category="scam")), firm.key)
    )

    flag = client.get(f"/api/v1/flags/ethereum/{ETH_CHECKSUMMED}", headers=auth(admin)).json()
    assert flag["address"] == ETH_LOWER
    assert flag["corroboration"] == 2
    assert flag["categories"] == ["human-trafficking", "scam"]
    own = client.get(f"/api/v1/flags/ethereum/{ETH_LOWER}", headers=auth(ngo)).json()
    assert (own["corroboration"], own["reports"][0]["partner"]) == (1, ngo.id)


def test_a_flag_nobody_shared_with_you_is_the_same_404_as_no_flag(
    client: TestClient, engine: Engine
) -> None:
    ngo, stranger = make_member(engine), make_member(engine)
    post(client, ngo, now_signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key))
    hidden = client.get(f"/api/v1/flags/bitcoin/{BTC_P2PKH}", headers=auth(stranger))
    absent = client.get(
        "/api/v1/flags/bitcoin/1BoatSLRHtKNngkdXEeobR76b53LETtpyT", headers=auth(stranger)
    )
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["title"] == absent.json()["title"]


def test_only_submitters_may_submit(client: TestClient, engine: Engine) -> None:
    bank = make_member(engine, roles=[Role.SUBSCRIBER])
    assert_problem(
        post(client, bank, now_signed(bundle(indicator(bank.id, BTC_P2PKH)), bank.key)),
        403,
        "submitter",
    )


def test_other_partners_cannot_read_a_submission(client: TestClient, engine: Engine) -> None:
    ngo, other = make_member(engine), make_member(engine)
    receipt = post(client, ngo, now_signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key)).json()
    for path in (receipt["id"], f"{receipt['id']}/raw"):
        assert_problem(
            client.get(f"/api/v1/submissions/{path}", headers=auth(other)), 404, "no submission"
        )


@pytest.mark.parametrize(
    ("mutate", "status", "says"),
    [
        (lambda doc: doc.replace(b"80", b"81", 1), 422, "does not verify"),
        (lambda doc: b"{nope", 400, "not valid JSON"),
        (lambda doc: b'{"hello": "world"}', 400, "signed-bundle document"),
    ],
)
def test_bad_submissions_get_problem_json_and_change_nothing(
    client: TestClient,
    engine: Engine,
    mutate: Callable[[bytes], bytes],
    status: int,
    says: str,
) -> None:
    ngo = make_member(engine)
    admin = make_member(engine, roles=[Role.ADMIN])
    body = mutate(now_signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key))
    assert_problem(post(client, ngo, body), status, says)
    assert flag_count(client, admin, "bitcoin", BTC_P2PKH) == 0


def test_an_invalid_address_is_a_422_listing_the_object(
    client: TestClient, engine: Engine
) -> None:
    ngo = make_member(engine)
    bad = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"
    doc = bundle(indicator(ngo.id, BTC_P2PKH), indicator(ngo.id, bad))
    problem = assert_problem(post(client, ngo, now_signed(doc, ngo.key)), 422, "object 1")
    assert problem["errors"] == [
        {
            "index": 1,
            "id": doc["objects"][1]["id"],
            "type": "indicator",
            "reason": problem["errors"][0]["reason"],
        }
    ]
    assert bad in problem["errors"][0]["reason"]


def test_the_body_limit_is_a_413(
    engine: Engine, settings: Settings, operator_key: SigningKey
) -> None:
    from exchange.web.app import create_app

    small = settings.model_copy(update={"max_body_bytes": 100})
    ngo = make_member(engine)
    with TestClient(create_app(small, operator_key=operator_key)) as client:
        response = post(client, ngo, now_signed(bundle(indicator(ngo.id, BTC_P2PKH)), ngo.key))
    assert_problem(response, 413, "the limit is 100")


# --- bearer tokens ----------------------------------------------------------------------


def _raw_token(header: dict[str, object], claims: dict[str, object], sign: bytes = b"") -> str:
    parts = (json.dumps(header).encode(), json.dumps(claims).encode(), sign)
    return ".".join(b64url(part) for part in parts)


def _claims(**overrides: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    return {"aud": "http://testserver", "iat": now, "exp": now + 60, "jti": "j1"} | overrides


def _get(client: TestClient, token: str) -> httpx.Response:
    return client.get(
        f"/api/v1/flags/bitcoin/{BTC_P2PKH}", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_partner_token_works_once(client: TestClient, engine: Engine) -> None:
    ngo = make_member(engine)
    token = own_token(ngo)
    assert _get(client, token).status_code == 404  # authenticated; nothing flagged yet
    assert_problem(_get(client, token), 401, "replayed jti")


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda m: _raw_token({"alg": "none", "kid": m.key.kid}, _claims()), "alg 'none'"),
        (
            lambda m: jwt.encode(
                _claims(), "s" * 32, algorithm="HS256", headers={"kid": m.key.kid}
            ),
            "alg 'HS256'",
        ),
        (
            lambda m: jwt.encode(
                _claims(), m.key.public_key, algorithm="HS256", headers={"kid": m.key.kid}
            ),
            "alg 'HS256'",
        ),  # algorithm confusion: the public key as an HMAC secret
        (
            lambda m: tokens.issue(
                m.key, audience="http://elsewhere", now=datetime.now(UTC), ttl=timedelta(minutes=1)
            ),
            "aud",
        ),
        (
            lambda m: tokens.issue(
                m.key,
                audience="http://testserver",
                now=datetime.now(UTC) - timedelta(minutes=10),
                ttl=timedelta(minutes=2),
            ),
            "expired",
        ),
        (
            lambda m: tokens.issue(
                m.key, audience="http://testserver", now=datetime.now(UTC), ttl=timedelta(hours=1)
            ),
            "5 minutes",
        ),
        (
            lambda m: tokens.issue(
                generate_key(),
                audience="http://testserver",
                now=datetime.now(UTC),
                ttl=timedelta(minutes=1),
            ),
            "unknown key",
        ),
        (lambda m: "not-a-jwt", "not a compact JWS"),
    ],
)
def test_bad_tokens_are_refused_naming_the_cause(
    client: TestClient, engine: Engine, make: Callable[[Member], str], says: str
) -> None:
    ngo = make_member(engine)
    response = _get(client, make(ngo))
    assert_problem(response, 401, says)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_exchange_issued_token_is_reusable_until_it_expires(
    client: TestClient, engine: Engine, operator_key: SigningKey
) -> None:
    bank = make_member(engine, roles=[Role.SUBSCRIBER])
    now = datetime.now(UTC)
    token = tokens.issue(
        operator_key,
        audience="http://testserver",
        now=now,
        ttl=timedelta(hours=1),
        subject=bank.id,
    )
    assert _get(client, token).status_code == 404
    assert _get(client, token).status_code == 404
    stale = tokens.issue(
        operator_key,
        audience="http://testserver",
        now=now - timedelta(hours=2),
        ttl=timedelta(hours=1),
        subject=bank.id,
    )
    assert_problem(_get(client, stale), 401, "expired")


def test_a_revoked_key_cannot_authenticate(client: TestClient, engine: Engine) -> None:
    from exchange.services.partners import revoke_key
    from tests.factories import transaction

    ngo = make_member(engine)
    with transaction(engine) as session:
        revoke_key(session, ngo.key.kid, reason="rotated", now=datetime.now(UTC))
    assert_problem(_get(client, own_token(ngo)), 401, "revoked")


def test_no_token_is_a_401(client: TestClient) -> None:
    assert_problem(client.get(f"/api/v1/flags/bitcoin/{BTC_P2PKH}"), 401, "bearer token")


def test_a_lookup_of_a_bad_address_is_a_422(client: TestClient, engine: Engine) -> None:
    ngo = make_member(engine)
    assert_problem(
        client.get("/api/v1/flags/bitcoin/0xnothing", headers=auth(ngo)), 422, "invalid address"
    )
    assert_problem(
        client.get(f"/api/v1/flags/dogechain/{BTC_P2PKH}", headers=auth(ngo)), 422, "unknown chain"
    )


def test_one_ofac_address_in_its_legacy_and_cashaddr_spellings_is_one_flag(
    client: TestClient, engine: Engine
) -> None:
    legacy = "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB"  # OFAC BCH.txt, as published
    cashaddr = "bitcoincash:qpgf0ztxq3mwfq6eg5versgfdzq9c3pwv5jsk6wnay"  # the same key
    ngo, firm = make_member(engine), make_member(engine)
    admin = make_member(engine, roles=[Role.ADMIN])
    for member, spelling in ((ngo, legacy), (firm, cashaddr.upper())):
        doc = bundle(indicator(member.id, spelling, chain="bitcoin-cash", category="sanctions"))
        assert post(client, member, now_signed(doc, member.key)).status_code == 201
    flag = client.get(f"/api/v1/flags/bitcoin-cash/{legacy}", headers=auth(admin)).json()
    assert (flag["address"], flag["corroboration"]) == (cashaddr, 2)


def test_the_chains_are_listed_with_their_formats(client: TestClient) -> None:
    chains = {c["id"]: c["formats"] for c in client.get("/api/v1/chains").json()}
    assert {"bitcoin", "bitcoin-cash", "ethereum", "tron", "monero", "solana", "xrp"} <= set(
        chains
    )
    assert all(chains.values())
