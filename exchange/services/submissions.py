"""Accept a partner's signed bundle: verify, read, deduplicate, store. The caller commits."""

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from exchange.core.bundles import ReadBundle, outcome_problems, read_bundle
from exchange.core.claims import Tlp
from exchange.core.dedup import Outcome, Status, settle
from exchange.core.ledger import Action, Entry
from exchange.core.partners import Partner, Role
from exchange.core.submissions import Submission
from exchange.errors import BundleError, ConflictError, NotFoundError, SignatureError
from exchange.services.audit import record
from exchange.services.policy import current_policy
from exchange.signatures import SignedBundle, parse_json, read_signed_bundle, verify_signature
from exchange.store.flags import FlagStore
from exchange.store.ledger import LedgerStore
from exchange.store.partners import KeyStore
from exchange.store.submissions import ObjectStore, SubmissionStore


@dataclass(frozen=True, slots=True)
class Limits:
    max_objects: int = 10_000
    clock_skew: timedelta = timedelta(minutes=15)
    default_tlp: Tlp = Tlp.AMBER


@dataclass(frozen=True, slots=True)
class Receipt:
    submission: Submission
    created: bool  # False: the same bundle was already submitted; nothing changed


def submit_bundle(
    session: Session, partner: Partner, body: bytes, *, now: datetime, limits: Limits
) -> Receipt:
    """Store what is new in the signed-bundle document `body`, all or nothing.

    Raises DocumentError, SignatureError, BundleError (with every refused object),
    TooLargeError or ConflictError; then nothing is stored.
    """
    signed = read_signed_bundle(parse_json(body))
    return submit_signed(session, partner, signed, raw=body, now=now, limits=limits)


def submit_signed(
    session: Session,
    partner: Partner,
    signed: SignedBundle,
    *,
    raw: bytes,
    now: datetime,
    limits: Limits,
) -> Receipt:
    """`submit_bundle` for a document already read: a signed-bundle document, or a TAXII
    envelope with its Exchange-Signature. `raw` is kept as the evidence."""
    body = raw
    signer_kids = _verify(session, partner, signed, now=now, skew=limits.clock_skew)
    default_tlp = current_policy(session).default_tlp.get(partner.id, limits.default_tlp)
    read = read_bundle(
        signed.bundle,
        submitter=partner.id,
        default_tlp=default_tlp,
        max_objects=limits.max_objects,
    )
    sha256 = hashlib.sha256(signed.canonical).hexdigest()
    submissions = SubmissionStore(session)
    earlier = submissions.find_by_bundle(partner.id, read.id)
    if earlier is not None:
        return Receipt(_repeat(earlier, sha256), created=False)
    if read.problems:
        raise BundleError(outcome_problems(read.problems), _refusals(read))

    objects, flags = ObjectStore(session), FlagStore(session)
    claims = [claim for check in read.objects for claim in check.claims]
    settlement = settle(
        read.objects,
        held_objects=objects.fingerprints(partner.id, [(c.id, c.version) for c in read.objects]),
        held_claims=flags.held_claims(partner.id, claims),
    )
    if settlement.rejected:
        first = settlement.rejected[0]
        raise BundleError(
            f"object {first.index} ({first.id}) refused: {first.reason}",
            [_refusal(o) for o in settlement.rejected],
        )
    submission = Submission(
        id=str(uuid.uuid4()),
        partner_id=partner.id,
        bundle_id=read.id,
        bundle_sha256=sha256,
        signer_kids=signer_kids,
        received_at=now,
        outcomes=settlement.outcomes,
    )
    LedgerStore(session).lock()  # from here on, in commit order: object numbers, alerts
    submissions.add(submission, raw=body)
    objects.add(settlement.new_objects, partner_id=partner.id, submission_id=submission.id, at=now)
    flags.add_reports(partner.id, settlement.new_claims, submission_id=submission.id, at=now)
    record(
        session,
        Entry(
            Action.BUNDLE_SUBMITTED,
            now,
            partner.id,
            submission.id,
            partners=(partner.id,),
            details={
                "bundle_id": read.id,
                "received_sha256": hashlib.sha256(body).hexdigest(),
                "bundle_sha256": sha256,
                "kids": list(signer_kids),
                "accepted": submission.count(Status.ACCEPTED),
                "duplicates": submission.count(Status.DUPLICATE),
            },
        ),
    )
    return Receipt(submission, created=True)


def get_submission(session: Session, viewer: Partner, submission_id: str) -> Submission:
    """A submission, for its submitter, admins and auditors; raises NotFoundError for others."""
    submission = SubmissionStore(session).get(submission_id)
    if not _may_see(viewer, submission):
        raise NotFoundError(f"no submission {submission_id!r}")
    return submission


def get_raw(session: Session, viewer: Partner, submission_id: str) -> bytes:
    get_submission(session, viewer, submission_id)
    return SubmissionStore(session).raw(submission_id)


def _may_see(viewer: Partner, submission: Submission) -> bool:
    return submission.partner_id == viewer.id or viewer.has(Role.ADMIN) or viewer.has(Role.AUDITOR)


def _verify(
    session: Session, partner: Partner, signed: SignedBundle, *, now: datetime, skew: timedelta
) -> tuple[str, ...]:
    """Every signature must verify; at least one must be by the submitting partner."""
    keys = KeyStore(session)
    by_submitter = False
    for signature in signed.signatures:
        key = keys.find(signature.kid)
        if key is None:
            raise SignatureError(f"signature by unknown key {signature.kid}")
        signed_at = datetime.fromtimestamp(signature.header["iat"], UTC)
        if abs(signed_at - now) > skew:
            raise SignatureError(
                f"signature by key {key.kid}: iat {signed_at.isoformat()} is more than "
                f"{int(skew.total_seconds())} s from the exchange's clock"
            )
        if (why := key.unusable_at(signed_at)) is not None:
            raise SignatureError(f"signature by {why}")
        verify_signature(signature, key.public_key)
        by_submitter = by_submitter or key.partner_id == partner.id
    if not by_submitter:
        raise SignatureError("no signature by a key of the submitting partner")
    return tuple(signature.kid for signature in signed.signatures)


def _repeat(earlier: Submission, sha256: str) -> Submission:
    """The answer to a bundle this partner sent again: every object a duplicate, nothing stored."""
    if earlier.bundle_sha256 != sha256:
        raise ConflictError(
            f"bundle {earlier.bundle_id} was already submitted with different content; "
            "give a changed bundle a new id"
        )
    reason = f"already received in submission {earlier.id}"
    outcomes = tuple(replace(o, status=Status.DUPLICATE, reason=reason) for o in earlier.outcomes)
    return replace(earlier, outcomes=outcomes)


def _refusals(read: ReadBundle) -> list[dict[str, object]]:
    return [
        _refusal(Outcome(c.index, c.id, c.type, Status.REJECTED, c.problem)) for c in read.problems
    ]


def _refusal(outcome: Outcome) -> dict[str, object]:
    return {
        "index": outcome.index,
        "id": outcome.id,
        "type": outcome.type,
        "reason": outcome.reason,
    }
