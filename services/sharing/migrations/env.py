"""Alembic environment of the sharing service: runs on the connection `migrate()` hands in."""

from libs.common.db import run_alembic_env
from services.sharing.models import metadata

run_alembic_env(metadata)
