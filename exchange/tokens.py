"""Bearer tokens (JWT, RFC 7519) that partners and their tools present to the exchange.

Two kinds, told apart by the signing key:
- a partner's own short-lived token, signed with one of its registered keys: `kid`,
  `aud` = the exchange, `iat`, `exp` at most 5 minutes later, a `jti` used once;
- an exchange-issued token for tools that cannot sign, signed with the operator key:
  `iss` = `aud` = the exchange, `sub` = the partner, `exp`, `jti`.
The clock is an argument: nothing here reads the time.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exchange.errors import AuthenticationError, SignatureError
from exchange.signatures import SigningKey, jws_header, jws_sign, jws_verify

PARTNER_TOKEN_MAX_LIFETIME = timedelta(minutes=5)
LEEWAY = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Token:
    kid: str
    jti: str
    subject: str | None
    issued_at: datetime
    expires_at: datetime


def issue(
    key: SigningKey,
    *,
    audience: str,
    now: datetime,
    ttl: timedelta,
    subject: str | None = None,
    jti: str | None = None,
) -> str:
    """A signed token. With `subject` it is exchange-issued (iss = aud); without, self-signed."""
    claims: dict[str, object] = {
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": jti or str(uuid.uuid4()),
    }
    if subject is not None:
        claims |= {"iss": audience, "sub": subject}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws_sign(payload, key, {"typ": "JWT"})


def key_id(token: str) -> str:
    """The `kid` of a token whose header is acceptable; raises AuthenticationError."""
    try:
        return str(jws_header(token)["kid"])
    except SignatureError as error:
        raise AuthenticationError(f"bearer token: {error}") from None


def verify(
    token: str, public_key: bytes, *, audience: str, now: datetime, exchange_issued: bool
) -> Token:
    """Check the signature and claims of `token`; raises AuthenticationError naming the cause."""
    try:
        claims = json.loads(jws_verify(token, public_key))
    except SignatureError as error:
        raise AuthenticationError(f"bearer token: {error}") from None
    except ValueError:
        raise AuthenticationError("bearer token: the claims are not JSON") from None
    if not isinstance(claims, dict):
        raise AuthenticationError("bearer token: the claims are not a JSON object")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise AuthenticationError(f"bearer token: aud must be {audience!r}")
    issued_at = _time(claims, "iat")
    expires_at = _time(claims, "exp")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 128:
        raise AuthenticationError("bearer token: needs a jti of 1-128 characters")
    if expires_at <= issued_at:
        raise AuthenticationError("bearer token: exp must be later than iat")
    if expires_at <= now - LEEWAY:
        raise AuthenticationError("bearer token: expired")
    if issued_at > now + LEEWAY:
        raise AuthenticationError("bearer token: issued in the future (iat)")
    if "nbf" in claims and _time(claims, "nbf") > now + LEEWAY:
        raise AuthenticationError("bearer token: not valid yet (nbf)")
    subject = claims.get("sub")
    if exchange_issued:
        if claims.get("iss") != audience or not isinstance(subject, str):
            raise AuthenticationError("bearer token: an exchange token needs iss and sub")
    elif expires_at - issued_at > PARTNER_TOKEN_MAX_LIFETIME:
        raise AuthenticationError("bearer token: a partner's own token may live 5 minutes at most")
    return Token(key_id(token), jti, subject if exchange_issued else None, issued_at, expires_at)


def _time(claims: dict[str, object], name: str) -> datetime:
    value = claims.get(name)
    if type(value) is not int:
        raise AuthenticationError(f"bearer token: needs an integer {name}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise AuthenticationError(f"bearer token: {name} is out of range") from None
