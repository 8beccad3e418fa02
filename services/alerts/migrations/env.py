"""Alembic environment of the alerts service: runs on the connection `migrate()` hands in."""

from libs.common.db import run_alembic_env
from services.alerts.models import metadata

run_alembic_env(metadata)
