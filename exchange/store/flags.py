"""Flags and the reports partners made of them. Queries live here. Never commits."""

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from exchange.core.addresses import EVM_CHAINS
from exchange.core.claims import Attribution, Category, Claim, Tlp
from exchange.core.flags import Report
from exchange.errors import NotFoundError
from exchange.store.inserts import bulk_insert
from exchange.store.keys import BATCH, pairs_in
from exchange.store.tables import FlagRow, ReportRow


@dataclass(slots=True)
class FlagReports:
    chain: str
    address: str
    reports: list[Report]


class FlagStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def held_claims(self, partner_id: str, claims: Collection[Claim]) -> set[tuple[str, str, str]]:
        """Which of `claims` (by key) the partner has already made.

        Looks the flags up first, then the partner's reports by flag id: both use a unique
        index's prefix, so the cost follows the bundle, not the size of the tables.
        """
        ids = self._flag_ids(list({(c.address.chain, c.address.value) for c in claims}))
        pair_of = {id_: pair for pair, id_ in ids.items()}
        held: set[tuple[str, str, str]] = set()
        flag_ids = list(pair_of)
        for start in range(0, len(flag_ids), BATCH):
            rows = self._session.exec(
                select(ReportRow.flag_id, ReportRow.category)
                .where(col(ReportRow.flag_id).in_(flag_ids[start : start + BATCH]))
                .where(ReportRow.partner_id == partner_id)
            )
            held.update((*pair_of[flag_id], category) for flag_id, category in rows)
        return held

    def add_reports(
        self, partner_id: str, claims: Sequence[Claim], *, submission_id: str, at: datetime
    ) -> None:
        """Store `claims` as reports, creating the flags nobody had raised yet."""
        if not claims:
            return
        pairs = list({(c.address.chain, c.address.value) for c in claims})
        bulk_insert(
            self._session,
            FlagRow,
            [{"chain": chain, "address": address} for chain, address in pairs],
            skip_existing=True,
        )
        ids = self._flag_ids(pairs)
        bulk_insert(
            self._session,
            ReportRow,
            [
                {
                    "flag_id": ids[(claim.address.chain, claim.address.value)],
                    "partner_id": partner_id,
                    "category": claim.category.value,
                    "tlp": claim.tlp.value,
                    "confidence": claim.confidence,
                    "valid_from": claim.valid_from,
                    "valid_until": claim.valid_until,
                    "case_reference": claim.case_reference,
                    "asset": claim.asset,
                    "recipients": json.dumps(sorted(claim.recipients)),
                    "attribution": claim.attribution.value,
                    "handling": claim.handling,
                    "indicator_id": claim.indicator_id,
                    "submission_id": submission_id,
                    "created_at": at,
                }
                for claim in claims
            ],
            skip_existing=True,
        )

    def reports_for(self, chain: str, address: str) -> list[Report]:
        """Every report of the flag (chain, address), oldest first; [] if none."""
        rows = self._session.exec(
            select(ReportRow)
            .join(FlagRow, col(ReportRow.flag_id) == col(FlagRow.id))
            .where(FlagRow.chain == chain, FlagRow.address == address)
            .order_by(col(ReportRow.created_at), col(ReportRow.id))
        )
        return [_to_report(row) for row in rows]

    def get_report(self, report_id: int) -> tuple[Report, str, str]:
        """(report, chain, address); raises NotFoundError."""
        row = self._session.exec(
            select(ReportRow, FlagRow.chain, FlagRow.address)
            .join(FlagRow, col(ReportRow.flag_id) == col(FlagRow.id))
            .where(ReportRow.id == report_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no report {report_id}")
        report, chain, address = row
        return _to_report(report), chain, address

    def revoke_report(self, report_id: int, *, at: datetime) -> None:
        row = self._session.get(ReportRow, report_id, with_for_update=True)
        if row is None:
            raise NotFoundError(f"no report {report_id}")
        row.revoked_at = at
        self._session.add(row)
        self._session.flush()

    def reports_of_flags(self, flag_ids: Collection[int]) -> dict[int, FlagReports]:
        """Every report of each flag in `flag_ids`, oldest first, with the flag's key."""
        found: dict[int, FlagReports] = {}
        unique = sorted(set(flag_ids))
        for start in range(0, len(unique), BATCH):
            rows = self._session.exec(
                select(ReportRow, FlagRow.chain, FlagRow.address)
                .join(FlagRow, col(ReportRow.flag_id) == col(FlagRow.id))
                .where(col(ReportRow.flag_id).in_(unique[start : start + BATCH]))
                .order_by(col(ReportRow.created_at), col(ReportRow.id))
            )
            for row, chain, address in rows:
                found.setdefault(row.flag_id, FlagReports(chain, address, [])).reports.append(
                    _to_report(row)
                )
        return found

    def scan(
        self,
        *,
        after: int,
        limit: int,
        added_after: datetime | None = None,
        indicator_ids: Collection[str] = (),
        report_ids: Collection[int] = (),
    ) -> list[tuple[int, int]]:
        """(report id, flag id) of up to `limit` reports after report `after`, in arrival
        order (report ids are assigned under the sharing log's lock: commit order).
        With ids given, only reports with those indicator ids or report ids."""
        query = select(ReportRow.id, ReportRow.flag_id).where(col(ReportRow.id) > after)
        if added_after is not None:
            query = query.where(col(ReportRow.created_at) > added_after)
        if indicator_ids or report_ids:
            query = query.where(
                or_(
                    col(ReportRow.indicator_id).in_(list(indicator_ids)),
                    col(ReportRow.id).in_(list(report_ids)),
                )
            )
        rows = self._session.exec(query.order_by(col(ReportRow.id)).limit(limit))
        return [(id_, flag_id) for id_, flag_id in rows if id_ is not None]

    def reports_of_submission(self, submission_id: str) -> list[tuple[int, int, str, str]]:
        """(report id, flag id, chain, address) of the reports a submission added."""
        rows = self._session.exec(
            select(ReportRow.id, ReportRow.flag_id, FlagRow.chain, FlagRow.address)
            .join(FlagRow, col(ReportRow.flag_id) == col(FlagRow.id))
            .where(ReportRow.submission_id == submission_id)
        )
        return [(id_, flag_id, chain, address) for id_, flag_id, chain, address in rows if id_]

    def reports_with_indicator(self, indicator_ids: Collection[str]) -> list[int]:
        """Ids of the reports made from the given STIX indicator ids (any partner's)."""
        if not indicator_ids:
            return []
        rows = self._session.exec(
            select(ReportRow.id).where(col(ReportRow.indicator_id).in_(list(indicator_ids)))
        )
        return [id_ for id_ in rows if id_ is not None]

    def flag_of_report(self, report_id: int) -> int:
        flag_id = self._session.exec(
            select(ReportRow.flag_id).where(ReportRow.id == report_id)
        ).first()
        if flag_id is None:
            raise NotFoundError(f"no report {report_id}")
        return flag_id

    def flags_matching(self, keys: Collection[tuple[str, str]]) -> list[int]:
        """Ids of the flags whose match key (`Address.key`) is one of `keys`."""
        found = list(self._flag_ids([key for key in keys if key[0] != "evm"]).values())
        evm = sorted({address for match_chain, address in keys if match_chain == "evm"})
        for start in range(0, len(evm), BATCH):  # one statement for every EVM chain at once
            found.extend(
                id_
                for id_ in self._session.exec(
                    select(FlagRow.id)
                    .where(col(FlagRow.chain).in_(sorted(EVM_CHAINS)))
                    .where(col(FlagRow.address).in_(evm[start : start + BATCH]))
                )
                if id_ is not None
            )
        return found

    def count(self) -> tuple[int, int]:
        """(flags, reports): for operators and tests."""
        flags = self._session.exec(select(func.count()).select_from(FlagRow)).one()
        reports = self._session.exec(select(func.count()).select_from(ReportRow)).one()
        return flags, reports

    def _flag_ids(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        ids: dict[tuple[str, str], int] = {}
        for matching in pairs_in(col(FlagRow.chain), col(FlagRow.address), pairs):
            rows = self._session.exec(
                select(FlagRow.chain, FlagRow.address, FlagRow.id).where(matching)
            )
            ids.update(((chain, address), id_) for chain, address, id_ in rows if id_ is not None)
        return ids


def _to_report(row: ReportRow) -> Report:
    assert row.id is not None
    return Report(
        id=row.id,
        partner_id=row.partner_id,
        category=Category(row.category),
        tlp=Tlp(row.tlp),
        indicator_id=row.indicator_id,
        submission_id=row.submission_id,
        created_at=row.created_at,
        confidence=row.confidence,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        case_reference=row.case_reference,
        asset=row.asset,
        recipients=frozenset(json.loads(row.recipients)),
        attribution=Attribution(row.attribution),
        handling=row.handling,
        revoked_at=row.revoked_at,
    )
