"""Traces: an outbox row keeps the trace its event was written in.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Nullable, no default: a plain ADD COLUMN on SQLite and PostgreSQL (no table rebuild).
TABLES = ("outbox",)


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("trace_context", sa.String(1024), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "trace_context")
