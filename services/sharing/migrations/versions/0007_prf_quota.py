"""Durable OPRF quotas: elements evaluated per client and per partner, per hour and per day.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "prf_usage",
        sa.Column("scope", sa.String(8), primary_key=True),
        sa.Column("subject", sa.String(128), primary_key=True),
        sa.Column("span", sa.String(8), primary_key=True),
        sa.Column("window_start", big, primary_key=True, autoincrement=False),
        sa.Column("used", big, nullable=False),
        sa.Column("alarmed", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prf_usage")
