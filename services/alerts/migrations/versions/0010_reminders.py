"""Resolve reminders of acknowledged alerts; "not my client" suppressions of an entry.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("remind_at", TS, nullable=True))
        batch.add_column(
            sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0")
        )
        batch.create_index("ix_alerts_remind", ["status", "remind_at"])
    with op.batch_alter_table("alert_matches") as batch:
        batch.add_column(sa.Column("person", sa.String(64), nullable=True))
    op.create_table(
        "entry_suppressions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("suppressed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_suppressed_at", TS, nullable=True),
        sa.Column("lifted_at", TS, nullable=True),
        sa.Column("lifted_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_suppressions_entry", "entry_suppressions", ["entry_id", "person"])


def downgrade() -> None:
    op.drop_index("ix_suppressions_entry", "entry_suppressions")
    op.drop_table("entry_suppressions")
    with op.batch_alter_table("alert_matches") as batch:
        batch.drop_column("person")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_remind")
        for column in ("reminders_sent", "remind_at"):
            batch.drop_column(column)
