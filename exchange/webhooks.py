"""Signed webhook alerts (Standard Webhooks, asymmetric `v1a`) and the guard on their URLs.

The exchange POSTs an alert's JSON body with these headers:

    webhook-id                 the alert id
    webhook-timestamp          integer Unix seconds
    webhook-signature          `v1a,<base64 Ed25519 signature over "{id}.{timestamp}." + body>`;
                               several, space-separated, while keys rotate
    Exchange-Key-Id            the kid (RFC 7638 thumbprint) of the key that signed: a hint
    Exchange-Delivery-Attempt  1 for the first POST, then 2, 3, ... on retries

The keys are the operator's Ed25519 keys, published as a JWKS at /.well-known/jwks.json.
A receiver accepts an alert if any `v1a` signature verifies with any Ed25519 key of that
JWKS and the timestamp is within SIGNATURE_TOLERANCE of its clock; it drops alerts whose
`webhook-id` it has already processed (delivery is at least once).
"""

import base64
import binascii
import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from exchange.errors import InputError, SignatureError
from exchange.signatures import SigningKey, b64url_decode, thumbprint, verify_ed25519

SIGNATURE_TOLERANCE = timedelta(minutes=5)

_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # ASCII digits only: str.isdigit() takes "١٢٣"
_KEY_ID_HEADER = "exchange-key-id"

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def webhook_headers(
    key: SigningKey, *, alert_id: str, body: bytes, timestamp: int, attempt: int
) -> dict[str, str]:
    """The headers of one POST of `body`, signed by `key` at `timestamp` (Unix seconds)."""
    signature = key.sign(_signed_content(alert_id, str(timestamp), body))
    return {
        "webhook-id": alert_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1a,{base64.b64encode(signature).decode('ascii')}",
        "Exchange-Key-Id": key.kid,
        "Exchange-Delivery-Attempt": str(attempt),
        "Content-Type": "application/json",
    }


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    jwks: Mapping[str, Any],
    *,
    now: datetime,
    tolerance: timedelta = SIGNATURE_TOLERANCE,
) -> str:
    """The kid of the JWKS key that signed this webhook; raises SignatureError naming the cause.

    Header names are case-insensitive. Only OKP/Ed25519 keys of `jwks` are considered; an
    `Exchange-Key-Id` header only decides which key is tried first.
    """
    fields = _fold(headers)
    alert_id, timestamp, signature_header = (
        _required(fields, name)
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("webhook-timestamp is not an integer number of seconds")
    age = int(now.timestamp()) - int(timestamp)
    if age > tolerance.total_seconds():
        raise SignatureError(f"webhook-timestamp is too old ({age} s ago)")
    if -age > tolerance.total_seconds():
        raise SignatureError(f"webhook-timestamp is in the future ({-age} s ahead)")
    signatures = list(_v1a_signatures(signature_header))
    if not signatures:
        raise SignatureError("webhook-signature carries no v1a signature")
    keys = _ed25519_keys(jwks)
    if not keys:
        raise SignatureError("the JWKS holds no Ed25519 key")
    hint = fields.get(_KEY_ID_HEADER)
    keys.sort(key=lambda kid_key: kid_key[0] != hint)  # stable: the hinted key first
    content = _signed_content(alert_id, timestamp, body)
    for kid, public_key in keys:
        for signature in signatures:
            try:
                verify_ed25519(public_key, signature, content)
            except SignatureError:
                continue
            return kid
    raise SignatureError("no v1a signature verifies with a key in the JWKS")


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo); raises OSError if none."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_webhook_url(url: str, *, allow_private: bool, resolve: Resolver = resolve_host) -> None:
    """Raise InputError unless `url` may receive webhooks (the SSRF guard).

    Only https, no userinfo, and every address the host resolves to is public: not private,
    loopback, link-local, multicast, reserved, unspecified or shared (100.64/10), including
    IPv4 addresses inside IPv6 (mapped, 6to4). The flags overlap on purpose: `is_global`
    alone has changed meaning between Python releases. With `allow_private` (development and
    tests) only the scheme (http or https) and a host are checked.

    Call it when a subscriber registers the URL and again in the delivery worker before
    every POST: by then the name may resolve elsewhere (DNS rebinding). That narrows the
    window without closing it, as the HTTP client resolves the name again to connect;
    pinning the checked address in the transport would close it. The worker must not
    follow redirects, whose targets this check never sees.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise InputError(f"webhook URL is malformed: {error}") from None
    schemes = {"http", "https"} if allow_private else {"https"}
    if parts.scheme.lower() not in schemes:
        raise InputError(
            f"webhook URL must use {' or '.join(sorted(schemes))}, not {parts.scheme or 'none'}"
        )
    if not host:
        raise InputError("webhook URL has no host")
    if allow_private:
        return
    if "@" in parts.netloc:
        raise InputError("webhook URL must not carry a user name or password")
    try:
        addresses = [ipaddress.ip_address(host)]  # a literal: nothing to resolve
    except ValueError:
        addresses = _resolve(host, port or 443, resolve)
    for address in addresses:
        if not _is_public(address):
            raise InputError(f"webhook host {host} resolves to a non-public address {address}")


# --- internals ---------------------------------------------------------------------------


def _signed_content(alert_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{alert_id}.{timestamp}.".encode() + body


def _fold(headers: Mapping[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in headers.items():
        folded = name.lower()
        if folded in fields and fields[folded] != value:
            raise SignatureError(f"header {folded} is given twice with different values")
        fields[folded] = value
    return fields


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "")
    if not value.strip():
        raise SignatureError(f"missing header {name}")
    return value


def _v1a_signatures(header: str) -> Iterator[bytes]:
    """The decoded v1a signatures; other versions and undecodable entries are skipped."""
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1a" or not encoded:
            continue
        try:
            yield base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue


def _ed25519_keys(jwks: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """(kid, raw public key) of every OKP/Ed25519 JWK; raises SignatureError if malformed."""
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(entries, list):
        raise SignatureError("malformed JWKS: no `keys` list")
    keys = []
    for number, jwk in enumerate(entries):
        if not isinstance(jwk, Mapping):
            raise SignatureError(f"malformed JWKS entry {number}: not an object")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue  # RFC 7517 section 5: skip what is not understood
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "Ed25519") not in ("Ed25519", "EdDSA"):
            continue  # published for something else
        try:
            public_key = b64url_decode(jwk.get("x", ""))
        except ValueError:  # also for a non-string
            public_key = b""
        if len(public_key) != 32:
            raise SignatureError(f"malformed JWKS entry {number}: not an Ed25519 public key")
        kid = jwk.get("kid")
        keys.append((kid if isinstance(kid, str) else thumbprint(public_key), public_key))
    return keys


def _resolve(host: str, port: int, resolve: Resolver) -> list[IPAddress]:
    try:
        resolved = resolve(host, port)
        addresses = [ipaddress.ip_address(address) for address in resolved]
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        raise InputError(f"webhook host {host} cannot be resolved")
    return addresses


_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour  # NAT64 is in ::/8, reserved
        if embedded is not None and not _is_public(embedded):
            return False
    elif address in _SHARED:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
