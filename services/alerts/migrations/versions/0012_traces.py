"""Traces: outbox rows and delivery jobs keep the trace that made them.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Nullable, no default: a plain ADD COLUMN on SQLite and PostgreSQL (no table rebuild).
TABLES = ("outbox", "deliveries")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("trace_context", sa.String(1024), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "trace_context")
