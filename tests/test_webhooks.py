"""Webhook alerts: Standard Webhooks v1a signatures over JWKS keys, and the SSRF guard.

The interoperability test verifies with joserfc, a JOSE library that shares no code with
the exchange, from the JWKS alone: what a subscriber with a standard toolkit would do.
"""

import base64
import json
import re
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from exchange.errors import InputError, SignatureError
from exchange.signatures import SigningKey, b64url, generate_key, public_jwk
from exchange.webhooks import (
    SIGNATURE_TOLERANCE,
    check_webhook_url,
    resolve_host,
    verify_webhook,
    webhook_headers,
)
from tests.factories import NOW

KEY = generate_key()
OLD_KEY = generate_key()
STRANGER = generate_key()
TS = int(NOW.timestamp())
ALERT_ID = "alert--0b5e8c1e-7f0a-4d6e-9a7b-3c8d9e0f1a2b"
BODY = b'{"id":"alert--0b5e8c1e-7f0a-4d6e-9a7b-3c8d9e0f1a2b","address":"0xabc"}'


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [public_jwk(key.public_key) for key in keys]}


def headers(
    key: SigningKey = KEY, *, alert_id: str = ALERT_ID, body: bytes = BODY, timestamp: int = TS
) -> dict[str, str]:
    return webhook_headers(key, alert_id=alert_id, body=body, timestamp=timestamp, attempt=1)


def without_hint(fields: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in fields.items() if name != "Exchange-Key-Id"}


# Signing and verifying --------------------------------------------------------------------


def test_an_alert_verifies_and_names_the_key_that_signed_it() -> None:
    sent = headers()
    assert verify_webhook(sent, BODY, jwks(KEY), now=NOW) == KEY.kid
    assert sent["webhook-id"] == ALERT_ID
    assert sent["webhook-timestamp"] == str(TS)
    assert sent["Exchange-Key-Id"] == KEY.kid
    assert sent["Exchange-Delivery-Attempt"] == "1"
    assert sent["Content-Type"] == "application/json"
    version, signature = sent["webhook-signature"].split(",")
    assert version == "v1a"
    assert signature.endswith("==")  # standard base64 with padding: 64 bytes -> 88 chars
    assert len(base64.b64decode(signature, validate=True)) == 64


def test_the_attempt_number_is_a_header_outside_the_signature() -> None:
    retry = webhook_headers(KEY, alert_id=ALERT_ID, body=BODY, timestamp=TS, attempt=3)
    assert retry["Exchange-Delivery-Attempt"] == "3"
    assert retry["webhook-signature"] == headers()["webhook-signature"]


def test_the_signature_is_over_id_timestamp_and_body_as_standard_webhooks_defines() -> None:
    """With nothing but base64 and cryptography, as a receiver would check it."""
    sent = headers()
    signature = base64.b64decode(sent["webhook-signature"].removeprefix("v1a,"))
    KEY.private.public_key().verify(signature, f"{ALERT_ID}.{TS}.".encode() + BODY)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b + b" "), id="body"),
        pytest.param(lambda h, b: (h, b.replace(b"0xabc", b"0xabd")), id="body-byte"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "alert--other"}, b), id="id"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": str(TS + 1)}, b), id="timestamp"),
    ],
)
def test_a_tampered_alert_does_not_verify(
    tamper: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]],
) -> None:
    sent, body = tamper(headers(), BODY)
    with pytest.raises(SignatureError, match="no v1a signature verifies with a key in the JWKS"):
        verify_webhook(sent, body, jwks(KEY), now=NOW)


@pytest.mark.parametrize(
    ("skew", "cause"),
    [
        (SIGNATURE_TOLERANCE + timedelta(seconds=1), "too old"),
        (timedelta(days=-1), "in the future"),
        (-SIGNATURE_TOLERANCE - timedelta(seconds=1), "in the future"),
        (timedelta(days=365), "too old"),
    ],
)
def test_a_stale_or_future_timestamp_is_refused_even_when_signed(
    skew: timedelta, cause: str
) -> None:
    sent = headers(timestamp=TS - int(skew.total_seconds()))
    with pytest.raises(SignatureError, match=f"webhook-timestamp is {cause}"):
        verify_webhook(sent, BODY, jwks(KEY), now=NOW)


@pytest.mark.parametrize("skew", [SIGNATURE_TOLERANCE, -SIGNATURE_TOLERANCE, timedelta(0)])
def test_a_timestamp_within_the_tolerance_is_accepted(skew: timedelta) -> None:
    sent = headers(timestamp=TS - int(skew.total_seconds()))
    assert verify_webhook(sent, BODY, jwks(KEY), now=NOW) == KEY.kid


