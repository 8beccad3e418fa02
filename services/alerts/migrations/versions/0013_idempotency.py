"""Idempotency keys: the first answer of a create, replayed for a retry with the same key.

Revision ID: 0013
Revises: 0012
"""

from libs.common.idempotency_migration import create_table, drop_table

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table()


def downgrade() -> None:
    drop_table()
