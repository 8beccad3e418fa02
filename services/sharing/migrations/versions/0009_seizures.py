"""Seizure response: the `seizures` table (what was cut off, why, what it took, its lifting).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seizures",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False, index=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("prior_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(128), nullable=True),
        sa.Column("lift_approval_id", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("seizures")
