"""Alembic environment of the sharing service: runs on the connection `migrate()` hands in."""

from libs.common.db import run_alembic_env

run_alembic_env()
