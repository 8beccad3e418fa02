"""Follow-ups: the chain of a follow-up, each alert's updates, re-opened escalation.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("report_id", sa.String(64), primary_key=True),
        sa.Column("original_id", sa.String(64), nullable=False, index=True),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_table(
        "alert_updates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(36), nullable=False, index=True),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("shown", sa.Boolean, nullable=False),
        sa.Column("worse", sa.Boolean, nullable=False),
        sa.Column("reopened", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("alert_id", "report_id"),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("case_status", sa.String(32), nullable=True))
        batch.add_column(sa.Column("reopened_at", TS, nullable=True))
        batch.add_column(sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        for column in ("reopen_count", "reopened_at", "case_status"):
            batch.drop_column(column)
    op.drop_table("alert_updates")
    op.drop_table("follow_ups")
