"""Operator use cases: partners, their keys, issued tokens. Each is logged. The caller commits."""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session

from exchange import tokens
from exchange.core.ledger import Action, Entry
from exchange.core.partners import Partner, PartnerKey, Role
from exchange.errors import InputError
from exchange.services.audit import record
from exchange.signatures import SigningKey, thumbprint
from exchange.store.partners import KeyStore, PartnerStore

OPERATOR = "operator"


def add_partner(session: Session, name: str, roles: Iterable[Role], *, now: datetime) -> Partner:
    """Register an organisation; its id is a new STIX identity id. Raises ConflictError."""
    name = name.strip()
    if not 0 < len(name) <= 200:
        raise InputError("a partner's name must be 1-200 characters")
    role_set = frozenset(roles)
    if not role_set:
        raise InputError("a partner needs at least one role")
    partner = Partner(id=f"identity--{uuid.uuid4()}", name=name, roles=role_set, created_at=now)
    PartnerStore(session).add(partner)
    record(
        session,
        Entry(
            Action.PARTNER_ADDED,
            now,
            OPERATOR,
            partner.id,
            partners=(partner.id,),
            details={"name": partner.name, "roles": sorted(partner.roles)},
        ),
    )
    return partner


def register_key(
    session: Session,
    partner_ref: str,
    public_key: bytes,
    *,
    now: datetime,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> PartnerKey:
    """Register an Ed25519 public key for a partner (by id or name)."""
    if not_before and not_after and not_after <= not_before:
        raise InputError("--not-after must be later than --not-before")
    partner = PartnerStore(session).get(partner_ref)
    key = PartnerKey(
        kid=thumbprint(public_key),
        partner_id=partner.id,
        public_key=public_key,
        created_at=now,
        not_before=not_before,
        not_after=not_after,
    )
    KeyStore(session).add(key)
    window = {"not_before": _iso(not_before), "not_after": _iso(not_after)}
    record(
        session,
        Entry(
            Action.KEY_REGISTERED,
            now,
            OPERATOR,
            key.kid,
            partners=(partner.id,),
            details={"kid": key.kid} | {k: v for k, v in window.items() if v is not None},
        ),
    )
    return key


def revoke_key(session: Session, kid: str, *, reason: str, now: datetime) -> PartnerKey:
    if not reason.strip():
        raise InputError("say why the key is revoked (--reason)")
    key = KeyStore(session).revoke(kid, reason=reason.strip(), at=now)
    record(
        session,
        Entry(
            Action.KEY_REVOKED,
            now,
            OPERATOR,
            kid,
            partners=(key.partner_id,),
            details={"kid": kid, "reason": key.revoked_reason},
        ),
    )
    return key


def issue_token(
    session: Session,
    operator_key: SigningKey,
    partner_ref: str,
    *,
    audience: str,
    ttl: timedelta,
    now: datetime,
) -> str:
    """A bearer token signed by the exchange for a partner's tools; the issue is logged."""
    partner = PartnerStore(session).get(partner_ref)
    jti = str(uuid.uuid4())
    token = tokens.issue(
        operator_key, audience=audience, now=now, ttl=ttl, subject=partner.id, jti=jti
    )
    record(
        session,
        Entry(
            Action.TOKEN_ISSUED,
            now,
            OPERATOR,
            partner.id,
            partners=(partner.id,),
            details={"jti": jti, "expires_at": _iso(now + ttl)},
        ),
    )
    return token


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
