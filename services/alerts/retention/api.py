"""The alerts' retention route: its periods and its sweep's last runs (operators only)."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Any

from fastapi import APIRouter, Depends

from libs.common.auth.fastapi import require_scopes
from libs.common.auth.scopes import Scope
from services.alerts.deps import RetentionDep
from services.alerts.retention.schemas import AlertsRetentionOut

router = APIRouter(tags=["retention"])


@router.get(
    "/v1/admin/retention",
    response_model=AlertsRetentionOut,
    dependencies=[Depends(require_scopes(Scope.ADMIN))],
    summary="How long closed alerts, delivery attempts and warnings are kept; the last sweeps.",
)
async def retention(sweeper: RetentionDep) -> dict[str, Any]:
    """Periods in days (null: kept for ever), the sweep's bounds and its last runs."""
    return await sweeper.show()
