"""Retention: each partner's report periods, and the sweep's last runs.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_periods",
        sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), primary_key=True),
        sa.Column("tlp", sa.String(16), primary_key=True),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("set_at", TS, nullable=False),
        sa.Column("set_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "retention_runs",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_run_at", TS, nullable=False),
        sa.Column("last_pruned_at", TS, nullable=True),
        sa.Column("last_counts", sa.String(2000), nullable=False, server_default="{}"),
    )
    # The sweep looks for old reports and old reads by time.
    op.create_index("ix_vault_reports_received", "vault_reports", ["received_at"])
    op.create_index("ix_vault_reads_read_at", "vault_reads", ["read_at"])


def downgrade() -> None:
    op.drop_index("ix_vault_reads_read_at", "vault_reads")
    op.drop_index("ix_vault_reports_received", "vault_reports")
    op.drop_table("retention_runs")
    op.drop_table("retention_periods")
