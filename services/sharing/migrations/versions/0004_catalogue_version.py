"""Vault reports record the field catalogue version they were stored under (existing rows: 1).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every report stored so far has exactly the fields of catalogue version 1.
    op.add_column(
        "vault_reports",
        sa.Column("catalogue_version", sa.Integer, nullable=False, server_default="1"),
    )


def downgrade() -> None:
    with op.batch_alter_table("vault_reports") as batch:
        batch.drop_column("catalogue_version")
