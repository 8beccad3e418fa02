"""Dependencies of the admin routes: the administrator calling, and the use-case objects."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated

from fastapi import Depends, Request

from libs.common.auth.fastapi import require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.errors import Unauthenticated
from services.sharing.service_admin import AdminService
from services.sharing.service_keys import KeyService


async def admin_service(request: Request) -> AdminService:
    """The partners/clients/audit use cases of this app."""
    service: AdminService = request.app.state.admin
    return service


async def key_service(request: Request) -> KeyService:
    """The client-key use cases of this app."""
    service: KeyService = request.app.state.keys
    return service


async def admin_caller(
    principal: Annotated[Principal, Depends(require_scopes(Scope.ADMIN))],
    admin: Annotated[AdminService, Depends(admin_service)],
) -> Principal:
    """An `admin` token whose client is still registered and active (checked on every call).

    Revocation already reaches the verifier through the event feed; this database check also
    stops a client that was removed from the registry without one, for the routes that change it.
    """
    if not await admin.is_active_client(principal.client_id):
        raise Unauthenticated()
    return principal


AdminCaller = Annotated[Principal, Depends(admin_caller)]
Admin = Annotated[AdminService, Depends(admin_service)]
Keys = Annotated[KeyService, Depends(key_service)]
