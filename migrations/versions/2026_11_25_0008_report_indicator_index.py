"""report: index on indicator_id

The TAXII flags collection serves an object by its id: a named report is found by the
indicator id its partner gave it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 16:54:38.381508
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_indicator_id"), ["indicator_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_indicator_id"))
