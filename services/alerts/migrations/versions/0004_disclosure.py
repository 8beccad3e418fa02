"""Disclosure: which report-derived fields an alert may show, release state, and an outbox.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Alerts made before this revision showed every detail: they keep doing so.
EVERY_DETAIL = "incident_type legal_basis country facility_kind occurred_at"


def upgrade() -> None:
    for table in ("alerts", "alert_matches"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("disclosed", sa.Text(), nullable=False, server_default=EVERY_DETAIL)
            )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("release", sa.String(16), nullable=True))
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("release")
    for table in ("alerts", "alert_matches"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("disclosed")
