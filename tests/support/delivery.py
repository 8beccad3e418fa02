"""One delivery's send without a database: a send context and a worker that sends it."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from libs.common.clock import FakeClock
from services.alerts.alerts.domain import EVERY_DETAIL
from services.alerts.alerts.link_keys import LinkKeys
from services.alerts.alerts.links import AckLinks
from services.alerts.container import in_flight_s
from services.alerts.delivery.channels import Channels
from services.alerts.delivery.config import DeliveryConfig
from services.alerts.delivery.domain import SendContext, send_context
from services.alerts.delivery.secrets import SecretBox
from services.alerts.delivery.worker import DeliveryWorker

NOW = datetime(2026, 11, 20, 6, 41, tzinfo=UTC)


def context_for(channel: str, **overrides: Any) -> SendContext:
    """A claimed first page of a highest-priority alert with every detail, on `channel`."""
    delivery = {
        "id": "d-1",
        "kind": "alert",
        "step": 0,
        "status": "sending",
        "attempts": 1,
        "channel": channel,
        "contact_id": "c-1",
    }
    alert = {
        "id": "a-1",
        "status": "open",
        "lawyer_id": "lawyer-1",
        "priority": "highest",
        "decision": "strong",
        "reason": "whole name and full date of birth agree",
        "agreed": "name,name_dob",
        "incident_type": "detention",
        "legal_basis": "cis_interstate_search",
        "country": "KG",
        "facility_kind": "airport",
        "occurred_at": "2026-11-20T06:40:00+06:00",
        "report_id": "r-1",
        "report_count": 1,
        "acked_by": None,
        "acked_at": None,
        "disclosed": EVERY_DETAIL,
        "release": None,
    }
    contact = {
        "role": "primary",
        "address": "+491701234567",
        "secret": None,
        "pgp_key": None,
        "disabled_at": None,
    }
    return replace(send_context(delivery, alert, contact, "client 12", "en"), **overrides)


def worker_for(
    sending: Channels, box: SecretBox, public_url: str = "https://alerts.example"
) -> DeliveryWorker:
    """A worker over `sending` that only sends (no database): `worker.send(ctx, NOW)`."""
    config = DeliveryConfig(
        schedule=(1.0,),
        jitter=0.0,
        max_attempts=3,
        lease_s=5.0,
        poll_s=1.0,
        concurrency=1,
        in_flight_s=in_flight_s(sending),
        public_url=public_url,
        report_link=lambda _, report_id: f"https://sharing.example/v1/reports/{report_id}",
        alert_link=lambda alert_id: f"https://alerts.example/v1/alerts/{alert_id}",
    )
    keys = LinkKeys(Path(tempfile.mkdtemp()) / "ack-link-keys", rotate_s=3600, now=NOW.timestamp())
    links = AckLinks(keys, ttl_s=3600)
    clock = FakeClock(NOW)
    return DeliveryWorker(
        None,  # type: ignore[arg-type]
        config,
        channels=sending,
        box=box,
        links=links,
        clock=clock,
        in_thread=None,  # type: ignore[arg-type]
    )
