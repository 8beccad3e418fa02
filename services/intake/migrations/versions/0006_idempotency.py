"""Idempotency keys: the first answer of a create, replayed for a retry with the same key.

Revision ID: 0006
Revises: 0005
"""

from libs.common.idempotency_migration import create_table, drop_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table()


def downgrade() -> None:
    drop_table()
