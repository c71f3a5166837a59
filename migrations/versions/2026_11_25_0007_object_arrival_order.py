"""STIX objects: arrival order and date added, for TAXII

TAXII pages a collection by keyset, so each partner's objects get a sequence number in
commit order (assigned under the sharing log's lock) and the time they were added.
Existing objects are numbered by their submission's arrival, then id and version.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import exchange.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stix_object", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("added_at", exchange.store.types.UtcDateTime(timezone=True), nullable=True)
        )
    op.execute(
        """
        CREATE TEMPORARY TABLE object_order AS
        SELECT o.partner_id, o.object_id, o.version, s.received_at,
               ROW_NUMBER() OVER (
                   PARTITION BY o.partner_id ORDER BY s.received_at, o.object_id, o.version
               ) AS n
        FROM stix_object o JOIN submission s ON s.id = o.submission_id
        """
    )
    op.execute(
        """
        UPDATE stix_object SET seq = r.n, added_at = r.received_at
        FROM object_order r
        WHERE r.partner_id = stix_object.partner_id
          AND r.object_id = stix_object.object_id
          AND r.version = stix_object.version
        """
    )
    op.execute("DROP TABLE object_order")
    with op.batch_alter_table("stix_object", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column(
            "added_at",
            existing_type=exchange.store.types.UtcDateTime(timezone=True),
            nullable=False,
        )
        batch_op.create_index("ix_stix_object_partner_seq", ["partner_id", "seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("stix_object", schema=None) as batch_op:
        batch_op.drop_index("ix_stix_object_partner_seq")
        batch_op.drop_column("added_at")
        batch_op.drop_column("seq")
