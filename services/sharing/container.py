"""Sharing's composition root: every use case, keystore and worker, built once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.auth.wiring import ServiceAuth
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.kek import KekProvider
from libs.common.crypto.kek_file import LocalFileKekProvider
from libs.common.crypto.signing_file import SigningKeyFile
from libs.common.nats import ConsumerSpec
from libs.common.outbox import OutboxRelay
from libs.common.ratelimit import RateLimiter
from libs.common.reports.fields import CATALOGUE, Catalogue
from libs.common.runtime import Runtime
from libs.common.system import dead_letter_sink, ping_handler
from services.sharing.access.bootstrap import Bootstrapper, BootstrapSecret, prepare_secret
from services.sharing.access.changes import Changes, RevocationSink
from services.sharing.access.enrolment.service import Enrolments
from services.sharing.access.keys import ClientKeyAdmin
from services.sharing.access.service import RegistryAdmin
from services.sharing.access.tokens.keystore import SigningKeystore
from services.sharing.access.tokens.limits import TokenLimits
from services.sharing.access.tokens.maintenance import Maintenance
from services.sharing.access.tokens.service import TokenIssuer, confirm_registered
from services.sharing.approvals.actions import GatedActions
from services.sharing.approvals.service import Approvals
from services.sharing.audit.service import CHECKPOINT_KEY_FORMAT, AuditLog
from services.sharing.identity.keystore import PrfKeyStore
from services.sharing.identity.metrics import IdentityMetrics
from services.sharing.identity.quota import PrfQuota
from services.sharing.identity.service import PrfEvaluator
from services.sharing.models import DEAD_LETTERS, INBOX, OUTBOX
from services.sharing.retention.consumer import PrunedRecorder, consume_pruned
from services.sharing.retention.service import RetentionAdmin
from services.sharing.retention.sweep import RetentionSweeper
from services.sharing.seizure.service import SeizureAdmin
from services.sharing.settings import SharingSettings
from services.sharing.vault.consumer import ReportStore, consume_received, received_backlog
from services.sharing.vault.copies.service import BusJanitor
from services.sharing.vault.delivery.keystore import DeliverySigner
from services.sharing.vault.delivery.service import DeliveryKeys, SealedReads
from services.sharing.vault.erasure import ReportActions
from services.sharing.vault.keys.keystore import HpkeKeyStore
from services.sharing.vault.keys.service import VaultKeyAdmin
from services.sharing.vault.policy.service import PolicyAdmin, ReportGrants
from services.sharing.vault.releases.consumer import serve_releases
from services.sharing.vault.releases.service import Releases
from services.sharing.vault.service import ReadService


@dataclass(frozen=True)
class Container:
    """Everything sharing's routes, consumers and background tasks use, built once per process."""

    settings: SharingSettings
    runtime: Runtime
    # Every use case reads time from here (tests pass a FakeClock to `create_app`).
    clock: Clock
    # The report fields this process stores, decrypts and lets policies grant.
    catalogue: Catalogue
    # The one relay of sharing's outbox: whoever commits an event wakes it.
    relay: OutboxRelay
    # Erases stored reports' sealed copies from the bus (woken by an erasure).
    janitor: BusJanitor
    # access: the registry, client keys, the token endpoint and its signing keys
    keystore: SigningKeystore
    token_issuer: TokenIssuer
    registry: RegistryAdmin
    client_keys: ClientKeyAdmin
    # one-time codes with which a device registers its own key, pending an admin's confirmation
    enrolments: Enrolments
    bootstrapper: Bootstrapper
    maintenance: Maintenance
    # audit: the hash-chained log every context appends to, as the admin API reads it and
    # witnesses fetch its signed checkpoints
    audit: AuditLog
    # identity: the OPRF key, its durable per-client and per-partner quota, the evaluation
    prf_keys: PrfKeyStore
    prf_quota: PrfQuota
    prf: PrfEvaluator
    # the vault: keys, the received-report store, reads, grants, erasure, policies, delivery
    kek: KekProvider
    hpke_keys: HpkeKeyStore
    signer: DeliverySigner
    store: ReportStore
    reads: ReadService
    actions: ReportActions
    report_grants: ReportGrants
    policies: PolicyAdmin
    # what lawyers' organisations may see of a report for their alerts, and requests for more
    releases: Releases
    delivery_keys: DeliveryKeys
    sealed_reads: SealedReads
    vault_keys: VaultKeyAdmin
    # seizure response: cut a client or a partner off at once
    seizures: SeizureAdmin
    # two-person approval: pending requests, decisions, and the gated actions they run
    approvals: Approvals
    gated: GatedActions
    # retention: partners' periods, and the sweep that erases reports past them
    retention: RetentionAdmin
    sweeper: RetentionSweeper


