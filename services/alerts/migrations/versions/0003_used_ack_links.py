"""Used ack links: a link acts once; its id is kept until the link expires.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "used_ack_links",
        sa.Column("link_id", sa.String(32), primary_key=True),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("used_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("used_ack_links")
