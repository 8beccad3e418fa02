"""The alerts service's parts, built once from settings and the runtime, and how they start."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from libs.common.events import REPORT_ERASED, REPORT_RECEIVED
from libs.common.http import make_client
from libs.common.nats import ConsumerSpec
from libs.common.runtime import Runtime
from libs.common.system import dead_letter_sink
from services.alerts import openpgp
from services.alerts.delivery import DeliveryConfig, DeliveryWorker
from services.alerts.erasure import Eraser
from services.alerts.jobs import Claim
from services.alerts.keys import AckLinks, SecretBox, load_or_create_key
from services.alerts.mailer import Mailer, SmtpConfig
from services.alerts.matching import Matcher
from services.alerts.models import DeadLetter, ErasedReport, ProcessedEvent
from services.alerts.scheduler import EscalationScheduler
from services.alerts.service_alerts import Alerts
from services.alerts.service_profile import Profiles
from services.alerts.service_watchlist import Watchlist
from services.alerts.settings import AlertsSettings
from services.alerts.webhook import MAX_ADDRESSES, WebhookSender
from services.alerts.worker import erased_handler, received_batch_handler, received_handler

INBOX = ProcessedEvent.__table__  # type: ignore[attr-defined]
DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]
ERASED = ErasedReport.__table__  # type: ignore[attr-defined]


@dataclass
class Components:
    """What the routes and background tasks use."""

    watchlist: Watchlist
    profiles: Profiles
    alerts: Alerts
    links: AckLinks
    matcher: Matcher
    eraser: Eraser
    delivery: DeliveryWorker
    scheduler: EscalationScheduler
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        """Close the outbound HTTP client."""
        await self.http.aclose()


def connect_s(settings: AlertsSettings) -> float:
    """How long a webhook's connect may take, per address."""
    return min(2.0, settings.webhook_timeout_s)


def in_flight_s(settings: AlertsSettings) -> float:
    """Longest one send can take (HTTP or SMTP timeout, and a margin)."""
    # A webhook may fail to connect to all but the last of its name's addresses first.
    webhook = (MAX_ADDRESSES - 1) * connect_s(settings) + settings.webhook_timeout_s
    return max(webhook, settings.smtp_timeout_s) + 5.0


def _smtp(settings: AlertsSettings) -> SmtpConfig:
    password = ""
    if settings.smtp_password_file is not None:
        password = settings.smtp_password_file.read_text().strip()
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=password,
        timeout_s=settings.smtp_timeout_s,
    )


def build(settings: AlertsSettings, runtime: Runtime) -> Components:
    """Wire the parts; nothing runs until `start`."""
    keys_dir = settings.data_dir / "keys"
    box = SecretBox(
        load_or_create_key(settings.secrets_key_file or keys_dir / "alerts-secrets.key")
    )
    links = AckLinks(
        load_or_create_key(settings.ack_link_key_file or keys_dir / "alerts-ack-links.key"),
        settings.ack_link_ttl_s,
    )
    http = make_client(connect=connect_s(settings), read=settings.webhook_timeout_s)
    delivery = DeliveryWorker(
        runtime.sessions,
        DeliveryConfig(
            schedule=settings.retry_schedule(),
            jitter=settings.retry_jitter,
            max_attempts=settings.max_attempts,
            lease_s=settings.delivery_lease_s,
            poll_s=settings.delivery_poll_s,
            concurrency=settings.delivery_concurrency,
            in_flight_s=in_flight_s(settings),
            public_url=settings.resolved_public_url(),
            report_link=settings.report_link,
        ),
        webhooks=WebhookSender(http, allow_private=settings.webhook_allow_private),
        mailer=Mailer(_smtp(settings), openpgp.encrypt),
        box=box,
        links=links,
    )
    return Components(
        watchlist=Watchlist(runtime.sessions),
        profiles=Profiles(
            runtime.sessions,
            box,
            allow_private_webhooks=settings.webhook_allow_private,
            check_pgp_key=openpgp.check_key,
        ),
        alerts=Alerts(
            runtime.sessions,
            settings.report_link,
            delivery.wake,
            in_flight_s=in_flight_s(settings),
        ),
        links=links,
        matcher=Matcher(
            runtime.sessions,
            settings.escalation_minute_s,
            Claim(settings.delivery_lease_s, in_flight_s(settings)),
            delivery.submit,
        ),
        eraser=Eraser(runtime.sessions, INBOX, ERASED),
        delivery=delivery,
        scheduler=EscalationScheduler(
            runtime.sessions,
            minute_s=settings.escalation_minute_s,
            poll_s=settings.escalation_poll_s,
            wake_delivery=delivery.wake,
        ),
        http=http,
    )


def start(components: Components, runtime: Runtime) -> None:
    """Run delivery and escalation for the life of the runtime (consumers start with NATS)."""
    runtime.spawn(components.delivery.run(runtime.stop), "alert-delivery")
    runtime.spawn(components.scheduler.run(runtime.stop), "alert-escalation")


async def wire_consumers(components: Components, runtime: Runtime) -> None:
    """The durable consumers of report events (called once NATS is connected)."""
    sink = dead_letter_sink(runtime, DEAD_LETTERS)
    await runtime.consume(
        ConsumerSpec(durable="alerts-reports", filter_subject=REPORT_RECEIVED),
        received_handler(components.matcher),
        sink,
        batch_handler=received_batch_handler(components.matcher),
    )
    await runtime.consume(
        ConsumerSpec(durable="alerts-erasures", filter_subject=REPORT_ERASED),
        erased_handler(components.eraser),
        sink,
    )
