"""Alembic environment of the alerts service: runs on the connection `migrate()` hands in."""

from libs.common.db import run_alembic_env
from services.alerts.alerts import models as alerts_models
from services.alerts.delivery import models as delivery_models
from services.alerts.delivery.health import models as health_models
from services.alerts.delivery.profiles import models as profiles_models
from services.alerts.followups import models as followups_models
from services.alerts.models import metadata
from services.alerts.rotas import models as rotas_models
from services.alerts.watchlists import models as watchlists_models

# Each context keeps its own tables; importing them puts them all in the one metadata.
_CONTEXTS = (
    alerts_models,
    delivery_models,
    health_models,
    followups_models,
    profiles_models,
    rotas_models,
    watchlists_models,
)

run_alembic_env(metadata)
