"""Alembic environment of the intake service: runs on the connection `migrate()` hands in."""

from libs.common.db import run_alembic_env
from services.intake.models import metadata

run_alembic_env(metadata)
