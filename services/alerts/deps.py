"""Dependencies of the alerts routes: who the caller is, and the container's parts, typed.

Only this module reads `app.state.container`; until the lifespan has built it, 503.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.fastapi import require_any_scope, require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.clock import Clock
from libs.common.errors import Unavailable
from libs.common.idempotent_routes import idempotent
from services.alerts.alerts.links import AckLinks
from services.alerts.alerts.service import Alerts
from services.alerts.container import Container
from services.alerts.delivery.profiles.probe import Probe
from services.alerts.delivery.profiles.service import Profiles
from services.alerts.retention.service import RetentionSweeper
from services.alerts.rotas.service import Rotas
from services.alerts.watchlists.service import Watchlist

Manager = Annotated[Principal, Depends(require_scopes(Scope.WATCHLIST_MANAGE))]
Reader = Annotated[Principal, Depends(require_scopes(Scope.ALERTS_READ))]
Acker = Annotated[Principal, Depends(require_scopes(Scope.ALERTS_ACK))]
# The organisation's escalation: its lawyers see it, its partner administrator sets it.
OrgViewer = Annotated[
    Principal, Depends(require_any_scope(Scope.WATCHLIST_MANAGE, Scope.ESCALATION_MANAGE))
]
OrgManager = Annotated[Principal, Depends(require_scopes(Scope.ESCALATION_MANAGE))]
# Creates (watchlist entries, test alerts) that honour Idempotency-Key (`docs/api.md`).
IdempotentManager = Annotated[None, idempotent(Manager)]


async def container(request: Request) -> Container:
    """The process's container; 503 while the lifespan has not built it (yet)."""
    built = getattr(request.app.state, "container", None)
    if not isinstance(built, Container):
        raise Unavailable("the alerts service is starting")
    return built


ContainerDep = Annotated[Container, Depends(container)]


async def sessions(c: ContainerDep) -> async_sessionmaker[AsyncSession]:
    """The database sessions (for `libs.common.system`'s router)."""
    return c.runtime.sessions


async def _watchlist(c: ContainerDep) -> Watchlist:
    return c.watchlist


async def _profiles(c: ContainerDep) -> Profiles:
    return c.profiles


async def _rotas(c: ContainerDep) -> Rotas:
    return c.rotas


async def _probe(c: ContainerDep) -> Probe:
    return c.probe


async def _alerts(c: ContainerDep) -> Alerts:
    return c.alerts


async def _links(c: ContainerDep) -> AckLinks:
    return c.links


async def _clock(c: ContainerDep) -> Clock:
    return c.clock


async def _retention(c: ContainerDep) -> RetentionSweeper:
    return c.retention


WatchlistDep = Annotated[Watchlist, Depends(_watchlist)]
RetentionDep = Annotated[RetentionSweeper, Depends(_retention)]
ProfilesDep = Annotated[Profiles, Depends(_profiles)]
ProbeDep = Annotated[Probe, Depends(_probe)]
RotasDep = Annotated[Rotas, Depends(_rotas)]
AlertsDep = Annotated[Alerts, Depends(_alerts)]
LinksDep = Annotated[AckLinks, Depends(_links)]
ClockDep = Annotated[Clock, Depends(_clock)]
