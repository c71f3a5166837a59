"""Bearer tokens: a partner's own short-lived token and the exchange-issued one.

The clock is the `now` argument. Tokens with unusual claims are signed here by hand (RFC 7515
compact serialization with the partner's Ed25519 key), as another partner's software would.
"""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange import tokens
from exchange.errors import AuthenticationError
from exchange.signatures import SigningKey, generate_key
from tests.factories import NOW

AUDIENCE = "https://exchange.example"
PARTNER = "partner-7"
T = int(NOW.timestamp())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact(key: SigningKey, claims: Any, **header: Any) -> str:
    """A JWS compact token over `claims` (JSON, or raw bytes as given), signed by `key`."""
    head = b64(json.dumps({"alg": "Ed25519", "kid": key.kid, "typ": "JWT"} | header).encode())
    payload = b64(claims if isinstance(claims, bytes) else json.dumps(claims).encode())
    signature = key.sign(f"{head}.{payload}".encode("ascii"))
    return f"{head}.{payload}.{b64(signature)}"


def partner_claims(**changes: Any) -> dict[str, Any]:
    """A partner's own token's claims, issued at NOW for two minutes; None drops a claim."""
    claims = {"aud": AUDIENCE, "iat": T, "exp": T + 120, "jti": "7d3c"} | changes
    return {name: value for name, value in claims.items() if value is not None}


def exchange_claims(**changes: Any) -> dict[str, Any]:
    return partner_claims(iss=AUDIENCE, sub=PARTNER, exp=T + 86_400) | changes


def verify(
    token: str,
    key: SigningKey,
    *,
    now: datetime = NOW,
    exchange_issued: bool = False,
    audience: str = AUDIENCE,
) -> tokens.Token:
    return tokens.verify(
        token, key.public_key, audience=audience, now=now, exchange_issued=exchange_issued
    )


def test_a_partners_own_token_verifies_until_it_expires() -> None:
    key = generate_key()
    token = tokens.issue(key, audience=AUDIENCE, now=NOW, ttl=timedelta(minutes=2))

    verified = verify(token, key, now=NOW + timedelta(minutes=1))

    assert (verified.kid, verified.subject) == (key.kid, None)
    assert (verified.issued_at, verified.expires_at) == (NOW, NOW + timedelta(minutes=2))
    assert verified.jti
    assert tokens.key_id(token) == key.kid


def test_each_token_has_its_own_jti() -> None:
    key = generate_key()
    jtis = {
        verify(tokens.issue(key, audience=AUDIENCE, now=NOW, ttl=timedelta(minutes=1)), key).jti
        for _ in range(5)
    }

    assert len(jtis) == 5


def test_an_exchange_issued_token_names_its_partner_and_may_live_long() -> None:
    operator = generate_key()
    token = tokens.issue(
        operator, audience=AUDIENCE, now=NOW, ttl=timedelta(days=30), subject=PARTNER
    )

    verified = verify(token, operator, now=NOW + timedelta(days=29), exchange_issued=True)

    assert verified.subject == PARTNER
    assert verified.expires_at == NOW + timedelta(days=30)


def test_a_token_verified_with_another_key_is_refused() -> None:
    token = tokens.issue(generate_key(), audience=AUDIENCE, now=NOW, ttl=timedelta(minutes=1))

    with pytest.raises(AuthenticationError, match="does not verify"):
        verify(token, generate_key())


def test_a_token_whose_claims_were_changed_after_signing_is_refused() -> None:
    key = generate_key()
    head, _, signature = compact(key, partner_claims()).split(".")
    forged = b64(json.dumps(partner_claims(exp=T + 3600)).encode())

    with pytest.raises(AuthenticationError):
        verify(f"{head}.{forged}.{signature}", key)


# The clock, with 30 seconds of leeway --------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "now", "error"),
    [
        (partner_claims(), NOW + timedelta(seconds=120 + 29), None),
        (partner_claims(), NOW + timedelta(seconds=120 + 29, microseconds=999_999), None),
        (partner_claims(), NOW + timedelta(seconds=120 + 30), "expired"),
        (partner_claims(), NOW + timedelta(hours=1), "expired"),
        (partner_claims(iat=T + 30, exp=T + 150), NOW, None),
        (partner_claims(iat=T + 31, exp=T + 150), NOW, "issued in the future"),
        (partner_claims(exp=T + 300), NOW, None),
        (partner_claims(exp=T + 301), NOW, "5 minutes"),
        (partner_claims(iat=T - 600, exp=T + 60), NOW, "5 minutes"),
        (exchange_claims(exp=T + 30 * 86_400), NOW, None),
    ],
    ids=[
        "29 s after exp",
        "just under 30 s after exp",
        "30 s after exp",
        "an hour after exp",
        "iat 30 s ahead",
        "iat 31 s ahead",
        "living exactly 5 minutes",
        "living 5 minutes and a second",
        "issued 10 minutes ago, still valid",
        "an exchange token for 30 days",
    ],
)
def test_a_token_is_valid_only_in_its_time_window(
    claims: dict[str, Any], now: datetime, error: str | None
) -> None:
    key = generate_key()
    token = compact(key, claims)
    exchange_issued = "sub" in claims

    if error is None:
        verify(token, key, now=now, exchange_issued=exchange_issued)
    else:
        with pytest.raises(AuthenticationError, match=error):
            verify(token, key, now=now, exchange_issued=exchange_issued)


def test_a_token_not_yet_valid_is_refused() -> None:
    """RFC 7519 4.1.5: before `nbf` the token MUST NOT be accepted."""
    key = generate_key()
    token = compact(key, partner_claims(nbf=T + 3600, exp=T + 120))

    with pytest.raises(AuthenticationError, match="nbf"):
        verify(token, key)


