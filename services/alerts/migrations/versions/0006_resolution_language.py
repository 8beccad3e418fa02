"""Resolution of an alert (outcome, encrypted note), a lawyer's language, test-alert pacing.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("resolution", sa.String(32), nullable=True))
        # AES-GCM under the service's secrets key: the note may name people.
        batch.add_column(sa.Column("resolution_note", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("resolved_at", TS, nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(200), nullable=True))
    with op.batch_alter_table("lawyers") as batch:
        # Lawyers who saved a profile before languages existed read English, as they did.
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("tested_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("tested_at")
    with op.batch_alter_table("lawyers") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("alerts") as batch:
        for column in ("resolved_by", "resolved_at", "resolution_note", "resolution"):
            batch.drop_column(column)
