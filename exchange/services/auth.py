"""Who is calling: a bearer token becomes a partner, or AuthenticationError."""

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from exchange import tokens
from exchange.core.partners import Partner
from exchange.errors import AuthenticationError, NotFoundError
from exchange.store.partners import KeyStore, PartnerStore, TokenUseStore


def authenticate(
    session: Session,
    token: str,
    *,
    audience: str,
    operator_keys: Mapping[str, bytes],
    now: datetime,
) -> Partner:
    """The partner `token` speaks for. A partner's own token is good for one request."""
    kid = tokens.key_id(token)
    if kid in operator_keys:
        claims = tokens.verify(
            token, operator_keys[kid], audience=audience, now=now, exchange_issued=True
        )
        assert claims.subject is not None
        return _partner(session, claims.subject)
    key = KeyStore(session).find(kid)
    if key is None:
        raise AuthenticationError(f"bearer token: unknown key {kid}")
    claims = tokens.verify(
        token, key.public_key, audience=audience, now=now, exchange_issued=False
    )
    if (why := key.unusable_at(now)) is not None:
        raise AuthenticationError(f"bearer token: {why}")
    fresh = TokenUseStore(session).add(
        kid, claims.jti, expires_at=claims.expires_at + tokens.LEEWAY, now=now
    )
    if not fresh:
        raise AuthenticationError("bearer token: already used (replayed jti)")
    return _partner(session, key.partner_id)


def _partner(session: Session, partner_id: str) -> Partner:
    try:
        return PartnerStore(session).get(partner_id)
    except NotFoundError:
        raise AuthenticationError("bearer token: the partner no longer exists") from None
