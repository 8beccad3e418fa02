"""Release requests: a lawyer's organisation asks a report's submitter for an alert's details.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("submitter_id", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("released", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("grant_id", sa.String(36), nullable=True),
        sa.UniqueConstraint("report_id", "partner_id", name="uq_release_requests_report_partner"),
    )
    op.create_index("ix_release_requests_submitter", "release_requests", ["submitter_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_release_requests_submitter", table_name="release_requests")
    op.drop_table("release_requests")
