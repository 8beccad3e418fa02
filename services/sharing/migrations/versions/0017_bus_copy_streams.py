"""Vault bus copies name their stream: `report.received` moved to a stream of its own.

The copies recorded so far sit on `LIFELINE_REPORTS`; sequences restart on the new stream, so
the key becomes (stream, sequence). The table is rebuilt through a scratch copy because
SQLite cannot change a primary key in place (its rows live about a second: it is small).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _recreate(*stream: sa.Column) -> None:
    """Drop the table, leaving its rows in `vault_bus_copies_scratch`, and create it anew."""
    op.drop_index("ix_vault_bus_copies_report_id", "vault_bus_copies")
    op.drop_table("vault_bus_copies")
    op.create_table(
        "vault_bus_copies",
        *stream,
        sa.Column("stream_seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("report_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_vault_bus_copies_report_id", "vault_bus_copies", ["report_id"])


def upgrade() -> None:
    op.execute(
        "CREATE TABLE vault_bus_copies_scratch AS "
        "SELECT stream_seq, report_id FROM vault_bus_copies"
    )
    _recreate(sa.Column("stream", sa.String(32), primary_key=True))
    op.execute(
        "INSERT INTO vault_bus_copies (stream, stream_seq, report_id) "
        "SELECT 'LIFELINE_REPORTS', stream_seq, report_id FROM vault_bus_copies_scratch"
    )
    op.drop_table("vault_bus_copies_scratch")


def downgrade() -> None:
    # Copies on the new stream cannot be told apart by sequence alone: only the old ones stay.
    op.execute(
        "CREATE TABLE vault_bus_copies_scratch AS SELECT stream_seq, report_id "
        "FROM vault_bus_copies WHERE stream = 'LIFELINE_REPORTS'"
    )
    _recreate()
    op.execute(
        "INSERT INTO vault_bus_copies (stream_seq, report_id) "
        "SELECT stream_seq, report_id FROM vault_bus_copies_scratch"
    )
    op.drop_table("vault_bus_copies_scratch")
