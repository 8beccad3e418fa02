"""Vault bus copies: the stream sequence of each stored report's sealed copy, until erased.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vault_bus_copies",
        sa.Column(
            "stream_seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("report_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_vault_bus_copies_report_id", "vault_bus_copies", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_vault_bus_copies_report_id", "vault_bus_copies")
    op.drop_table("vault_bus_copies")
