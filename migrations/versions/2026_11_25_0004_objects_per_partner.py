"""STIX objects and bundle ids per partner

Whether another partner already sent an object (or a bundle id) must not show in a
submission's answer: that would tell a partner someone flagged an address it may not see.
Object versions are now keyed by (partner, id, version) and bundle ids are unique per
partner. Existing rows keep their submitter, taken from their submission.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _objects_table(name: str, *, per_partner: bool) -> None:
    columns = [
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("submission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
    ]
    if per_partner:
        columns += [
            sa.Column("partner_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
            sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
            sa.PrimaryKeyConstraint("partner_id", "object_id", "version"),
        ]
    else:
        columns.append(sa.PrimaryKeyConstraint("object_id", "version"))
    op.create_table(name, *columns)


def _swap_unique(*, drop: str, create: tuple[str, list[str]]) -> None:
    """Replace a unique constraint on `submission`. 0001 left its constraint unnamed:
    PostgreSQL calls it submission_bundle_id_key, and the naming convention gives SQLite's
    the same name for the batch copy."""
    name, columns = create
    convention = {"uq": "%(table_name)s_%(column_0_name)s_key"}
    with op.batch_alter_table("submission", naming_convention=convention) as batch_op:
        batch_op.drop_constraint(drop, type_="unique")
        batch_op.create_unique_constraint(name, columns)


def upgrade() -> None:
    _objects_table("stix_object_new", per_partner=True)
    op.execute(
        "INSERT INTO stix_object_new"
        " (partner_id, object_id, version, type, fingerprint, submission_id, body)"
        " SELECT s.partner_id, o.object_id, o.version, o.type, o.fingerprint,"
        " o.submission_id, o.body"
        " FROM stix_object o JOIN submission s ON s.id = o.submission_id"
    )
    op.drop_index("ix_stix_object_submission_id", table_name="stix_object")
    op.drop_table("stix_object")
    op.rename_table("stix_object_new", "stix_object")
    op.create_index("ix_stix_object_submission_id", "stix_object", ["submission_id"])
    _swap_unique(
        drop="submission_bundle_id_key",
        create=("uq_submission_partner_bundle", ["partner_id", "bundle_id"]),
    )


def downgrade() -> None:
    _swap_unique(
        drop="uq_submission_partner_bundle",
        create=("submission_bundle_id_key", ["bundle_id"]),
    )
    _objects_table("stix_object_old", per_partner=False)
    op.execute(
        "INSERT INTO stix_object_old"
        " (object_id, version, type, fingerprint, submission_id, body)"
        " SELECT object_id, version, MIN(type), MIN(fingerprint), MIN(submission_id), MIN(body)"
        " FROM stix_object GROUP BY object_id, version"
    )
    op.drop_index("ix_stix_object_submission_id", table_name="stix_object")
    op.drop_table("stix_object")
    op.rename_table("stix_object_old", "stix_object")
    op.create_index("ix_stix_object_submission_id", "stix_object", ["submission_id"])
