"""drop ix_report_flag_id

`uq_report_claim` (flag_id, partner_id, category) already serves lookups by flag id as
its prefix; the extra index only made every report insert slower (SQLite's commit grew
from 39 to 85 ms per 1,000-report bundle as the table grew).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_flag_id")


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index("ix_report_flag_id", ["flag_id"], unique=False)
