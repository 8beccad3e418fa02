"""Vault: encrypted reports, field ciphertexts, wrapped data keys, policies, grants, reads, keys.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "vault_reports",
        sa.Column("report_id", sa.String(36), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("client_report_id", sa.String(128), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("incident_type", sa.String(32), nullable=False),
        sa.Column("legal_basis", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("facility_kind", sa.String(32), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        _ts("received_at"),
        _ts("stored_at"),
        sa.Column("updated_us", _BIGINT, nullable=False),
        sa.Column("sealed_kid", sa.String(32), nullable=False, index=True),
        sa.Column("data_key_id", sa.String(36), nullable=False),
        sa.Column("field_kek_version", sa.Integer, nullable=False),
        sa.Column("field_format", sa.Integer, nullable=False),
        _ts("erased_at", nullable=True),
        sa.Column("erased_by", sa.String(128), nullable=True),
        sa.UniqueConstraint("partner_id", "client_report_id", name="uq_vault_reports_client"),
    )
    op.create_index("ix_vault_reports_updated", "vault_reports", ["updated_us", "report_id"])
    op.create_table(
        "vault_fields",
        sa.Column(
            "report_id",
            sa.String(36),
            sa.ForeignKey("vault_reports.report_id"),
            primary_key=True,
        ),
        sa.Column("field", sa.String(32), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "vault_data_keys",
        sa.Column("data_key_id", sa.String(36), primary_key=True),
        sa.Column(
            "report_id",
            sa.String(36),
            sa.ForeignKey("vault_reports.report_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kek_version", sa.Integer, nullable=False, index=True),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        _ts("created_at"),
        _ts("rewrapped_at", nullable=True),
    )
    op.create_table(
        "vault_policies",
        sa.Column("partner_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "vault_report_grants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("report_id", sa.String(36), nullable=False, index=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("fields", sa.Text, nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "vault_reads",
        sa.Column("id", _BIGINT, primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.String(36), nullable=False, index=True),
        sa.Column("reader_partner", sa.String(64), nullable=False),
        sa.Column("reader_client", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("delivery_id", sa.String(36), nullable=True, unique=True),
        _ts("read_at"),
    )
    op.create_table(
        "vault_partner_hpke_keys",
        sa.Column("kid", sa.String(32), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("suite", sa.String(32), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(80), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(128), nullable=False),
        _ts("revoked_at", nullable=True),
    )


def downgrade() -> None:
    for table in (
        "vault_partner_hpke_keys",
        "vault_reads",
        "vault_report_grants",
        "vault_policies",
        "vault_data_keys",
        "vault_fields",
    ):
        op.drop_table(table)
    op.drop_index("ix_vault_reports_updated", "vault_reports")
    op.drop_table("vault_reports")
