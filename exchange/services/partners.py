"""Operator use cases: partners and their keys. The caller commits."""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from exchange.core.partners import Partner, PartnerKey, Role
from exchange.errors import InputError
from exchange.signatures import thumbprint
from exchange.store.partners import KeyStore, PartnerStore


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
    return key


def revoke_key(session: Session, kid: str, *, reason: str, now: datetime) -> PartnerKey:
    if not reason.strip():
        raise InputError("say why the key is revoked (--reason)")
    return KeyStore(session).revoke(kid, reason=reason.strip(), at=now)
