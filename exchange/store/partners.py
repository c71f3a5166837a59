"""Partners, their keys, and the token ids they have used. Never commits."""

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from exchange.core.partners import Partner, PartnerKey, Role
from exchange.errors import ConflictError, NotFoundError
from exchange.store.inserts import insert_if_new
from exchange.store.tables import PartnerKeyRow, PartnerRow, TokenUseRow


class PartnerStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, partner: Partner) -> None:
        """Raises ConflictError if the name is taken."""
        if self._session.exec(
            select(PartnerRow.id).where(PartnerRow.name == partner.name)
        ).first():
            raise ConflictError(f"a partner named {partner.name!r} already exists")
        self._session.add(
            PartnerRow(
                id=partner.id,
                name=partner.name,
                roles=",".join(sorted(partner.roles)),
                created_at=partner.created_at,
            )
        )
        self._session.flush()

    def get(self, partner_id_or_name: str) -> Partner:
        """By id or by name; raises NotFoundError."""
        row = (
            self._session.get(PartnerRow, partner_id_or_name)
            or self._session.exec(
                select(PartnerRow).where(PartnerRow.name == partner_id_or_name)
            ).first()
        )
        if row is None:
            raise NotFoundError(f"no partner {partner_id_or_name!r}")
        return _to_partner(row)

    def list_all(self) -> list[Partner]:
        rows = self._session.exec(select(PartnerRow).order_by(col(PartnerRow.created_at)))
        return [_to_partner(row) for row in rows]


class KeyStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, key: PartnerKey) -> None:
        """Raises ConflictError if the key is already registered (to anyone)."""
        if self._session.get(PartnerKeyRow, key.kid) is not None:
            raise ConflictError(f"key {key.kid} is already registered")
        self._session.add(_to_row(key))
        self._session.flush()

    def find(self, kid: str) -> PartnerKey | None:
        row = self._session.get(PartnerKeyRow, kid)
        return None if row is None else _to_key(row)

    def list_for(self, partner_id: str) -> list[PartnerKey]:
        rows = self._session.exec(
            select(PartnerKeyRow)
            .where(PartnerKeyRow.partner_id == partner_id)
            .order_by(col(PartnerKeyRow.created_at))
        )
        return [_to_key(row) for row in rows]

    def revoke(self, kid: str, *, reason: str, at: datetime) -> PartnerKey:
        """Raises NotFoundError for an unknown kid and ConflictError if already revoked."""
        row = self._session.get(PartnerKeyRow, kid, with_for_update=True)
        if row is None:
            raise NotFoundError(f"no key {kid!r}")
        if row.revoked_at is not None:
            raise ConflictError(f"key {kid} was already revoked")
        row.revoked_at, row.revoked_reason = at, reason
        self._session.add(row)
        self._session.flush()
        return _to_key(row)


class TokenUseStore:
    """Single use of partners' own tokens: a jti seen before is a replay."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, kid: str, jti: str, *, expires_at: datetime, now: datetime) -> bool:
        """Record the use; False if this (kid, jti) was used before. Forgets expired uses."""
        self._session.execute(delete(TokenUseRow).where(col(TokenUseRow.expires_at) < now))
        row = {"jti": f"{kid}:{jti}", "expires_at": expires_at}
        return insert_if_new(self._session, TokenUseRow, row)


def _to_partner(row: PartnerRow) -> Partner:
    roles = frozenset(Role(role) for role in row.roles.split(",") if role)
    return Partner(id=row.id, name=row.name, roles=roles, created_at=row.created_at)


def _to_row(key: PartnerKey) -> PartnerKeyRow:
    return PartnerKeyRow(
        kid=key.kid,
        partner_id=key.partner_id,
        public_key=key.public_key,
        created_at=key.created_at,
        not_before=key.not_before,
        not_after=key.not_after,
        revoked_at=key.revoked_at,
        revoked_reason=key.revoked_reason,
    )


def _to_key(row: PartnerKeyRow) -> PartnerKey:
    return PartnerKey(
        kid=row.kid,
        partner_id=row.partner_id,
        public_key=row.public_key,
        created_at=row.created_at,
        not_before=row.not_before,
        not_after=row.not_after,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
    )