def kek_provider(settings: SharingSettings) -> KekProvider:
    """The KEK provider: the local 0600 file (a KMS/Vault-transit adapter would plug in here)."""
    return LocalFileKekProvider(settings.resolved_kek_file())


async def build_container(
    settings: SharingSettings,
    runtime: Runtime,
    *,
    on_revoked: RevocationSink,
    clock: Clock = SYSTEM_CLOCK,
    catalogue: Catalogue = CATALOGUE,
) -> Container:
    """Open the key files, offer a bootstrap secret if needed, and build every use case."""
    keystore = SigningKeystore(
        settings.signing_key_file(),
        rotate_every=settings.signing_key_rotate_days * 86400,
        clock=clock,
    )
    relay = OutboxRelay(runtime, OUTBOX, clock=clock)
    janitor = BusJanitor(runtime, interval=settings.bus_janitor_interval_s)
    changes = Changes(runtime.sessions, on_revoked=on_revoked, wake_relay=relay.wake, clock=clock)
    secret = BootstrapSecret(settings.bootstrap_secret_file())
    await prepare_secret(runtime.sessions, secret, changes)
    registry = RegistryAdmin(changes)
    hpke_keys = HpkeKeyStore.open(settings.resolved_hpke_key_file(), clock=clock)
    prf_keys = PrfKeyStore.open(settings.prf_key_file(), clock=clock)
    prf_quota = PrfQuota(runtime.sessions, settings.prf_quota(), wake_relay=relay.wake, clock=clock)
    prf = PrfEvaluator(
        runtime.sessions,
        prf_keys,
        prf_quota,
        clock=clock,
        metrics=IdentityMetrics.on(runtime.metrics),
    )
    prf.warn_if_outdated()
    kek = kek_provider(settings)
    signer = DeliverySigner.open(settings.delivery_signing_key_file(), clock=clock)
    reads = ReadService(
        runtime.sessions, kek, catalogue=catalogue, clock=clock, threads=runtime.threads
    )
    delivery_keys = DeliveryKeys(runtime.sessions, clock=clock)

    async def is_admin(principal: Principal) -> bool:
        if Scope.ADMIN not in principal.scopes:
            return False
        return bool(await registry.is_active_client(principal.client_id))

    approvals = Approvals(
        changes,
        required=settings.approval_required(),
        ttl_s=settings.approval_ttl_s,
        is_active=registry.is_active_client,
    )
    seizures = SeizureAdmin(changes, cancel_requests=approvals.cancel_for_seizure)
    client_keys = ClientKeyAdmin(changes)
    enrolments = Enrolments(
        changes,
        public_url=settings.console_url or settings.resolved_public_url(),
        ttl_s=settings.enrolment_ttl_s,
        confirm_within_s=settings.enrolment_confirm_within_s,
        source_limits=RateLimiter(
            settings.enrol_source_burst, settings.enrol_source_per_second, name="source"
        ),
        clock=clock,
    )
    policies = PolicyAdmin(runtime.sessions, catalogue=catalogue, clock=clock)
    actions = ReportActions(
        runtime.sessions,
        runtime.engine,
        is_admin=is_admin,
        wake_relay=relay.wake,
        wake_janitor=janitor.wake,
        catalogue=catalogue,
        clock=clock,
    )
    limits = settings.retention_limits()
    retention = RetentionAdmin(runtime.sessions, limits, clock=clock)
    store = ReportStore(
        runtime.sessions, kek, hpke_keys, relay=relay, catalogue=catalogue, clock=clock
    )

    return Container(
        settings=settings,
        runtime=runtime,
        clock=clock,
        catalogue=catalogue,
        relay=relay,
        janitor=janitor,
        keystore=keystore,
        token_issuer=TokenIssuer(
            runtime.sessions,
            keystore,
            issuer=settings.token_issuer,
            token_endpoint=settings.token_endpoint(),
            lifetime=settings.access_token_lifetime,
            limits=TokenLimits(
                source=RateLimiter(
                    settings.token_source_burst, settings.token_source_per_second, name="source"
                ),
                client=RateLimiter(
                    settings.token_client_burst, settings.token_client_per_second, name="client"
                ),
                trusted_proxies=settings.trusted_proxies,
                clock=clock,
            ),
            clock=clock,
        ),
        registry=registry,
        client_keys=client_keys,
        enrolments=enrolments,
        bootstrapper=Bootstrapper(changes, secret),
        maintenance=Maintenance(
            runtime.sessions, keystore, interval=settings.maintenance_interval_s, clock=clock
        ),
        audit=AuditLog(
            runtime.sessions,
            SigningKeyFile(
                settings.audit_signing_key_file(), format=CHECKPOINT_KEY_FORMAT, clock=clock
            ),
            origin=settings.token_issuer,
            clock=clock,
        ),
        prf_keys=prf_keys,
        prf_quota=prf_quota,
        prf=prf,
        kek=kek,
        hpke_keys=hpke_keys,
        signer=signer,
        store=store,
        reads=reads,
        actions=actions,
        report_grants=ReportGrants(runtime.sessions, actions, catalogue=catalogue, clock=clock),
        policies=policies,
        releases=Releases(
            runtime.threads, actions, announcer=store.announcer, catalogue=catalogue, clock=clock
        ),
        delivery_keys=delivery_keys,
        sealed_reads=SealedReads(reads, delivery_keys, signer),
        vault_keys=VaultKeyAdmin(
            runtime.sessions,
            kek,
            hpke_keys,
            pending=received_backlog(runtime),
            sealing_retire_grace_s=settings.sealing_key_retire_grace_s,
            clock=clock,
        ),
        seizures=seizures,
        approvals=approvals,
        gated=GatedActions(
            approvals,
            registry=registry,
            client_keys=client_keys,
            enrolments=enrolments,
            policies=policies,
            reports=actions,
            seizures=seizures,
            retention=retention,
        ),
        retention=retention,
        sweeper=RetentionSweeper(runtime.sessions, actions, limits, clock=clock),
    )


def start(container: Container, auth: ServiceAuth) -> None:
    """Start the relay, the upkeep, the token checks' feeds and (once NATS is up) the consumers."""
    runtime = container.runtime
    runtime.spawn(container.relay.run(), "outbox-relay")
    runtime.spawn(container.janitor.run(), "bus-janitor")
    runtime.spawn(container.store.announce(runtime.stop), "stored-announcer")
    runtime.spawn(container.maintenance.run(runtime.stop), "maintenance")
    runtime.spawn(container.sweeper.run(runtime.stop), "retention")
    # Sharing is the registry: without a current feed it asks its database, not the bus.
    auth.fallback = functools.partial(confirm_registered, runtime.sessions)
    auth.start(runtime)
    runtime.start_nats(functools.partial(_wire_nats, container=container))


async def _wire_nats(runtime: Runtime, container: Container) -> None:
    await runtime.consume(
        ConsumerSpec.granted("sharing", "sharing-system"),
        ping_handler(runtime, INBOX),
        dead_letter_sink(runtime, DEAD_LETTERS),
    )
    await consume_received(runtime, container.store)
    await serve_releases(runtime, container.releases)
    await consume_pruned(runtime, PrunedRecorder(runtime.sessions, clock=container.clock))
