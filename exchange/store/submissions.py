"""Submissions kept as evidence, and the STIX object versions they brought. Never commits."""

import json
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from exchange.core.bundles import ObjectCheck
from exchange.core.dedup import Outcome, Status
from exchange.core.submissions import Submission
from exchange.errors import ConflictError, NotFoundError
from exchange.store.inserts import bulk_insert
from exchange.store.keys import BATCH
from exchange.store.tables import StixObjectRow, SubmissionRow


class SubmissionStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, submission: Submission, raw: bytes) -> None:
        self._session.add(
            SubmissionRow(
                id=submission.id,
                partner_id=submission.partner_id,
                bundle_id=submission.bundle_id,
                bundle_sha256=submission.bundle_sha256,
                signer_kids=json.dumps(submission.signer_kids),
                raw=raw,
                outcomes=json.dumps(
                    [  # by hand: dataclasses.asdict costs 30 ms for 1,000 outcomes
                        {
                            "index": o.index,
                            "id": o.id,
                            "type": o.type,
                            "status": o.status,
                            "reason": o.reason,
                        }
                        for o in submission.outcomes
                    ]
                ),
                accepted=submission.count(Status.ACCEPTED),
                duplicates=submission.count(Status.DUPLICATE),
                received_at=submission.received_at,
            )
        )
        try:
            self._session.flush()
        except IntegrityError:
            raise ConflictError(
                f"bundle {submission.bundle_id} is being submitted concurrently; retry"
            ) from None

    def get(self, submission_id: str) -> Submission:
        """Raises NotFoundError."""
        row = self._session.get(SubmissionRow, submission_id)
        if row is None:
            raise NotFoundError(f"no submission {submission_id!r}")
        return _to_submission(row)

    def find_by_bundle(self, partner_id: str, bundle_id: str) -> Submission | None:
        row = self._session.exec(
            select(SubmissionRow).where(
                SubmissionRow.partner_id == partner_id, SubmissionRow.bundle_id == bundle_id
            )
        ).first()
        return None if row is None else _to_submission(row)

    def raw(self, submission_id: str) -> bytes:
        """The exact bytes received; raises NotFoundError."""
        raw = self._session.exec(
            select(SubmissionRow.raw).where(SubmissionRow.id == submission_id)
        ).first()
        if raw is None:
            raise NotFoundError(f"no submission {submission_id!r}")
        return raw


class ObjectStore:
    """STIX object versions, keyed by (partner, id, version)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def fingerprints(
        self, partner_id: str, versions: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """The fingerprint held for each of `versions` this partner already sent."""
        held: dict[tuple[str, str], str] = {}
        wanted = set(versions)
        ids = sorted({object_id for object_id, _ in wanted})
        for start in range(0, len(ids), BATCH):  # (partner, object id) is the index's prefix
            rows = self._session.exec(
                select(StixObjectRow.object_id, StixObjectRow.version, StixObjectRow.fingerprint)
                .where(StixObjectRow.partner_id == partner_id)
                .where(col(StixObjectRow.object_id).in_(ids[start : start + BATCH]))
            )
            held.update(
                ((object_id, version), fp)
                for object_id, version, fp in rows
                if (object_id, version) in wanted
            )
        return held

    def add(
        self,
        checks: Sequence[ObjectCheck],
        *,
        partner_id: str,
        submission_id: str,
        at: datetime,
    ) -> None:
        """Store new object versions, numbered on from the partner's last: the caller holds
        the sharing log's lock, so the numbers follow commit order (TAXII pages by them)."""
        last = self._session.exec(
            select(func.max(StixObjectRow.seq)).where(StixObjectRow.partner_id == partner_id)
        ).one()
        first = (last or 0) + 1
        bulk_insert(
            self._session,
            StixObjectRow,
            [
                {
                    "partner_id": partner_id,
                    "object_id": check.id,
                    "version": check.version,
                    "type": check.type,
                    "fingerprint": check.fingerprint,
                    "submission_id": submission_id,
                    "body": json.dumps(check.body, separators=(",", ":"), ensure_ascii=False),
                    "seq": first + number,
                    "added_at": at,
                }
                for number, check in enumerate(checks)
            ],
        )


def _to_submission(row: SubmissionRow) -> Submission:
    outcomes = tuple(
        Outcome(o["index"], o["id"], o["type"], Status(o["status"]), o["reason"])
        for o in json.loads(row.outcomes)
    )
    return Submission(
        id=row.id,
        partner_id=row.partner_id,
        bundle_id=row.bundle_id,
        bundle_sha256=row.bundle_sha256,
        signer_kids=tuple(json.loads(row.signer_kids)),
        received_at=row.received_at,
        outcomes=outcomes,
    )
