"""TAXII 2.1 collections as use cases: what each caller may read and write.

The submission collection: a partner posts signed envelopes into it (each one a signed
submission, same rules as signed bundles) and reads back its own objects, paged by their
arrival order, so a page costs the same at the millionth object as at the first and a
reader never misses an object added while it pages.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from exchange.core.partners import Partner, Role
from exchange.errors import InputError, NotFoundError, PermissionDeniedError
from exchange.store.taxii import ObjectPage, TaxiiStore

NAMESPACE = uuid.UUID("2c3f7a8e-4b1d-5e6f-8a9b-0c1d2e3f4a5b")
SUBMISSIONS = str(uuid.uuid5(NAMESPACE, "submissions"))
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool


def collections_for(partner: Partner) -> list[Collection]:
    writes = partner.has(Role.SUBMITTER)
    return [
        Collection(
            SUBMISSIONS,
            "Submissions",
            "Post signed envelopes of indicators (Exchange-Signature header); read back the "
            "objects you submitted.",
            can_read=True,
            can_write=writes,
        )
    ]


def collection(partner: Partner, collection_id: str) -> Collection:
    for found in collections_for(partner):
        if found.id == collection_id:
            return found
    raise NotFoundError(f"no collection {collection_id}")


@dataclass(frozen=True, slots=True)
class Query:
    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: tuple[str, ...] = ("last",)  # first, last, all, or timestamps
    spec_versions: frozenset[str] = frozenset()
    added_after: datetime | None = None
    limit: int = 1000
    after: int = 0  # the opaque `next`: the last arrival number served


def read_objects(
    session: Session, partner: Partner, collection_id: str, query: Query
) -> ObjectPage:
    found = collection(partner, collection_id)
    if not found.can_read:
        raise PermissionDeniedError(f"collection {collection_id} cannot be read")
    if query.spec_versions and "2.1" not in query.spec_versions:
        return ObjectPage([], more=False, last=query.after)
    return TaxiiStore(session).page(
        partner.id,
        after=query.after,
        limit=min(query.limit, MAX_PAGE),
        ids=query.ids,
        types=query.types,
        added_after=query.added_after,
        versions=_versions(query.versions),
    )


def object_versions(
    session: Session, partner: Partner, collection_id: str, object_id: str
) -> list[str]:
    collection(partner, collection_id)
    versions = TaxiiStore(session).versions(partner.id, object_id)
    if not versions:
        raise NotFoundError(f"no object {object_id} in collection {collection_id}")
    return versions


def _versions(wanted: tuple[str, ...]) -> tuple[str, ...]:
    for value in wanted:
        if value not in ("first", "last", "all"):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise InputError(
                    f"match[version]: {value!r} is not first, last, all or a timestamp"
                ) from None
    return wanted


def status_of(outcomes: list[dict[str, Any]], objects: list[Any]) -> list[dict[str, Any]]:
    """TAXII status `successes`: every object with its version and outcome."""
    successes = []
    for outcome in outcomes:
        obj = objects[outcome["index"]]
        version = obj.get("modified") or obj.get("created") if isinstance(obj, dict) else None
        entry = {"id": outcome["id"], "message": outcome["status"]}
        if version:
            entry["version"] = version
        successes.append(entry)
    return successes