def test_the_tolerance_can_be_widened_to_check_an_old_alert() -> None:
    sent = headers(timestamp=TS - 86_400)
    assert verify_webhook(sent, BODY, jwks(KEY), now=NOW, tolerance=timedelta(days=2))


def test_a_signature_by_a_key_outside_the_jwks_is_refused() -> None:
    with pytest.raises(SignatureError, match="no v1a signature verifies"):
        verify_webhook(headers(STRANGER), BODY, jwks(KEY, OLD_KEY), now=NOW)


def test_during_a_rotation_the_new_key_verifies_without_a_hint() -> None:
    sent = without_hint(headers(KEY))
    assert verify_webhook(sent, BODY, jwks(OLD_KEY, KEY), now=NOW) == KEY.kid


def test_a_wrong_key_id_hint_does_not_stop_the_other_keys_from_being_tried() -> None:
    sent = {**headers(KEY), "Exchange-Key-Id": OLD_KEY.kid}
    assert verify_webhook(sent, BODY, jwks(OLD_KEY, KEY), now=NOW) == KEY.kid


def test_the_key_id_hint_picks_the_key_when_several_would_do() -> None:
    both = headers(OLD_KEY)["webhook-signature"] + " " + headers(KEY)["webhook-signature"]
    for hinted in (KEY, OLD_KEY):
        sent = {**headers(), "webhook-signature": both, "Exchange-Key-Id": hinted.kid}
        assert verify_webhook(sent, BODY, jwks(OLD_KEY, KEY), now=NOW) == hinted.kid


def test_any_v1a_signature_among_several_may_verify() -> None:
    entries = [
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",  # a symmetric one: not for us
        "v1a,not-base64!",
        "v1a," + base64.b64encode(bytes(64)).decode(),
        headers(STRANGER)["webhook-signature"],
        headers(KEY)["webhook-signature"],
    ]
    sent = {**without_hint(headers()), "webhook-signature": " ".join(entries)}
    assert verify_webhook(sent, BODY, jwks(KEY), now=NOW) == KEY.kid
    assert verify_webhook(sent, BODY, jwks(STRANGER), now=NOW) == STRANGER.kid
    with pytest.raises(SignatureError, match="no v1a signature verifies"):
        verify_webhook(sent, BODY, jwks(OLD_KEY), now=NOW)


def test_header_names_are_case_insensitive() -> None:
    sent = headers()
    for fields in (
        {name.upper(): value for name, value in sent.items()},
        {name.title(): value for name, value in sent.items()},
        httpx.Headers(sent),
    ):
        assert verify_webhook(fields, BODY, jwks(KEY), now=NOW) == KEY.kid


def test_a_header_given_twice_with_different_values_is_refused() -> None:
    sent = {**headers(), "Webhook-Id": "alert--other"}
    with pytest.raises(SignatureError, match="webhook-id is given twice"):
        verify_webhook(sent, BODY, jwks(KEY), now=NOW)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_header_is_named(name: str, value: str | None) -> None:
    sent = {k: v for k, v in headers().items() if k != name}
    if value is not None:
        sent[name] = value
    with pytest.raises(SignatureError, match=f"missing header {name}"):
        verify_webhook(sent, BODY, jwks(KEY), now=NOW)


@pytest.mark.parametrize("timestamp", ["abc", f"{TS}.0", f"-{TS}", f"+{TS}", "١٢٣", "9" * 16])
def test_a_timestamp_that_is_not_integer_seconds_is_refused(timestamp: str) -> None:
    sent = {**headers(), "webhook-timestamp": timestamp}
    with pytest.raises(SignatureError, match="not an integer number of seconds"):
        verify_webhook(sent, BODY, jwks(KEY), now=NOW)


@pytest.mark.parametrize(
    "signature",
    [
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        "v1a",
        "v1a,!!!!",
        "v2a,AAAA",
        "V1A,AAAA",
    ],
)
def test_a_header_without_a_v1a_signature_is_refused(signature: str) -> None:
    sent = {**headers(), "webhook-signature": signature}
    with pytest.raises(SignatureError, match="webhook-signature carries no v1a signature"):
        verify_webhook(sent, BODY, jwks(KEY), now=NOW)


# The JWKS ----------------------------------------------------------------------------------

EC_JWK = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}
X25519_JWK = {"kty": "OKP", "crv": "X25519", "x": b64url(bytes(32))}


