"""Plain functions that build partners, keys, bundles and tokens with safe defaults."""

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from exchange import tokens
from exchange.core.bundles import EXTENSION_ID
from exchange.core.claims import TLP2_MARKING_IDS, Tlp
from exchange.core.partners import Partner, Role
from exchange.services.partners import add_partner, register_key
from exchange.signatures import SigningKey, generate_key, sign_bundle

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# Real OFAC-listed addresses (../shared/data/ofac), in two spellings where the chain has two.
ETH_CHECKSUMMED = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
ETH_LOWER = ETH_CHECKSUMMED.lower()
BTC_P2PKH = "123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX"
BTC_BECH32 = "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw"


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One use case, one committed transaction: what an edge (route, CLI verb) does."""
    with Session(engine) as session, session.begin():
        yield session


@dataclass(frozen=True)
class Member:
    """A partner and the private key it signs with."""

    partner: Partner
    key: SigningKey

    @property
    def id(self) -> str:
        return self.partner.id


def make_member(
    engine: Engine,
    name: str | None = None,
    roles: Sequence[Role] = (Role.SUBMITTER, Role.SUBSCRIBER),
    *,
    now: datetime = NOW,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Member:
    key = generate_key()
    with transaction(engine) as session:
        partner = add_partner(session, name or f"partner-{uuid.uuid4().hex[:8]}", roles, now=now)
        register_key(
            session,
            partner.id,
            key.public_key,
            now=now,
            not_before=not_before,
            not_after=not_after,
        )
    return Member(partner, key)


def indicator(
    submitter: str,
    address: str,
    *,
    chain: str | None = None,
    category: str = "human-trafficking",
    tlp: Tlp | None = Tlp.AMBER,
    **extra: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-20T10:00:00.000Z",
        "modified": "2026-11-20T10:00:00.000Z",
        "created_by_ref": submitter,
        "name": f"Wallet tied to {category}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[cryptocurrency-wallet:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": "2026-11-20T10:00:00Z",
        "labels": [category],
        "confidence": 80,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP2_MARKING_IDS[tlp]]
    if chain is not None:
        obj["extensions"] = {
            EXTENSION_ID: {"extension_type": "property-extension", "chain": chain}
        }
    return obj | extra


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def signed(doc: dict[str, Any], *keys: SigningKey, iat: datetime = NOW) -> bytes:
    """The signed-bundle document as bytes, co-signed by every key given."""
    signatures = []
    for key in keys:
        signatures += sign_bundle(doc, key, iat=int(iat.timestamp()))["signatures"]
    return json.dumps({"bundle": doc, "signatures": signatures}).encode()


def own_token(
    member: Member, *, audience: str = "http://testserver", now: datetime | None = None
) -> str:
    """A partner's own short-lived bearer token (real clock unless `now` is given)."""
    moment = now or datetime.now(UTC)
    return tokens.issue(member.key, audience=audience, now=moment, ttl=timedelta(minutes=2))


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {own_token(member)}"}
