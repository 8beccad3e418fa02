"""Dependencies of the intake routes: who the caller is, and the container's parts, typed.

Only this module reads `app.state.container`; until the lifespan has built it, 503.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated

from fastapi import Depends, Request

from libs.common.auth.fastapi import require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.errors import Unavailable
from libs.common.idempotent_routes import idempotent
from services.intake.container import Container
from services.intake.service import Intake

Submitter = Annotated[Principal, Depends(require_scopes(Scope.REPORTS_SUBMIT))]
Admin = Annotated[Principal, Depends(require_scopes(Scope.ADMIN))]
# A submission honours Idempotency-Key, as well as its own `client_report_id`.
IdempotentSubmit = Annotated[None, idempotent(Submitter)]


async def container(request: Request) -> Container:
    """The process's container; 503 while the lifespan has not built it (yet)."""
    built = getattr(request.app.state, "container", None)
    if not isinstance(built, Container):
        raise Unavailable("the intake service is starting")
    return built


ContainerDep = Annotated[Container, Depends(container)]


async def _intake(c: ContainerDep) -> Intake:
    return c.intake


IntakeDep = Annotated[Intake, Depends(_intake)]
