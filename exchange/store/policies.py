"""Versions of the sharing policy: every one applied is kept. Never commits."""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from exchange.core.claims import Attribution, Category, Tlp
from exchange.core.policy import Agreement, Policy
from exchange.errors import NotFoundError
from exchange.store.tables import PolicyVersionRow

_PARSED: dict[tuple[int, str], Policy] = {}  # (version, resolved JSON) -> parsed


class PolicyStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, policy: Policy, document: str, *, at: datetime) -> None:
        self._session.add(
            PolicyVersionRow(
                version=policy.version,
                document=document,
                resolved=json.dumps(_to_json(policy), sort_keys=True),
                applied_at=at,
            )
        )
        self._session.flush()

    def next_version(self) -> int:
        last = self._session.exec(select(func.max(PolicyVersionRow.version))).one()
        return 1 if last is None else int(last) + 1

    def current(self) -> Policy:
        """The newest version; an empty policy (share only TLP:CLEAR and named) if none.

        Parsing a large policy costs more than reading it, so the newest is parsed once.
        """
        newest = self._session.exec(
            select(PolicyVersionRow.version, PolicyVersionRow.resolved)
            .order_by(col(PolicyVersionRow.version).desc())
            .limit(1)
        ).first()
        if newest is None:
            return Policy()
        if _PARSED.get(newest) is None:
            _PARSED.clear()  # only the newest version is asked for again
            _PARSED[newest] = _from_json(newest[0], json.loads(newest[1]))
        return _PARSED[newest]

    def get(self, version: int) -> tuple[Policy, str, datetime]:
        """(policy, document as applied, when); raises NotFoundError."""
        row = self._session.get(PolicyVersionRow, version)
        if row is None:
            raise NotFoundError(f"no policy version {version}")
        return _from_json(row.version, json.loads(row.resolved)), row.document, row.applied_at

    def list_versions(self) -> list[tuple[int, datetime]]:
        rows = self._session.exec(
            select(PolicyVersionRow.version, PolicyVersionRow.applied_at).order_by(
                col(PolicyVersionRow.version)
            )
        )
        return [(version, at) for version, at in rows]


def _to_json(policy: Policy) -> dict[str, Any]:
    return {
        "groups": {name: sorted(members) for name, members in policy.groups.items()},
        "agreements": [
            {
                "id": a.id,
                "from": a.source,
                "to": a.to,
                "max_tlp": a.max_tlp.value,
                "categories": sorted(a.categories),
                "attribution": a.attribution and a.attribution.value,
            }
            for a in policy.agreements
        ],
        "default_tlp": {partner: tlp.value for partner, tlp in policy.default_tlp.items()},
    }


def _from_json(version: int, data: dict[str, Any]) -> Policy:
    return Policy(
        version=version,
        groups={name: frozenset(members) for name, members in data["groups"].items()},
        agreements=tuple(
            Agreement(
                id=a["id"],
                source=a["from"],
                to=a["to"],
                max_tlp=Tlp(a["max_tlp"]),
                categories=frozenset(Category(c) for c in a["categories"]),
                attribution=Attribution(a["attribution"]) if a["attribution"] else None,
            )
            for a in data["agreements"]
        ),
        default_tlp={partner: Tlp(tlp) for partner, tlp in data["default_tlp"].items()},
    )
