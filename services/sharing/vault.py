"""The vault inside sharing: its keys, use cases, consumer, outbox relay and routers, wired once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request

from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.crypto.kek import KekProvider
from libs.common.crypto.kek_file import LocalFileKekProvider
from libs.common.errors import Unavailable
from libs.common.events import REPORT_RECEIVED, stream_for
from libs.common.nats import ConsumerSpec
from libs.common.outbox import OutboxRelay
from libs.common.runtime import Runtime
from libs.common.system import dead_letter_sink
from services.sharing.delivery import DeliveryKeys, DeliverySigner
from services.sharing.keystore_hpke import HpkeKeyStore
from services.sharing.models import OUTBOX, DeadLetter
from services.sharing.sealing_keys import SealingKeys
from services.sharing.service_policies import PolicyAdmin
from services.sharing.service_reads import ReadService
from services.sharing.service_reports import ReportActions
from services.sharing.service_vault_keys import VaultKeyAdmin
from services.sharing.settings import SharingSettings
from services.sharing.worker import ReportStore

log = logging.getLogger(__name__)

DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]
CONSUMER = ConsumerSpec(durable="sharing-vault", filter_subject=REPORT_RECEIVED)


@dataclass
class Vault:
    """Everything the vault's routes and consumer use, built once per process."""

    provider: KekProvider
    sealing: SealingKeys
    signer: DeliverySigner
    relay: OutboxRelay
    store: ReportStore
    reads: ReadService
    actions: ReportActions
    policies: PolicyAdmin
    delivery_keys: DeliveryKeys
    keys: VaultKeyAdmin


def kek_provider(settings: SharingSettings) -> KekProvider:
    """The KEK provider: the local 0600 file (a KMS/Vault-transit adapter would plug in here)."""
    return LocalFileKekProvider(settings.resolved_kek_file())


def open_vault(app: FastAPI, runtime: Runtime, settings: SharingSettings) -> Vault:
    """Build the vault on a running sharing (after the access wiring and the sealing keys)."""
    provider = kek_provider(settings)
    hpke_store: HpkeKeyStore = app.state.hpke_keys
    sealing = SealingKeys(hpke_store)
    # Our own relay on sharing's outbox: SKIP LOCKED lets it run beside the access code's one,
    # and we can wake it right after a report is stored or erased.
    relay = OutboxRelay(runtime, OUTBOX)

    async def is_admin(principal: Principal) -> bool:
        if Scope.ADMIN not in principal.scopes:
            return False
        return bool(await app.state.admin.is_active_client(principal.client_id))

    async def pending() -> int | None:
        if runtime.js is None:
            return None
        try:
            info = await runtime.js.consumer_info(
                stream_for(REPORT_RECEIVED).name, CONSUMER.durable
            )
        except Exception as exc:
            log.warning("consumer info unavailable", extra={"reason": type(exc).__name__})
            return None
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    vault = Vault(
        provider=provider,
        sealing=sealing,
        signer=DeliverySigner.open(settings.delivery_signing_key_file()),
        relay=relay,
        store=ReportStore(runtime.sessions, provider, sealing, on_stored=relay.wake),
        reads=ReadService(runtime.sessions, provider),
        actions=ReportActions(
            runtime.sessions, runtime.engine, is_admin=is_admin, wake_relay=relay.wake
        ),
        policies=PolicyAdmin(runtime.sessions),
        delivery_keys=DeliveryKeys(runtime.sessions),
        keys=VaultKeyAdmin(
            runtime.sessions,
            provider,
            sealing,
            pending=pending,
            sealing_retire_grace_s=settings.sealing_key_retire_grace_s,
        ),
    )
    app.state.vault = vault
    runtime.spawn(relay.run(), "vault-outbox-relay")
    runtime.spawn(_follow_sealing_keys(sealing, runtime.stop), "vault-sealing-keys")
    return vault


async def wire_vault(runtime: Runtime, vault: Vault) -> None:
    """The durable consumer of received reports (called from sharing's NATS set-up)."""
    await runtime.consume(
        CONSUMER,
        vault.store.handle,
        dead_letter_sink(runtime, DEAD_LETTERS),
        batch_handler=vault.store.handle_batch,
    )


async def _follow_sealing_keys(sealing: SealingKeys, stop: asyncio.Event) -> None:
    # Another replica or the CLI may rotate the sealing keys; the public well-known route
    # serves this process's copy, so it must not lag far behind the file.
    while not stop.is_set():
        try:
            sealing.refresh()
        except Exception as exc:
            log.warning("sealing keys not reloaded", extra={"reason": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5.0)


async def vault_of(request: Request) -> Vault:
    """The vault of this app (503 while it is starting)."""
    vault = getattr(request.app.state, "vault", None)
    if not isinstance(vault, Vault):
        raise Unavailable("the vault is starting")
    return vault


def vault_routers() -> list[APIRouter]:
    """Reads, grants, erasure, delivery keys, policies and key administration."""
    from services.sharing import api_delivery, api_policies, api_reports, api_vault_admin

    return [api_reports.router, api_delivery.router, api_policies.router, api_vault_admin.router]