def test_keys_other_than_ed25519_signing_keys_are_ignored() -> None:
    not_for_signing = [
        EC_JWK,
        X25519_JWK,
        {**public_jwk(STRANGER.public_key), "use": "enc"},
        {**public_jwk(STRANGER.public_key), "alg": "ES256"},
    ]
    keys = {"keys": [*not_for_signing, public_jwk(KEY.public_key)]}
    assert verify_webhook(headers(), BODY, keys, now=NOW) == KEY.kid
    with pytest.raises(SignatureError, match="no v1a signature verifies"):
        verify_webhook(headers(STRANGER), BODY, keys, now=NOW)
    with pytest.raises(SignatureError, match="the JWKS holds no Ed25519 key"):
        verify_webhook(headers(), BODY, {"keys": not_for_signing}, now=NOW)


def test_a_key_without_a_kid_is_named_by_its_thumbprint() -> None:
    jwk = {k: v for k, v in public_jwk(KEY.public_key).items() if k != "kid"}
    assert verify_webhook(headers(), BODY, {"keys": [jwk]}, now=NOW) == KEY.kid


@pytest.mark.parametrize(
    ("document", "cause"),
    [
        ({}, "malformed JWKS: no `keys` list"),
        ({"keys": {}}, "malformed JWKS: no `keys` list"),
        ({"keys": [public_jwk(KEY.public_key), "x"]}, "malformed JWKS entry 1: not an object"),
        (
            {"keys": [{**public_jwk(KEY.public_key), "x": b64url(bytes(31))}]},
            "malformed JWKS entry 0: not an Ed25519 public key",
        ),
        (
            {"keys": [{**public_jwk(KEY.public_key), "x": 12}]},
            "malformed JWKS entry 0: not an Ed25519 public key",
        ),
        (
            {"keys": [{k: v for k, v in public_jwk(KEY.public_key).items() if k != "x"}]},
            "malformed JWKS entry 0: not an Ed25519 public key",
        ),
    ],
)
def test_a_malformed_jwks_is_refused_with_its_cause(document: Any, cause: str) -> None:
    with pytest.raises(SignatureError, match=cause):
        verify_webhook(headers(), BODY, document, now=NOW)


def test_the_jwks_the_exchange_publishes_verifies_its_alerts(
    client: TestClient, operator_key: SigningKey
) -> None:
    published = client.get("/.well-known/jwks.json").json()
    assert verify_webhook(headers(operator_key), BODY, published, now=NOW) == operator_key.kid


def test_a_standard_jose_library_verifies_the_signature_from_the_jwks_alone() -> None:
    """joserfc parses the JWKS, checks the kid is the RFC 7638 thumbprint and verifies."""
    sent = headers(KEY)
    published = json.dumps({"keys": [*jwks(OLD_KEY, KEY)["keys"], X25519_JWK]})
    keyset = KeySet.import_key_set(json.loads(published))  # as it travels
    key = keyset.get_by_kid(sent["Exchange-Key-Id"])
    assert key.thumbprint() == key.kid == KEY.kid
    version, encoded = sent["webhook-signature"].split(",", 1)
    assert version == "v1a"
    signed = f"{sent['webhook-id']}.{sent['webhook-timestamp']}.".encode() + BODY
    ed25519 = JWSRegistry.algorithms["Ed25519"]
    assert ed25519.verify(signed, base64.b64decode(encoded), key)
    assert not ed25519.verify(signed + b" ", base64.b64decode(encoded), key)
    assert not ed25519.verify(signed, base64.b64decode(encoded), keyset.get_by_kid(OLD_KEY.kid))


@given(body=st.binary(max_size=2048), alert_id=st.text(min_size=1).filter(str.strip))
def test_any_body_and_id_round_trip(body: bytes, alert_id: str) -> None:
    sent = headers(alert_id=alert_id, body=body)
    assert verify_webhook(sent, body, jwks(KEY), now=NOW) == KEY.kid


@given(body=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_single_bit_flip_in_the_body_fails(body: bytes, data: st.DataObject) -> None:
    bit = data.draw(st.integers(0, len(body) * 8 - 1))
    flipped = bytearray(body)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SignatureError):
        verify_webhook(headers(body=body), bytes(flipped), jwks(KEY), now=NOW)


