"""The idempotency-key table as each service's migration creates it (the same in every one).

Frozen: the three services' migrations (intake 0006, sharing 0016, alerts 0013) run this code, so
a change to the table is a new migration in each service, never an edit here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TABLE = "idempotency_keys"


def create_table() -> None:
    """Create `idempotency_keys` (`libs.common.idempotency.IdempotencyBase`)."""
    op.create_table(
        TABLE,
        sa.Column("key_digest", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("replayable", sa.Boolean, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index(f"ix_{TABLE}_expires_at", TABLE, ["expires_at"])


def drop_table() -> None:
    """Drop `idempotency_keys`."""
    op.drop_index(f"ix_{TABLE}_expires_at", TABLE)
    op.drop_table(TABLE)
