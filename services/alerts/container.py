"""The alerts service's composition root: every part built once from settings and the runtime.

`create_app` builds the container in its lifespan and keeps it on `app.state.container`; routes
reach its parts only through `deps.py`. Nothing runs until `start` and `wire_consumers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.clock import Clock
from libs.common.inbox import without_sealed_report
from libs.common.nats import ConsumerSpec
from libs.common.outbox import OutboxRelay
from libs.common.publisher import Publisher
from libs.common.runtime import Runtime
from libs.common.secretkey import load_or_create_secret_key
from libs.common.system import dead_letter_sink, ping_handler
from services.alerts.alerts.consumer import Eraser, erased_handler
from services.alerts.alerts.escalation import EscalationScheduler
from services.alerts.alerts.link_keys import LinkKeys
from services.alerts.alerts.links import AckLinks
from services.alerts.alerts.release import Releaser, released_handler
from services.alerts.alerts.reminders import ReminderScheduler
from services.alerts.alerts.service import Alerts
from services.alerts.delivery import channels
from services.alerts.delivery.channels import Channels
from services.alerts.delivery.channels.email import EmailChannel
from services.alerts.delivery.config import DeliveryConfig
from services.alerts.delivery.health.monitor import HealthMonitor
from services.alerts.delivery.operators import OperatorNotices, alarm_handler
from services.alerts.delivery.profiles.probe import Probe
from services.alerts.delivery.profiles.revocations import Suspender, revoked_handler
from services.alerts.delivery.profiles.service import Profiles
from services.alerts.delivery.rows import Claim
from services.alerts.delivery.secrets import SecretBox
from services.alerts.delivery.worker import DeliveryWorker
from services.alerts.followups.service import FollowUps
from services.alerts.matching.consumer import received_batch_handler, received_handler
from services.alerts.matching.disclosure import Disclosure
from services.alerts.matching.releases import forget_in
from services.alerts.matching.service import Matcher
from services.alerts.metrics import AlertsMetrics
from services.alerts.models import DEAD_LETTERS, INBOX, OUTBOX
from services.alerts.retention.service import RetentionSweeper
from services.alerts.rotas.service import Rotas
from services.alerts.settings import AlertsSettings
from services.alerts.watchlists.service import Watchlist

IN_FLIGHT_MARGIN_S = 5.0  # on top of the slowest channel's timeout


@dataclass
class Container:
    """What the routes, the consumers and the background tasks of one process use."""

    runtime: Runtime
    clock: Clock
    channels: Channels
    watchlist: Watchlist
    profiles: Profiles
    rotas: Rotas
    probe: Probe
    alerts: Alerts
    links: AckLinks
    matcher: Matcher
    eraser: Eraser
    releaser: Releaser
    operators: OperatorNotices
    suspender: Suspender
    # Relays release requests to sharing (written with the alert that asks).
    relay: OutboxRelay
    delivery: DeliveryWorker
    scheduler: EscalationScheduler
    health: HealthMonitor
    # Prunes closed alerts, old attempts and warnings after their periods.
    retention: RetentionSweeper

    async def aclose(self) -> None:
        """Close what the channels hold (the outbound HTTP client)."""
        await self.channels.aclose()


def in_flight_s(sending: Channels) -> float:
    """Longest one send can take (the slowest registered channel's timeout, and a margin)."""
    return sending.longest_send_s() + IN_FLIGHT_MARGIN_S


def build_container(settings: AlertsSettings, runtime: Runtime, clock: Clock) -> Container:
    """Wire the parts, every one on `clock`; nothing runs until `start`."""
    # Versioned key files (libs.common.secretkey), shared by every replica.
    box = SecretBox(load_or_create_secret_key(settings.resolved_secrets_key_file()))
    link_keys = LinkKeys(
        settings.resolved_ack_link_key_file(),
        rotate_s=settings.ack_link_key_rotate_s,
        now=clock.time(),
    )
    links = AckLinks(link_keys, settings.ack_link_ttl_s)
    relay = OutboxRelay(runtime, OUTBOX, clock=clock)
    sending = channels.build(settings)
    in_flight = in_flight_s(sending)
    metrics = AlertsMetrics(runtime.metrics)
    delivery = DeliveryWorker(
        runtime.sessions,
        DeliveryConfig(
            schedule=settings.retry_schedule(),
            jitter=settings.retry_jitter,
            max_attempts=settings.max_attempts,
            lease_s=settings.delivery_lease_s,
            poll_s=settings.delivery_poll_s,
            concurrency=settings.delivery_concurrency,
            in_flight_s=in_flight,
            public_url=settings.resolved_public_url(),
            report_link=settings.report_link,
            alert_link=settings.alert_link,
            console=bool(settings.console_url),
            health=settings.health_rules(),
        ),
        channels=sending,
        box=box,
        links=links,
        clock=clock,
        metrics=metrics,
        in_thread=runtime.threads.run,
    )
    disclosure = Disclosure(runtime, settings.disclosure_timeout_s)
    profiles = Profiles(runtime.sessions, box, sending, clock, settings.health_rules())
    return Container(
        runtime=runtime,
        clock=clock,
        channels=sending,
        watchlist=Watchlist(
            runtime.sessions,
            clock,
            max_per_lawyer=settings.watchlist_max_per_lawyer,
            max_per_partner=settings.watchlist_max_per_partner,
        ),
        profiles=profiles,
        rotas=Rotas(runtime.sessions, profiles, clock),
        probe=Probe(runtime.sessions, box, sending, clock, rules=settings.health_rules()),
        alerts=Alerts(
            runtime.sessions,
            settings.report_link,
            box,
            delivery.wake,
            in_flight_s=in_flight,
            clock=clock,
            reminders=settings.reminder_policy(),
            minute_s=settings.escalation_minute_s,
            metrics=metrics,
        ),
        links=links,
        matcher=Matcher(
            runtime.sessions,
            clock,
            settings.escalation_minute_s,
            Claim(settings.delivery_lease_s, in_flight),
            delivery.submit,
            disclosure.disclosed,
            relay.wake,
            FollowUps(
                runtime.sessions,
                clock,
                settings.escalation_minute_s,
                disclosure.readable,
                delivery.wake,
            ).apply,
            metrics=metrics,
            in_thread=runtime.threads.run,
            read=runtime.threads.read,
            releases=Publisher(runtime, relay, forget_in(delivery.recorder.run)),
        ),
        eraser=Eraser(runtime.sessions, clock),
        releaser=Releaser(runtime.sessions, clock, delivery.wake),
        operators=operator_notices(settings, sending, clock),
        suspender=Suspender(runtime.sessions, clock),
        relay=relay,
        delivery=delivery,
        scheduler=EscalationScheduler(
            runtime.sessions,
            clock=clock,
            minute_s=settings.escalation_minute_s,
            poll_s=settings.escalation_poll_s,
            wake_delivery=delivery.wake,
            reminders=ReminderScheduler(
                runtime.sessions,
                clock=clock,
                policy=settings.reminder_policy(),
                minute_s=settings.escalation_minute_s,
            ),
        ),
        health=HealthMonitor(
            runtime.sessions,
            settings.health_rules(),
            clock,
            settings.contact_health_poll_s,
            delivery.wake,
        ),
        retention=RetentionSweeper(
            runtime.sessions, settings.retention(), clock=clock, wake_relay=relay.wake
        ),
    )


def operator_notices(settings: AlertsSettings, sending: Channels, clock: Clock) -> OperatorNotices:
    """Alarms mailed to the operators through the email channel's SMTP settings."""
    email = sending.get("email")
    key = settings.operator_pgp_key_file
    return OperatorNotices(
        email.mailer if isinstance(email, EmailChannel) else None,
        settings.operator_addresses(),
        key.read_text() if key is not None else None,
        clock,
    )


def start(container: Container) -> None:
    """Run delivery and escalation for the life of the runtime; consumers start with NATS."""
    runtime = container.runtime
    runtime.spawn(container.delivery.run(runtime.stop), "alert-delivery")
    runtime.spawn(container.scheduler.run(runtime.stop), "alert-escalation")
    runtime.spawn(container.health.run(runtime.stop), "contact-health")
    runtime.spawn(container.retention.run(runtime.stop), "retention")
    runtime.spawn(container.relay.run(), "outbox-relay")
    runtime.start_nats(lambda connected: wire_consumers(container, connected))


async def wire_consumers(container: Container, runtime: Runtime) -> None:
    """The durable consumers, one per subject alerts reads (once NATS is connected)."""
    # Alerts reads a report's tokens and routing fields, never the sealed report: a dead letter
    # keeps no copy of it that sharing's erasure could not reach.
    sink = dead_letter_sink(
        runtime, DEAD_LETTERS, clock=container.clock, keep=without_sealed_report
    )
    await runtime.consume(
        ConsumerSpec.granted("alerts", "alerts-system"),
        ping_handler(runtime, INBOX, clock=container.clock),
        sink,
    )
    await runtime.consume(
        ConsumerSpec.granted("alerts", "alerts-reports"),
        received_handler(container.matcher),
        sink,
        batch_handler=received_batch_handler(container.matcher),
    )
    handlers = {
        "alerts-erasures": erased_handler(container.eraser),
        "alerts-releases": released_handler(container.releaser),
        "alerts-alarms": alarm_handler(container.operators),
        "alerts-revocations": revoked_handler(container.suspender),
    }
    for durable, handler in handlers.items():
        await runtime.consume(ConsumerSpec.granted("alerts", durable), handler, sink)
