"""The database tables. Table classes only: rows never leave exchange.store."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from exchange.store.types import UtcDateTime


def _utc(nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class PartnerRow(SQLModel, table=True):
    __tablename__ = "partner"

    id: str = Field(primary_key=True, max_length=64)  # the partner's STIX identity id
    name: str = Field(unique=True, max_length=200)
    roles: str = Field(max_length=200)  # comma-separated, sorted
    created_at: datetime = Field(sa_column=_utc())


class PartnerKeyRow(SQLModel, table=True):
    __tablename__ = "partner_key"

    kid: str = Field(primary_key=True, max_length=64)  # RFC 7638 thumbprint
    partner_id: str = Field(foreign_key="partner.id", index=True, max_length=64)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    not_before: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    not_after: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    revoked_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_utc())


class TokenUseRow(SQLModel, table=True):
    """`jti`s of partners' own tokens already presented; a second use is a replay."""

    __tablename__ = "token_use"

    jti: str = Field(primary_key=True, max_length=200)  # kid + ":" + jti
    expires_at: datetime = Field(sa_column=_utc(index=True))


class SubmissionRow(SQLModel, table=True):
    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("partner_id", "bundle_id", name="uq_submission_partner_bundle"),
    )

    id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(foreign_key="partner.id", index=True, max_length=64)
    bundle_id: str = Field(max_length=64)
    bundle_sha256: str = Field(max_length=64)
    signer_kids: str = Field(max_length=2000)  # JSON list
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    outcomes: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
    accepted: int
    duplicates: int
    received_at: datetime = Field(sa_column=_utc())


class StixObjectRow(SQLModel, table=True):
    """Every STIX object version each partner sent, with the submission that brought it.

    Per partner: whether another partner sent an object must never show in an answer.
    """

    __tablename__ = "stix_object"
    __table_args__ = (Index("ix_stix_object_partner_seq", "partner_id", "seq", unique=True),)

    partner_id: str = Field(primary_key=True, foreign_key="partner.id", max_length=64)
    object_id: str = Field(primary_key=True, max_length=300)
    version: str = Field(primary_key=True, max_length=40)
    type: str = Field(max_length=250)
    fingerprint: str = Field(max_length=64)
    submission_id: str = Field(foreign_key="submission.id", index=True, max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))  # arrival order (TAXII)
    added_at: datetime = Field(sa_column=_utc())  # TAXII date_added


class FlagRow(SQLModel, table=True):
    """The deduplicated unit: one row per (chain, canonical address)."""

    __tablename__ = "flag"
    __table_args__ = (UniqueConstraint("chain", "address", name="uq_flag_chain_address"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64)
    address: str = Field(max_length=256)


class ReportRow(SQLModel, table=True):
    """One partner's claim about a flag, in one category."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("flag_id", "partner_id", "category", name="uq_report_claim"),
    )

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="flag.id")  # indexed by uq_report_claim
    partner_id: str = Field(foreign_key="partner.id", index=True, max_length=64)
    category: str = Field(max_length=64)
    tlp: str = Field(max_length=16)
    confidence: int | None = None
    valid_from: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    valid_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    case_reference: str | None = Field(default=None, max_length=256)
    asset: str | None = Field(default=None, max_length=32)
    recipients: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    attribution: str = Field(default="named", max_length=16)
    handling: str | None = Field(default=None, max_length=32)
    revoked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    indicator_id: str = Field(max_length=300, index=True)  # TAXII reads objects by id
    submission_id: str = Field(foreign_key="submission.id", index=True, max_length=64)
    created_at: datetime = Field(sa_column=_utc())


class LedgerEntryRow(SQLModel, table=True):
    """The sharing log's entries, append-only: never updated, never deleted."""

    __tablename__ = "ledger_entry"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    body: str = Field(sa_column=Column(Text, nullable=False))  # RFC 8785 canonical JSON
    action: str = Field(max_length=64, index=True)
    actor: str = Field(max_length=64)
    subject: str = Field(max_length=300, index=True)
    at: datetime = Field(sa_column=_utc(index=True))


class LedgerPartnerRow(SQLModel, table=True):
    """Which partners an entry concerns: they may read it."""

    __tablename__ = "ledger_partner"

    seq: int = Field(primary_key=True, foreign_key="ledger_entry.seq")
    partner_id: str = Field(primary_key=True, max_length=64, index=True)


class LedgerNodeRow(SQLModel, table=True):
    """Hashes of the perfect subtrees of the log's Merkle tree: (level, index)."""

    __tablename__ = "ledger_node"

    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    index: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CheckpointRow(SQLModel, table=True):
    """Signed tree heads, as C2SP signed notes."""

    __tablename__ = "ledger_checkpoint"

    size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    root: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_utc())


class PolicyVersionRow(SQLModel, table=True):
    """Every version of the exchange-wide sharing policy ever applied; the newest rules."""

    __tablename__ = "policy_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    document: str = Field(sa_column=Column(Text, nullable=False))  # as applied (YAML or JSON)
    resolved: str = Field(sa_column=Column(Text, nullable=False))  # JSON, partner names -> ids
    applied_at: datetime = Field(sa_column=_utc())


class SubscriptionRow(SQLModel, table=True):
    """A subscriber's standing question (a watchlist or a feed filter) and where to answer."""

    __tablename__ = "subscription"

    id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(foreign_key="partner.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # watchlist | feed
    chains: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    categories: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    min_corroboration: int = 1
    min_confidence: int | None = None
    delivery: str = Field(max_length=16)  # webhook | stream | poll
    webhook_url: str | None = Field(default=None, max_length=2048)
    state: str = Field(max_length=16, index=True)  # active | paused | deleted
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())


class WatchEntryRow(SQLModel, table=True):
    """One address on a watchlist, by its match key; `chain` when the entry names one."""

    __tablename__ = "watch_entry"
    __table_args__ = (Index("ix_watch_entry_key", "match_chain", "address"),)

    subscription_id: str = Field(primary_key=True, foreign_key="subscription.id", max_length=64)
    match_chain: str = Field(primary_key=True, max_length=64)  # Address.key[0]: "evm" or chain
    address: str = Field(primary_key=True, max_length=256)
    chain: str | None = Field(default=None, max_length=64)


class AlertRow(SQLModel, table=True):
    """What one subscription was told about one report; `seq` is the stream's cursor.

    Written in the transaction that made the report visible (the outbox), with the body
    as sent: webhooks, the stream and polling all serve these bytes.
    """

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_partner_seq", "partner_id", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=64)  # deterministic: (kind, subscription, report)
    kind: str = Field(max_length=16)  # alert | revocation
    partner_id: str = Field(foreign_key="partner.id", max_length=64)  # the recipient
    subscription_id: str = Field(foreign_key="subscription.id", index=True, max_length=64)
    report_id: int = Field(foreign_key="report.id", index=True)
    flag_id: int = Field(foreign_key="flag.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))  # JSON, exactly as delivered
    created_at: datetime = Field(sa_column=_utc())


class DeliveryRow(SQLModel, table=True):
    """A webhook delivery of one alert: pending until a 2xx, dead after the horizon."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "state", "next_attempt_at"),)

    alert_id: str = Field(primary_key=True, foreign_key="alert.id", max_length=64)
    partner_id: str = Field(foreign_key="partner.id", index=True, max_length=64)
    subscription_id: str = Field(foreign_key="subscription.id", max_length=64)
    url: str = Field(max_length=2048)
    state: str = Field(max_length=16)  # pending | delivered | dead
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_utc())  # also the lease of a claimed attempt
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_at: datetime = Field(sa_column=_utc())
