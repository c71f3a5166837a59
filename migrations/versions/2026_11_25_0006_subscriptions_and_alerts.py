"""subscriptions, watchlists, alerts and webhook deliveries (the outbox)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:35:33.761864
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import exchange.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("partner_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chains", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("min_corroboration", sa.Integer(), nullable=False),
        sa.Column("min_confidence", sa.Integer(), nullable=True),
        sa.Column("delivery", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("webhook_url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", exchange.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", exchange.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_subscription_state"), ["state"], unique=False)

    op.create_table(
        "watch_entry",
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("match_chain", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
        ),
        sa.PrimaryKeyConstraint("subscription_id", "match_chain", "address"),
    )
    with op.batch_alter_table("watch_entry", schema=None) as batch_op:
        batch_op.create_index("ix_watch_entry_key", ["match_chain", "address"], unique=False)

    op.create_table(
        "alert",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("partner_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", exchange.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["flag.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_flag_id"), ["flag_id"], unique=False)
        batch_op.create_index("ix_alert_partner_seq", ["partner_id", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_report_id"), ["report_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "delivery",
        sa.Column("alert_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("partner_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", exchange.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("delivered_at", exchange.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", exchange.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
        ),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_partner_id"), ["partner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_partner_id"))
        batch_op.drop_index("ix_delivery_due")

    op.drop_table("delivery")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_alert_report_id"))
        batch_op.drop_index("ix_alert_partner_seq")
        batch_op.drop_index(batch_op.f("ix_alert_flag_id"))

    op.drop_table("alert")
    with op.batch_alter_table("watch_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_entry_key")

    op.drop_table("watch_entry")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_state"))
        batch_op.drop_index(batch_op.f("ix_subscription_partner_id"))

    op.drop_table("subscription")
