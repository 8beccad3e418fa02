"""Contact health: each contact's delivery record and key expiry, and warning episodes.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
_COLUMNS = (
    "warned_problem",
    "key_expires_at",
    "consecutive_failures",
    "last_failure",
    "last_failure_at",
    "last_success_at",
)


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("last_success_at", TS, nullable=True))
        batch.add_column(sa.Column("last_failure_at", TS, nullable=True))
        batch.add_column(sa.Column("last_failure", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("key_expires_at", TS, nullable=True))
        batch.add_column(sa.Column("warned_problem", sa.String(16), nullable=True))
    op.create_table(
        "contact_warnings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("lawyer_id", sa.String(128), nullable=False, index=True),
        sa.Column("org_id", sa.String(128), nullable=False),
        sa.Column("contact_id", sa.String(36), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("problem", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("contact_warnings")
    with op.batch_alter_table("contacts") as batch:
        for column in _COLUMNS:
            batch.drop_column(column)
