"""Lawyers, contacts, organisations, watchlists with their token index, alerts, deliveries.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lawyers",
        sa.Column("client_id", sa.String(128), primary_key=True),
        sa.Column("org_id", sa.String(128), nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "organisations",
        sa.Column("org_id", sa.String(128), primary_key=True),
        sa.Column("escalate_after_min", sa.Integer, nullable=False),
        sa.Column("duty_after_min", sa.Integer, nullable=False),
        sa.Column("repeat_every_min", sa.Integer, nullable=False),
        sa.Column("max_repeats", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.String(128), nullable=False),
        sa.Column("lawyer_id", sa.String(128), nullable=True, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(2048), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("secret", sa.LargeBinary, nullable=True),
        sa.Column("pgp_key", sa.Text, nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("disabled_at", TS, nullable=True),
        sa.Column("disabled_reason", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_contacts_org_role", "contacts", ["org_id", "role"])
    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("lawyer_id", sa.String(128), nullable=False, index=True),
        sa.Column("org_id", sa.String(128), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("incident_types", sa.String(512), nullable=False),
        sa.Column("legal_bases", sa.String(512), nullable=False),
        sa.Column("countries", sa.String(1024), nullable=False),
        sa.Column("token_count", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("removed_at", TS, nullable=True),
    )
    op.create_index(
        "uq_entries_lawyer_label_live",
        "watchlist_entries",
        ["lawyer_id", "label"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "entry_tokens",
        sa.Column("entry_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
    )
    op.create_index("ix_entry_tokens_lookup", "entry_tokens", ["value", "version"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("lawyer_id", sa.String(128), nullable=False),
        sa.Column("org_id", sa.String(128), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("agreed", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("incident_type", sa.String(32), nullable=False),
        sa.Column("legal_basis", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("facility_kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("report_count", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("acked_at", TS, nullable=True),
        sa.Column("acked_by", sa.String(200), nullable=True),
        sa.Column("ack_via", sa.String(16), nullable=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("next_step_at", TS, nullable=True),
        sa.Column("withdrawn_at", TS, nullable=True),
    )
    op.create_index("ix_alerts_lawyer_created", "alerts", ["lawyer_id", "created_at"])
    op.create_index("ix_alerts_due", "alerts", ["status", "next_step_at"])
    op.create_index("ix_alerts_group", "alerts", ["entry_id", "incident_type", "country"])
    op.create_table(
        "alert_matches",
        sa.Column("report_id", sa.String(64), primary_key=True),
        sa.Column("entry_id", sa.String(36), primary_key=True),
        sa.Column("alert_id", sa.String(36), nullable=False, index=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("agreed", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("incident_type", sa.String(32), nullable=False),
        sa.Column("legal_basis", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("facility_kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "erased_reports",
        sa.Column("report_id", sa.String(64), primary_key=True),
        sa.Column("erased_at", TS, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("alert_id", sa.String(36), nullable=False, index=True),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("in_flight_until", TS, nullable=True),
        sa.Column("last_error", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("delivery_id", sa.String(36), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer, nullable=True),
        sa.Column("error", sa.String(64), nullable=True),
        sa.Column("retry_after_s", sa.Float, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "delivery_attempts",
        "deliveries",
        "erased_reports",
        "alert_matches",
        "alerts",
        "entry_tokens",
        "watchlist_entries",
        "contacts",
        "organisations",
        "lawyers",
    ):
        op.drop_table(table)
