"""Follow-ups: a stored report may name the earlier report of its case.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vault_reports") as batch:
        batch.add_column(sa.Column("follows", sa.String(64), nullable=True))
        batch.create_index("ix_vault_reports_follows", ["follows"])


def downgrade() -> None:
    with op.batch_alter_table("vault_reports") as batch:
        batch.drop_index("ix_vault_reports_follows")
        batch.drop_column("follows")
