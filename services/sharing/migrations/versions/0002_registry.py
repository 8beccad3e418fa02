"""Registry: partners, API clients, client keys, assertion jtis, audit log, outbox, leases.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_operator", sa.Boolean, nullable=False, server_default=sa.false()),
        _ts("created_at"),
        _ts("disabled_at", nullable=True),
    )
    op.create_table(
        "api_clients",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False, index=True
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scopes", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
    )
    op.create_table(
        "client_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column(
            "client_id", sa.String(64), sa.ForeignKey("api_clients.id"), nullable=False, index=True
        ),
        sa.Column("public_jwk", sa.String(512), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("not_before"),
        _ts("not_after"),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
    )
    op.create_table(
        "assertion_jtis",
        sa.Column("client_id", sa.String(128), primary_key=True),
        sa.Column("jti", sa.String(256), primary_key=True),
        _ts("expires_at"),
    )
    op.create_index("ix_assertion_jtis_expires_at", "assertion_jtis", ["expires_at"])
    op.create_table(
        "audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        _ts("expires_at"),
    )


def downgrade() -> None:
    for table in ("leases", "outbox", "audit_log", "assertion_jtis", "client_keys"):
        op.drop_table(table)
    op.drop_table("api_clients")
    op.drop_table("partners")