# Claims ------------------------------------------------------------------------------------

REFUSED = [
    pytest.param(partner_claims(iat=None), "integer iat", id="no iat"),
    pytest.param(partner_claims(iat=str(T)), "integer iat", id="iat a string"),
    pytest.param(partner_claims(iat=T + 0.5), "integer iat", id="iat a fraction"),
    pytest.param(partner_claims(iat=True), "integer iat", id="iat true"),
    pytest.param(partner_claims(iat=10**20), "iat is out of range", id="iat out of range"),
    pytest.param(partner_claims(exp=None), "integer exp", id="no exp"),
    pytest.param(partner_claims(exp=str(T + 60)), "integer exp", id="exp a string"),
    pytest.param(partner_claims(exp=[T + 60]), "integer exp", id="exp a list"),
    pytest.param(partner_claims(jti=None), "jti", id="no jti"),
    pytest.param(partner_claims(jti=""), "jti", id="empty jti"),
    pytest.param(partner_claims(jti="j" * 129), "jti", id="129-character jti"),
    pytest.param(partner_claims(jti=42), "jti", id="jti a number"),
    pytest.param(partner_claims(aud=None), "aud", id="no aud"),
    pytest.param(partner_claims(aud="https://other.example"), "aud", id="another aud"),
    pytest.param(partner_claims(aud=AUDIENCE + "/"), "aud", id="aud with a slash"),
    pytest.param(partner_claims(aud=["https://other.example"]), "aud", id="aud list without us"),
    pytest.param(partner_claims(aud={"aud": AUDIENCE}), "aud", id="aud an object"),
]


@pytest.mark.parametrize(("claims", "words"), REFUSED)
def test_a_token_with_a_bad_claim_is_refused_naming_it(claims: dict[str, Any], words: str) -> None:
    key = generate_key()

    with pytest.raises(AuthenticationError, match=words):
        verify(compact(key, claims), key)


@pytest.mark.parametrize(
    "aud", [[AUDIENCE], ["https://other.example", AUDIENCE]], ids=["alone", "with another"]
)
def test_an_audience_list_holding_the_exchange_is_accepted(aud: list[str]) -> None:
    key = generate_key()

    verify(compact(key, partner_claims(aud=aud)), key)


@pytest.mark.parametrize(
    "claims",
    [
        exchange_claims(iss=None),
        exchange_claims(iss="https://other.example"),
        exchange_claims(sub=None),
        exchange_claims(sub=7),
        partner_claims(),
    ],
    ids=["no iss", "another iss", "no sub", "sub a number", "a partner's own token"],
)
def test_an_exchange_token_needs_the_exchange_as_iss_and_a_sub(claims: dict[str, Any]) -> None:
    operator = generate_key()

    with pytest.raises(AuthenticationError, match="iss and sub"):
        verify(compact(operator, claims), operator, exchange_issued=True)


def test_a_partners_own_token_names_no_subject_even_if_it_claims_one() -> None:
    key = generate_key()
    token = compact(key, partner_claims(sub="someone-else", iss=AUDIENCE))

    assert verify(token, key).subject is None


@pytest.mark.parametrize(
    "payload",
    [b"[1, 2]", b'"a string"', b"null", b"42", b"not json", b"\xff\xfe"],
    ids=["a list", "a string", "null", "a number", "not JSON", "not UTF-8"],
)
def test_claims_that_are_not_a_json_object_are_refused(payload: bytes) -> None:
    key = generate_key()

    with pytest.raises(AuthenticationError, match="claims are not"):
        verify(compact(key, payload), key)


# Pinned algorithms: what key_id looks at before any key is fetched ---------------------------


def unsigned(header: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    payload = b64(json.dumps(partner_claims()).encode())
    return f"{head}.{payload}.{b64(signature)}"


def hs256(key: SigningKey) -> str:
    """Algorithm confusion: an HMAC keyed with the partner's public key."""
    head = b64(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode())
    payload = b64(json.dumps(partner_claims()).encode())
    mac = hmac.new(key.public_key, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{b64(mac)}"


@pytest.mark.parametrize(
    "forge",
    [
        lambda key: unsigned({"alg": "none", "kid": key.kid}),
        lambda key: unsigned({"alg": "None", "kid": key.kid}),
        hs256,
        lambda key: unsigned({"alg": "RS256", "kid": key.kid}, b"\x01" * 256),
        lambda key: unsigned({"kid": key.kid}),
        lambda key: unsigned({"alg": "Ed25519"}),
        lambda key: compact(key, partner_claims(), crit=["exp"]),
        lambda key: "not.a.token",
        lambda key: "",
    ],
    ids=["alg none", "alg None", "alg HS256", "alg RS256", "no alg", "no kid", "crit", "junk", ""],
)
def test_a_token_with_an_unpinned_header_is_refused_before_any_key_is_used(forge: Any) -> None:
    key = generate_key()
    token = forge(key)

    with pytest.raises(AuthenticationError, match="bearer token"):
        tokens.key_id(token)
    with pytest.raises(AuthenticationError, match="bearer token"):
        verify(token, key)


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_both_names_of_ed25519_are_accepted(alg: str) -> None:
    key = generate_key()
    token = compact(key, partner_claims(), alg=alg)

    assert tokens.key_id(token) == key.kid
    assert verify(token, key).kid == key.kid


def test_the_clock_is_only_the_now_given() -> None:
    key = generate_key()
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    token = tokens.issue(key, audience=AUDIENCE, now=long_ago, ttl=timedelta(minutes=1))

    assert verify(token, key, now=long_ago).issued_at == long_ago
    with pytest.raises(AuthenticationError, match="expired"):
        verify(token, key)
