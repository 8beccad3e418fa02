"""Outbox: SQLite never hands out an outbox `seq` twice (AUTOINCREMENT).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    # PostgreSQL's sequence never repeats a value; a SQLite rowid key repeats the highest one
    # once that row is deleted, and AUTOINCREMENT can only be set by rebuilding the table.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "outbox", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