@given(bit=st.integers(0, 64 * 8 - 1))
def test_any_single_bit_flip_in_the_signature_fails(bit: int) -> None:
    sent = headers()
    signature = bytearray(base64.b64decode(sent["webhook-signature"].removeprefix("v1a,")))
    signature[bit // 8] ^= 1 << (bit % 8)
    sent["webhook-signature"] = "v1a," + base64.b64encode(signature).decode()
    with pytest.raises(SignatureError):
        verify_webhook(sent, BODY, jwks(KEY), now=NOW)


# The SSRF guard ----------------------------------------------------------------------------

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class FakeDns:
    """A resolver over a fixed table; records what it was asked. No network."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


DNS = FakeDns(
    {
        "hooks.partner.example": [PUBLIC_V4, PUBLIC_V6],
        "rebind.example": [PUBLIC_V4, "10.0.0.7"],
        "rebind6.example": [PUBLIC_V6, "fd00::1"],
        "empty.example": [],
        "garbage.example": ["not-an-address"],
    }
)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://10.0.0.1/hook",
        "https://172.16.0.1/hook",
        "https://172.31.255.255/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://100.127.255.254/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://240.0.0.1/hook",
        "https://255.255.255.255/hook",
        "https://198.18.0.1/hook",
        "https://[::1]/hook",
        "https://[::]/hook",
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://[ff02::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[2002:a00:1::]/hook",  # 6to4 around 10.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 around 169.254.169.254: in ::/8
        "https://rebind.example/hook",
        "https://rebind6.example/hook",
    ],
)
def test_a_url_reaching_a_non_public_address_is_refused(url: str) -> None:
    with pytest.raises(InputError, match="non-public address"):
        check_webhook_url(url, allow_private=False, resolve=DNS)


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        (f"http://{PUBLIC_V4}/hook", "must use https, not http"),
        (f"ftp://{PUBLIC_V4}/hook", "must use https, not ftp"),
        ("file:///etc/passwd", "must use https, not file"),
        (f"//{PUBLIC_V4}/hook", "must use https, not none"),
        ("https:///hook", "has no host"),
        (f"https://user:pass@{PUBLIC_V4}/hook", "user name or password"),
        ("https://user@hooks.partner.example/hook", "user name or password"),
        (f"https://hooks.partner.example@{PUBLIC_V4}/hook", "user name or password"),
        ("https://nowhere.example/hook", "cannot be resolved"),
        ("https://empty.example/hook", "cannot be resolved"),
        ("https://garbage.example/hook", "cannot be resolved"),
        (f"https://{PUBLIC_V4}:99999/hook", "malformed"),
        ("https://[::1/hook", "malformed"),
    ],
)
def test_a_url_that_is_not_https_to_a_resolvable_host_is_refused(url: str, cause: str) -> None:
    with pytest.raises(InputError, match=cause):
        check_webhook_url(url, allow_private=False, resolve=DNS)


@pytest.mark.parametrize(
    "url",
    [
        f"https://{PUBLIC_V4}/hook",
        f"https://[{PUBLIC_V6}]:8443/hook",
        "https://hooks.partner.example/alerts?token=abc",
        "HTTPS://hooks.partner.example/hook",
    ],
)
def test_a_https_url_to_public_addresses_is_accepted(url: str) -> None:
    check_webhook_url(url, allow_private=False, resolve=DNS)


def test_every_address_of_the_host_is_resolved_on_the_right_port() -> None:
    dns = FakeDns({"hooks.partner.example": [PUBLIC_V4]})
    check_webhook_url("https://hooks.partner.example/hook", allow_private=False, resolve=dns)
    check_webhook_url("https://hooks.partner.example:8443/x", allow_private=False, resolve=dns)
    assert dns.asked == [("hooks.partner.example", 443), ("hooks.partner.example", 8443)]


def test_a_recheck_before_delivery_catches_a_name_that_now_resolves_inside() -> None:
    dns = FakeDns({"hooks.partner.example": [PUBLIC_V4]})
    check_webhook_url("https://hooks.partner.example/hook", allow_private=False, resolve=dns)
    dns.table["hooks.partner.example"] = ["169.254.169.254"]  # DNS rebinding
    with pytest.raises(InputError, match=re.escape("non-public address 169.254.169.254")):
        check_webhook_url("https://hooks.partner.example/hook", allow_private=False, resolve=dns)


def test_the_default_resolver_sees_through_localhost() -> None:
    assert "127.0.0.1" in resolve_host("localhost", 443)
    with pytest.raises(InputError, match="non-public address"):
        check_webhook_url("https://localhost/hook", allow_private=False)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/hook", "https://[::1]/hook", "http://localhost/hook"],
)
def test_allow_private_accepts_local_http_urls(url: str) -> None:
    check_webhook_url(url, allow_private=True, resolve=FakeDns({}))


@pytest.mark.parametrize(
    ("url", "cause"),
    [("ftp://127.0.0.1/hook", "must use http or https, not ftp"), ("http:///x", "no host")],
)
def test_allow_private_still_checks_the_scheme_and_the_host(url: str, cause: str) -> None:
    with pytest.raises(InputError, match=cause):
        check_webhook_url(url, allow_private=True, resolve=FakeDns({}))
