"""Enrolment codes, pending device keys with a device name, the partner's contact line.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("api_clients.id"), nullable=False),
        # SHA-256 of the code: a copy of the database enrols nothing.
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kid", sa.String(64), nullable=True),
    )
    op.create_index("ix_enrolments_client_id", "enrolments", ["client_id"])
    with op.batch_alter_table("client_keys") as batch:
        batch.add_column(sa.Column("device_name", sa.String(200), nullable=True))
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("lawyer_contact", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("lawyer_contact")
    with op.batch_alter_table("client_keys") as batch:
        batch.drop_column("device_name")
    op.drop_index("ix_enrolments_client_id", table_name="enrolments")
    op.drop_table("enrolments")
