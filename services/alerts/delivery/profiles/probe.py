"""Test alerts: one clearly marked message, now, to one of the lawyer's own contacts.

It goes through the contact's channel in the registry like any page (a webhook signed with the
contact's secret, an email encrypted to its key), but names no alert and carries no link: it
proves the channel works and nothing else. One attempt, no retry; a contact gets at most one
test per `TEST_EVERY_S`, counted in its row so that every replica agrees.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import Clock
from libs.common.db import transaction
from libs.common.errors import NotFound, RateLimited
from libs.common.ratelimit import Quota, ratelimit_headers
from services.alerts.delivery.channels import Channels
from services.alerts.delivery.domain import AlertView, Outgoing, SendResult
from services.alerts.delivery.health.domain import HealthRules
from services.alerts.delivery.health.warnings import after_attempt
from services.alerts.delivery.profiles import repository as repo
from services.alerts.delivery.profiles.schemas import ContactTestOut
from services.alerts.delivery.secrets import SecretBox
from services.alerts.watchlists import repository as watchlists

log = logging.getLogger(__name__)
TEST_EVERY_S = 10.0


def probe_view(language: str) -> AlertView:
    """What a test message presents: its kind and language, no alert, no link."""
    return AlertView(
        alert_id="", label="", priority="", decision="", reason="", agreed="", incident_type="",
        legal_basis="", country="", facility_kind="", occurred_at="", report_id="",
        report_count=0, report_url="", ack_url="", alert_url="", kind="test", step=0, role="",
        language=language,
    )  # fmt: skip


@dataclass
class Probe:
    """Sends test alerts to a lawyer's own contacts."""

    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    channels: Channels
    clock: Clock
    every_s: float = TEST_EVERY_S
    rules: HealthRules = field(default_factory=HealthRules)

    async def send(self, principal: Principal, contact_id: str) -> ContactTestOut:
        """One attempt through the contact's channel, now; 404 for another's, 429 too soon."""
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            row = await repo.own_contact(session, principal.client_id, contact_id)
            if row is None:
                raise NotFound("no such contact")
            if not await repo.mark_tested(
                session, contact_id, now, now - timedelta(seconds=self.every_s)
            ):
                wait = math.ceil(self._wait(row["tested_at"], now))
                # One test per contact per `every_s`: a policy of one unit in that window.
                window = Quota("contact-test", 1, math.ceil(self.every_s), 0, wait)
                raise RateLimited(wait, headers=ratelimit_headers([window]))
            language = await watchlists.language(session, principal.client_id) or "en"
        message_id = str(uuid.uuid4())  # the webhook-id / Message-ID of this one message
        result = await self._send(row, message_id, language)
        if result.error != "unknown_channel":
            # A test counts on the contact's health like any send: it is how a fix is proven.
            error = None if result.outcome == "delivered" else result.error or result.outcome
            async with transaction(self.sessions) as session:
                await after_attempt(session, contact_id, error, self.rules, self.clock.now())
        log.info(
            "test alert sent",
            extra={"delivery_id": message_id, "status": result.http_status, "reason": result.error},
        )
        return ContactTestOut(
            contact=contact_id,
            channel=row["channel"],
            delivered=result.outcome == "delivered",
            error=result.error,
            http_status=result.http_status,
        )

    def _wait(self, last: datetime | None, now: datetime) -> float:
        """Seconds until the contact's next turn (a whole period if another took it just now)."""
        if last is None:
            return self.every_s
        last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)  # SQLite: naive
        return self.every_s - (now - last).total_seconds()

    async def _send(self, contact: RowMapping, message_id: str, language: str) -> SendResult:
        channel = self.channels.get(contact["channel"])
        if channel is None:
            return SendResult("failed", error="unknown_channel")
        try:
            sealed = contact["secret"]
            secret = None if sealed is None else self.box.open(contact["id"], sealed)
            view = probe_view(language)
            message = Outgoing(message_id, contact["address"], secret, contact["pgp_key"], view)
            return await channel.send(message, self.clock.now())
        except Exception as exc:
            # E.g. a secret this replica cannot decrypt: the lawyer sees a code, never a 500.
            log.exception("test alert crashed", extra={"delivery_id": message_id})
            return SendResult("failed", error=f"internal_{type(exc).__name__}"[:64])
