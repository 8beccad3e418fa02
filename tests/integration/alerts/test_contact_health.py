"""Contact health with the real service and real receivers: a failing webhook warns the lawyer
by email once per episode, an expiring key warns on the webhook, and a lawyer nobody can reach
is told to the duty desk."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pysequoia
import pytest
from sqlalchemy import select, update

from libs.common.clock import FakeClock
from libs.common.db import transaction
from services.alerts.delivery.health.models import WARNINGS
from services.alerts.delivery.models import DELIVERIES
from services.alerts.delivery.profiles.models import Contact
from tests.integration.alerts.conftest import ORG_ADMIN, AlertsStack, alerts_stack_on
from tests.integration.alerts.support import Receiver, receiver, until
from tests.integration.alerts.test_delivery import page_lev, setup_lawyer
from tests.support.natsd import NatsServer

CONTACTS = Contact.__table__  # type: ignore[attr-defined]
SUBJECT = "Lifeline: a contact needs attention"
LAWYER_MAIL = "lawyer@example.org"


def _warnings_to(stack: AlertsStack, address: str) -> list[Message]:
    return [m for m in stack.mailbox.to(address) if m["Subject"] == SUBJECT]


async def _health(stack: AlertsStack, channel: str) -> dict[str, Any]:
    profile = (await stack.call("GET", "/v1/lawyer/profile")).json()
    return dict(next(c for c in profile["contacts"] if c["channel"] == channel)["health"])


async def _failures(stack: AlertsStack, at_least: int) -> bool:
    rows = await stack.db(
        select(CONTACTS.c.consecutive_failures).where(CONTACTS.c.role == "primary")
    )
    return bool(rows) and rows[0].consecutive_failures >= at_least


@pytest.fixture
async def health_stack(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> AsyncIterator[AlertsStack]:
    """The stack on a fake clock with a quick periodic health check."""
    async with alerts_stack_on(
        nats_server.url,
        db_url_factory("alerts"),
        tmp_path,
        clock=FakeClock(),
        contact_health_poll_s=0.1,
    ) as s:
        yield s


async def test_a_failing_webhook_warns_on_the_email_once_per_episode(stack: AlertsStack) -> None:
    async with receiver(answer=500) as hook:
        await setup_lawyer(stack, hook)
        await page_lev(stack)
        assert await until(lambda: _failures(stack, 5))
        # Three failures started the episode; the fourth and fifth warn no more.
        (mail,) = _warnings_to(stack, LAWYER_MAIL)
        body = mail.get_content()  # type: ignore[attr-defined]
        assert "webhook" in body and hook.url not in body and "500" not in body
        health = await _health(stack, "webhook")
        assert health["state"] == "failing" and health["consecutive_failures"] >= 5
        assert health["last_failure"] and health["last_failure_at"]
        assert health["last_success_at"] is None
        # The webhook works again: the retry lands, the counter and the episode reset.
        hook.answer = 200
        assert await until(lambda: hook.alerts("alert.created"))
        health = await until(lambda: _ok(stack))
        assert health["consecutive_failures"] == 0 and health["last_success_at"]
        # It fails again: a new episode, a second warning.
        hook.answer = 500
        await page_lev(stack, country="KZ")
        assert await until(lambda: len(_warnings_to(stack, LAWYER_MAIL)) == 2, timeout=15)
        assert (await stack.call("GET", "/v1/lawyer/profile")).json()["reachable"] is True


async def _ok(stack: AlertsStack) -> dict[str, Any] | None:
    health = await _health(stack, "webhook")
    return health if health["state"] == "ok" else None


async def test_a_webhook_gone_warns_at_once(stack: AlertsStack) -> None:
    async with receiver(answer=410) as hook:
        await setup_lawyer(stack, hook)
        await page_lev(stack, legal_basis="administrative")
        assert await until(lambda: _warnings_to(stack, LAWYER_MAIL))
        assert (await _health(stack, "webhook"))["state"] == "failing"


def _key_expiring_in(clock: FakeClock, days: int) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cert = pysequoia.Cert.generate("Lawyer <lawyer@example.org>")
        expiring = cert.set_expiration(
            expiration=clock.now() + timedelta(days=days), certifier=cert.secrets.certifier()
        )
    return str(expiring)  # the public key only


async def test_an_expiring_key_warns_on_the_webhook_then_again_once_expired(
    health_stack: AlertsStack,
) -> None:
    stack = health_stack
    clock = stack.clock
    assert isinstance(clock, FakeClock)
    async with receiver() as hook:
        await setup_lawyer(stack, hook, pgp=_key_expiring_in(clock, 10))
        health = await _health(stack, "email")
        assert health["state"] == "key_expiring" and health["key_expires_at"]
        assert await until(lambda: hook.alerts("contact.warning"))
        await asyncio.sleep(0.5)  # a few more checks: still one warning
        (warning,) = hook.alerts("contact.warning")
        assert warning.payload["data"]["problem"] == "key_expiring"
        assert warning.payload["data"]["contact"]["channel"] == "email"
        assert LAWYER_MAIL not in str(warning.payload)
        clock.advance(11 * 86400)
        # The receiver refuses a signature dated 11 days ahead of its real clock, so the second
        # warning is read where the worker took it from.
        assert await until(lambda: _warned(stack, 2))
        assert [w.problem for w in await _warned(stack, 2)] == ["key_expiring", "key_expired"]
        assert (await _health(stack, "email"))["state"] == "key_expired"
        # The webhook still works: the lawyer is reachable.
        assert (await stack.call("GET", "/v1/lawyer/profile")).json()["reachable"] is True


async def _warned(stack: AlertsStack, count: int) -> list[Any]:
    """The contact warnings with their deliveries, once there are `count`."""
    d, w = DELIVERIES.c, WARNINGS.c
    rows = await stack.db(
        select(w.problem, d.channel)
        .select_from(WARNINGS.join(DELIVERIES, d.alert_id == w.id))
        .where(d.kind == "contact_warning")
        .order_by(w.created_at)
    )
    return rows if len(rows) >= count else []


async def _duty_desk(stack: AlertsStack, duty: Receiver) -> None:
    org = await stack.call(
        "PUT",
        "/v1/organisation/escalation",
        json={
            "escalate_after_minutes": 5,
            "duty_after_minutes": 10,
            "repeat_every_minutes": 5,
            "max_repeats": 1,
            "duty_contacts": [{"channel": "webhook", "address": duty.url, "name": "Duty desk"}],
        },
        **ORG_ADMIN,
    )
    assert org.status_code == 200, org.text
    duty.secret = next(iter(org.json()["new_secrets"].values()))


async def test_a_lawyer_nobody_can_reach_is_told_to_the_duty_desk_once(
    health_stack: AlertsStack,
) -> None:
    stack = health_stack
    async with receiver(answer=410) as hook, receiver() as duty:
        await _duty_desk(stack, duty)
        await setup_lawyer(stack, hook, email=None)
        assert (await stack.call("GET", "/v1/lawyer/profile")).json()["reachable"] is True
        await page_lev(stack)
        assert await until(lambda: duty.alerts("contact.warning"))
        await asyncio.sleep(0.5)  # the periodic check runs meanwhile: no second notice
        (notice,) = duty.alerts("contact.warning")
        assert notice.payload["data"] == {
            "problem": "unreachable",
            "lawyer": "lawyer-1",
            "message": notice.payload["data"]["message"],
        }
        assert "client 12" not in str(notice.payload)  # nothing about whom they watch
        profile = (await stack.call("GET", "/v1/lawyer/profile")).json()
        assert profile["reachable"] is False
        assert profile["contacts"][0]["health"]["state"] == "failing"
        # Saving the profile again re-enables the webhook: the episode ends.
        again = await stack.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": hook.url}})
        assert again.status_code == 200, again.text
        assert (await stack.call("GET", "/v1/lawyer/profile")).json()["reachable"] is True


async def test_a_test_alert_counts_on_the_contacts_health(stack: AlertsStack) -> None:
    async with receiver() as hook:
        profile = await setup_lawyer(stack, hook, email=None)
        assert (await _health(stack, "webhook"))["state"] == "unknown"
        (contact,) = profile["contacts"]
        sent = await stack.call("POST", "/v1/lawyer/profile/test", json={"contact": contact["id"]})
        assert sent.status_code == 200 and sent.json()["delivered"] is True, sent.text
        health = await _health(stack, "webhook")
        assert health["state"] == "ok" and health["last_success_at"]


async def test_an_alert_with_nobody_to_page_tells_the_duty_desk_at_once(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    # The periodic check runs once at start and then not for an hour: only the page can tell.
    async with (
        alerts_stack_on(
            nats_server.url, db_url_factory("alerts"), tmp_path, contact_health_poll_s=3600
        ) as stack,
        receiver() as hook,
        receiver() as duty,
    ):
        await _duty_desk(stack, duty)
        await setup_lawyer(stack, hook, email=None)
        # Every endpoint of the lawyer stopped (as a revocation does): nobody of theirs to page.
        async with transaction(stack.app.state.container.runtime.sessions) as session:
            await session.execute(
                update(CONTACTS)
                .where(CONTACTS.c.lawyer_id == "lawyer-1")
                .values(disabled_at=stack.clock.now(), disabled_reason="revoked")
            )
        await page_lev(stack)
        assert await until(lambda: duty.alerts("contact.warning"))
        assert duty.alerts("contact.warning")[0].payload["data"]["lawyer"] == "lawyer-1"
        assert hook.hits == []
