"""With a web console configured, every link to an alert opens it there, never a JSON address."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alerts.conftest import AlertsStack, alerts_stack_on
from tests.integration.alerts.support import receiver, until
from tests.integration.alerts.test_delivery import page_lev, setup_lawyer
from tests.support.natsd import NatsServer

CONSOLE = "https://console.lifeline.example/"  # a trailing slash is not doubled


@pytest.fixture
async def console_stack(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> AsyncIterator[AlertsStack]:
    """The stack with `LIFELINE_ALERTS_CONSOLE_URL` set."""
    db_url = db_url_factory("alerts")
    async with alerts_stack_on(nats_server.url, db_url, tmp_path, console_url=CONSOLE) as s:
        yield s


def _link(alert_id: str) -> str:
    return f"https://console.lifeline.example/alerts/{alert_id}"


async def test_email_webhook_and_api_link_to_the_alert_in_the_console(
    console_stack: AlertsStack,
) -> None:
    stack = console_stack
    async with receiver() as hook:
        await setup_lawyer(stack, hook=hook)
        # A highest-priority alert: the webhook and the email at once.
        await page_lev(stack)
        assert await until(lambda: hook.hits and stack.mailbox.to("lawyer@example.org"))
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    link = _link(alert["id"])
    assert alert["report_url"] == link
    data = hook.hits[0].payload["data"]
    assert (data["alert_url"], data["report_url"], data["ack_url"]) == (link, link, None)
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert isinstance(mail, EmailMessage)
    body = str(mail.get_content())
    assert f"Open the alert in the Lifeline console: {link}" in body
    # Nothing in the mail is an address of a JSON API.
    assert re.findall(r"https?://\S+", body) == [link]
    assert "/v1/" not in body


async def test_a_restricted_alert_links_to_the_console_but_to_no_report(
    console_stack: AlertsStack,
) -> None:
    stack = console_stack
    stack.visible = {"bar-1": []}  # the lawyer's organisation may read none of the report
    async with receiver() as hook:
        await setup_lawyer(stack, hook=hook)
        await page_lev(stack)
        assert await until(lambda: hook.hits)
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    assert alert["restricted"] is True and alert["report_url"] == ""
    data = hook.hits[0].payload["data"]
    assert data["restricted"] is True and data["report_url"] is None
    assert data["alert_url"] == _link(alert["id"])


async def test_a_russian_email_opens_the_console_in_russian(console_stack: AlertsStack) -> None:
    stack = console_stack
    await setup_lawyer(stack)
    body = {"email": {"address": "lawyer@example.org"}, "language": "ru"}
    assert (await stack.call("PUT", "/v1/lawyer/profile", json=body)).status_code == 200
    await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert isinstance(mail, EmailMessage)
    text = str(mail.get_content())
    assert f"Откройте оповещение в консоли Lifeline: {_link(alert['id'])}" in text
    assert "/v1/" not in text
