"""TAXII 2.1 collections as use cases: what each caller may read and write.

- Submissions: a partner posts signed envelopes into it (each one a signed submission,
  same rules as signed bundles) and reads back its own objects.
- Flags: every report the caller may see, as a STIX indicator, through the same sharing
  decision and redaction as a flag lookup (`decide`, `disclose_all`).

Both page by arrival order (keyset): a page costs a bounded number of queries at the
millionth object as at the first, and a reader never misses an object added while it pages.
A flags page scans `limit` reports and serves those the caller may see, so a caller who may
see little gets short pages with `more`, never a page that scans the whole table.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from exchange.core.alerts import indicator_ids, report_of_indicator_id, stix_indicator
from exchange.core.dedup import Outcome
from exchange.core.flags import Flag, Report, disclose_all
from exchange.core.partners import Partner, Role
from exchange.core.policy import decide, masks, pseudonym
from exchange.errors import InputError, NotFoundError, PermissionDeniedError
from exchange.services.policy import current_policy, viewer_of
from exchange.store.alerts import AlertStore
from exchange.store.flags import FlagStore
from exchange.store.taxii import Item, ObjectPage, TaxiiStore

NAMESPACE = uuid.UUID("2c3f7a8e-4b1d-5e6f-8a9b-0c1d2e3f4a5b")
SUBMISSIONS = str(uuid.uuid5(NAMESPACE, "submissions"))
FLAGS = str(uuid.uuid5(NAMESPACE, "flags"))
ALERTS = str(uuid.uuid5(NAMESPACE, "alerts"))
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
        ),
        Collection(
            FLAGS,
            "Flags",
            "Every report you may see under the sharing policy, as STIX 2.1 indicators of "
            "cryptocurrency addresses (submitters you may not know appear under pseudonyms).",
            can_read=True,
            can_write=False,
        ),
        *(
            [
                Collection(
                    ALERTS,
                    "Alerts",
                    "Your alerts as STIX 2.1: the indicator of each report that alerted one of "
                    "your subscriptions, as the alert showed it.",
                    can_read=True,
                    can_write=False,
                )
            ]
            if partner.has(Role.SUBSCRIBER)
            else []
        ),
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
    session: Session,
    partner: Partner,
    collection_id: str,
    query: Query,
    *,
    now: datetime,
    alias_secret: bytes,
) -> ObjectPage:
    found = collection(partner, collection_id)
    if not found.can_read:
        raise PermissionDeniedError(f"collection {collection_id} cannot be read")
    if query.spec_versions and "2.1" not in query.spec_versions:
        return ObjectPage([], more=False, last=query.after)
    if found.id == FLAGS:
        return _flag_page(session, partner, query, now=now, alias_secret=alias_secret)
    if found.id == ALERTS:
        return _alert_page(session, partner, query)
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
    session: Session,
    partner: Partner,
    collection_id: str,
    object_id: str,
    *,
    now: datetime,
    alias_secret: bytes,
) -> list[str]:
    found = collection(partner, collection_id)
    if found.id in (FLAGS, ALERTS):
        query = Query(ids=frozenset({object_id}), versions=("all",), limit=MAX_PAGE)
        page = read_objects(session, partner, found.id, query, now=now, alias_secret=alias_secret)
        versions = sorted({item.version for item in page.items})
    else:
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


def status_of(outcomes: Sequence[Outcome], objects: list[Any]) -> list[dict[str, Any]]:
    """TAXII status `successes`: every object with its version and outcome."""
    successes = []
    for outcome in outcomes:
        obj = objects[outcome.index]
        version = obj.get("modified") or obj.get("created") if isinstance(obj, dict) else None
        entry = {"id": outcome.id, "message": outcome.status.value}
        if version:
            entry["version"] = version
        successes.append(entry)
    return successes


def _flag_page(
    session: Session, partner: Partner, query: Query, *, now: datetime, alias_secret: bytes
) -> ObjectPage:
    if query.types and "indicator" not in query.types:
        return ObjectPage([], more=False, last=query.after)
    report_ids = {r for i in query.ids if (r := report_of_indicator_id(i)) is not None}
    store = FlagStore(session)
    limit = min(query.limit, MAX_PAGE)
    scanned = store.scan(
        after=query.after,
        limit=limit + 1,
        added_after=query.added_after,
        indicator_ids=query.ids,
        report_ids=report_ids,
    )
    more, scanned = len(scanned) > limit, scanned[:limit]
    flags = store.reports_of_flags({flag_id for _, flag_id in scanned})
    policy, viewer = current_policy(session), viewer_of(partner)
    shown: dict[int, tuple[Report, Flag, str]] = {}
    for held in flags.values():
        decided = [(r, decide(r.shared(), viewer, policy, now=now)) for r in held.reports]
        seen = disclose_all(
            decided,
            lambda submitter: pseudonym(alias_secret, submitter, partner.id),
            lambda report: masks(report.shared(), viewer, policy, now=now),
        )
        disclosed = Flag(held.chain, held.address, seen)
        ids = indicator_ids(seen)
        shown.update((r.id, (r, disclosed, ids[r.id])) for r in seen)
    items = []
    for report_id, _ in scanned:
        if report_id not in shown:
            continue
        report, disclosed, object_id = shown[report_id]
        if query.ids and object_id not in query.ids:
            continue  # asked by a partner's indicator id this report is not shown with
        body = stix_indicator(report, disclosed, object_id)
        if not _version_wanted(body["modified"], query.versions):
            continue
        items.append(Item(report_id, object_id, body["modified"], report.created_at, body))
    return ObjectPage(items, more, scanned[-1][0] if scanned else query.after)


def _version_wanted(version: str, wanted: tuple[str, ...]) -> bool:
    """A flags-collection object has one version: first, last and all are it."""
    if any(w in ("first", "last", "all") for w in wanted):
        return True
    moment = datetime.fromisoformat(version)
    return any(datetime.fromisoformat(w) == moment for w in wanted)


def _alert_page(session: Session, partner: Partner, query: Query) -> ObjectPage:
    """Each alert's new reports' indicators, exactly as the alert's STIX bundle shows them
    (the alert was decided and redacted when it was made)."""
    if query.types and "indicator" not in query.types:
        return ObjectPage([], more=False, last=query.after)
    report_ids: set[int] | None = None
    if query.ids:
        report_ids = {r for i in query.ids if (r := report_of_indicator_id(i)) is not None}
        report_ids.update(FlagStore(session).reports_with_indicator(query.ids))
    limit = min(query.limit, MAX_PAGE)
    rows = AlertStore(session).page(
        partner.id,
        after=query.after,
        limit=limit + 1,
        report_ids=report_ids,
        added_after=query.added_after,
    )
    more, rows = len(rows) > limit, rows[:limit]
    items: list[Item] = []
    served: set[tuple[str, str]] = set()
    for seq, report_id, created, text in rows:
        alert = json.loads(text)
        shown = next(r["indicator"] for r in alert["reports"] if r["id"] == report_id)
        body = next(o for o in alert["stix"]["objects"] if o["id"] == shown)
        key = (body["id"], body["modified"])
        if (query.ids and shown not in query.ids) or key in served:
            continue  # one report can alert two subscriptions: one object, served once
        if _version_wanted(body["modified"], query.versions):
            served.add(key)
            items.append(Item(seq, shown, body["modified"], created, body))
    return ObjectPage(items, more, rows[-1][0] if rows else query.after)
