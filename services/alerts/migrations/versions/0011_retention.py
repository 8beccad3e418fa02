"""Retention: the sweep's last runs, and the indexes it looks for old rows by.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_runs",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_run_at", TS, nullable=False),
        sa.Column("last_pruned_at", TS, nullable=True),
        sa.Column("last_counts", sa.String(2000), nullable=False, server_default="{}"),
    )
    op.create_index("ix_alerts_closed", "alerts", ["status", "updated_at"])
    op.create_index("ix_delivery_attempts_finished", "delivery_attempts", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_finished", "delivery_attempts")
    op.drop_index("ix_alerts_closed", "alerts")
    op.drop_table("retention_runs")
