"""Rotas: an organisation's weekly duty rotation; contacts of a rota member.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rotas",
        sa.Column("org_id", sa.String(128), primary_key=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("handover", sa.String(5), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("members", sa.Text, nullable=False),
        sa.Column("overrides", sa.Text, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    with op.batch_alter_table("contacts") as batch:
        # A duty contact with a member index belongs to the rota; without, to the static desk.
        batch.add_column(sa.Column("rota_member", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("rota_member")
    op.drop_table("rotas")
