"""What sharing's routes depend on: the administrator calling, and the container's use cases."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from libs.common.auth.fastapi import require_any_scope, require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.errors import Unauthenticated, Unavailable
from libs.common.idempotent_routes import idempotent
from services.sharing.access.bootstrap import Bootstrapper
from services.sharing.access.enrolment.service import Enrolments
from services.sharing.access.keys import ClientKeyAdmin
from services.sharing.access.service import RegistryAdmin
from services.sharing.access.tokens.keystore import SigningKeystore
from services.sharing.access.tokens.service import TokenIssuer
from services.sharing.approvals.actions import GatedActions
from services.sharing.approvals.service import Approvals
from services.sharing.audit.service import AuditLog
from services.sharing.container import Container
from services.sharing.identity.service import PrfEvaluator
from services.sharing.retention.service import RetentionAdmin
from services.sharing.seizure.service import SeizureAdmin
from services.sharing.vault.delivery.keystore import DeliverySigner
from services.sharing.vault.delivery.service import DeliveryKeys, SealedReads
from services.sharing.vault.erasure import ReportActions
from services.sharing.vault.keys.keystore import HpkeKeyStore
from services.sharing.vault.keys.service import VaultKeyAdmin
from services.sharing.vault.policy.service import PolicyAdmin, ReportGrants
from services.sharing.vault.releases.service import Releases
from services.sharing.vault.service import ReadService


def container_of(app: FastAPI) -> Container:
    """The app's container; 503 while the lifespan has not built it yet."""
    container = getattr(app.state, "container", None)
    if not isinstance(container, Container):
        raise Unavailable("sharing is starting")
    return container


async def _container(request: Request) -> Container:
    return container_of(request.app)


ContainerDep = Annotated[Container, Depends(_container)]


async def _registry(container: ContainerDep) -> RegistryAdmin:
    return container.registry


async def _client_keys(container: ContainerDep) -> ClientKeyAdmin:
    return container.client_keys


async def _enrolments(container: ContainerDep) -> Enrolments:
    return container.enrolments


async def _bootstrapper(container: ContainerDep) -> Bootstrapper:
    return container.bootstrapper


async def _token_issuer(container: ContainerDep) -> TokenIssuer:
    return container.token_issuer


async def _keystore(container: ContainerDep) -> SigningKeystore:
    return container.keystore


async def _audit(container: ContainerDep) -> AuditLog:
    return container.audit


async def _prf(container: ContainerDep) -> PrfEvaluator:
    return container.prf


async def _sealing_keys(container: ContainerDep) -> HpkeKeyStore:
    return container.hpke_keys


async def _reads(container: ContainerDep) -> ReadService:
    return container.reads


async def _actions(container: ContainerDep) -> ReportActions:
    return container.actions


async def _policies(container: ContainerDep) -> PolicyAdmin:
    return container.policies


async def _report_grants(container: ContainerDep) -> ReportGrants:
    return container.report_grants


async def _releases(container: ContainerDep) -> Releases:
    return container.releases


async def _delivery_keys(container: ContainerDep) -> DeliveryKeys:
    return container.delivery_keys


async def _sealed_reads(container: ContainerDep) -> SealedReads:
    return container.sealed_reads


async def _signer(container: ContainerDep) -> DeliverySigner:
    return container.signer


async def _vault_keys(container: ContainerDep) -> VaultKeyAdmin:
    return container.vault_keys


async def _seizures(container: ContainerDep) -> SeizureAdmin:
    return container.seizures


async def _approvals(container: ContainerDep) -> Approvals:
    return container.approvals


async def _gated(container: ContainerDep) -> GatedActions:
    return container.gated


async def _retention(container: ContainerDep) -> RetentionAdmin:
    return container.retention


Registry = Annotated[RegistryAdmin, Depends(_registry)]
ClientKeys = Annotated[ClientKeyAdmin, Depends(_client_keys)]
EnrolmentsDep = Annotated[Enrolments, Depends(_enrolments)]
Bootstrap = Annotated[Bootstrapper, Depends(_bootstrapper)]
Tokens = Annotated[TokenIssuer, Depends(_token_issuer)]
Keystore = Annotated[SigningKeystore, Depends(_keystore)]
Audit = Annotated[AuditLog, Depends(_audit)]
Prf = Annotated[PrfEvaluator, Depends(_prf)]
SealingKeyFile = Annotated[HpkeKeyStore, Depends(_sealing_keys)]
Reads = Annotated[ReadService, Depends(_reads)]
Actions = Annotated[ReportActions, Depends(_actions)]
Policies = Annotated[PolicyAdmin, Depends(_policies)]
Grants = Annotated[ReportGrants, Depends(_report_grants)]
ReleasesDep = Annotated[Releases, Depends(_releases)]
DeliveryKeysDep = Annotated[DeliveryKeys, Depends(_delivery_keys)]
Sealed = Annotated[SealedReads, Depends(_sealed_reads)]
Signer = Annotated[DeliverySigner, Depends(_signer)]
VaultKeys = Annotated[VaultKeyAdmin, Depends(_vault_keys)]
Seizures = Annotated[SeizureAdmin, Depends(_seizures)]
ApprovalsDep = Annotated[Approvals, Depends(_approvals)]
Gated = Annotated[GatedActions, Depends(_gated)]
Retention = Annotated[RetentionAdmin, Depends(_retention)]


async def admin_caller(
    principal: Annotated[Principal, Depends(require_scopes(Scope.ADMIN))], registry: Registry
) -> Principal:
    """An `admin` token whose client is still registered and active (checked on every call).

    Revocation already reaches the verifier through the event feed; this database check also
    stops a client that was removed from the registry without one, for the routes that change it.
    """
    if not await registry.is_active_client(principal.client_id):
        raise Unauthenticated()
    return principal


AdminCaller = Annotated[Principal, Depends(admin_caller)]


async def manager_caller(
    principal: Annotated[Principal, Depends(require_any_scope(Scope.ADMIN, Scope.CLIENTS_MANAGE))],
    registry: Registry,
) -> Principal:
    """The operator (`admin`) or a partner administrator (`clients:manage`), still active."""
    if not await registry.is_active_client(principal.client_id):
        raise Unauthenticated()
    return principal


# Routes on clients and keys: the operator manages every partner's, a partner administrator
# its own partner's (`access.domain.managed_partner`).
ManagerCaller = Annotated[Principal, Depends(manager_caller)]
# Creates that honour Idempotency-Key (`docs/api.md`).
IdempotentAdmin = Annotated[None, idempotent(AdminCaller)]
IdempotentManager = Annotated[None, idempotent(ManagerCaller)]
# Its answer holds a one-time secret: a retry learns the key was used, never a second copy.
IdempotentSecret = Annotated[None, idempotent(ManagerCaller, secret=True)]
