"""Test alerts: one marked message, now, through one of the lawyer's own contacts' channel."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

from libs.common.clock import FakeClock
from tests.integration.alerts.conftest import ORG_ADMIN, AlertsStack
from tests.integration.alerts.support import Receiver, receiver, until
from tests.integration.alerts.test_delivery import setup_lawyer
from tests.support.ratelimit import ratelimit_of


def _contact(profile: dict[str, Any], role: str) -> str:
    return str(next(c["id"] for c in profile["contacts"] if c["role"] == role))


async def _test(stack: AlertsStack, contact_id: str, **kw: Any) -> Any:
    return await stack.call("POST", "/v1/lawyer/profile/test", json={"contact": contact_id}, **kw)


async def test_a_webhook_test_is_signed_marked_and_carries_no_alert(stack: AlertsStack) -> None:
    async with receiver() as hook:
        profile = await setup_lawyer(stack, hook=hook)
        contact = _contact(profile, "primary")
        resp = await _test(stack, contact)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {
            "contact": contact,
            "channel": "webhook",
            "delivered": True,
            "error": None,
            "http_status": 200,
        }
        # Verified by the receiver with the standardwebhooks library and the contact's secret.
        (hit,) = hook.hits
        assert hook.rejected == 0
        assert hit.payload["type"] == "alert.test"
        assert hit.payload["data"]["test"] is True
        assert hit.payload["data"]["message"].startswith("This is a test alert from Lifeline")
        assert set(hit.payload["data"]) == {"test", "message"}  # no alert, no link
    # A test is no alert: nothing appears among the lawyer's alerts or deliveries.
    assert (await stack.call("GET", "/v1/alerts")).json()["alerts"] == []


async def test_an_email_test_reaches_the_smtp_server_and_holds_no_link(stack: AlertsStack) -> None:
    profile = await setup_lawyer(stack)
    resp = await _test(stack, _contact(profile, "secondary"))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["channel"], resp.json()["delivered"]) == ("email", True)
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert mail["Subject"] == "Lifeline test alert"
    assert isinstance(mail, EmailMessage)
    body = str(mail.get_content())
    assert body.startswith("This is a test alert from Lifeline") and "http" not in body


async def test_a_failing_webhook_is_reported_once_and_not_retried(stack: AlertsStack) -> None:
    async with receiver(answer=500) as hook:
        profile = await setup_lawyer(stack, hook=hook, email=None)
        resp = await _test(stack, _contact(profile, "primary"))
        assert resp.status_code == 200, resp.text
        out = resp.json()
        assert (out["delivered"], out["error"], out["http_status"]) == (False, "http_500", 500)
        await asyncio.sleep(1.0)  # the retry schedule is 0.2 s here: a retry would have come
        assert len(hook.seen) == 1
        # Nothing fell back to the secondary channel either.
        assert stack.mailbox.messages == []


async def test_an_unreachable_webhook_is_a_code_not_an_error(stack: AlertsStack) -> None:
    hook = Receiver()  # never started: connection refused
    profile = await setup_lawyer(stack, hook=hook, email=None)
    resp = await _test(stack, _contact(profile, "primary"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["delivered"] is False and resp.json()["error"] == "ConnectError"
    assert resp.json()["http_status"] is None


async def test_tests_are_paced_per_contact(clocked_stack: AlertsStack) -> None:
    stack, clock = clocked_stack, clocked_stack.clock
    assert isinstance(clock, FakeClock)
    async with receiver() as hook:
        profile = await setup_lawyer(stack, hook=hook)
        webhook, email = _contact(profile, "primary"), _contact(profile, "secondary")
        assert (await _test(stack, webhook)).status_code == 200
        clock.advance(4)
        again = await _test(stack, webhook)
        assert again.status_code == 429 and again.json()["code"] == "rate_limited"
        assert again.headers["retry-after"] == "6"
        assert ratelimit_of(again.headers) == {"contact-test": {"q": 1, "w": 10, "r": 0, "t": 6}}
        assert len(hook.seen) == 1  # refused before anything was sent
        # Another contact has its own turn.
        assert (await _test(stack, email)).status_code == 200
        clock.advance(6)
        assert (await _test(stack, webhook)).status_code == 200
        assert await until(lambda: len(hook.hits) == 2)


async def test_only_the_callers_own_contacts_can_be_tested(stack: AlertsStack) -> None:
    profile = await setup_lawyer(stack)
    mine = _contact(profile, "secondary")
    other = {"client_id": "lawyer-2", "org": "bar-2"}
    resp = await _test(stack, mine, **other)
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert (await _test(stack, "no-such-contact")).status_code == 404
    org = await stack.call(
        "PUT",
        "/v1/organisation/escalation",
        json={
            "escalate_after_minutes": 1,
            "duty_after_minutes": 2,
            "repeat_every_minutes": 1,
            "max_repeats": 1,
            "duty_contacts": [{"channel": "email", "address": "duty@example.org"}],
        },
        **ORG_ADMIN,
    )
    duty = org.json()["duty_contacts"][0]["id"]
    assert (await _test(stack, duty)).status_code == 404  # the duty desk is not the lawyer's
    assert (await stack.call("POST", "/v1/lawyer/profile/test", json={})).status_code == 422
    reader = {"scopes": ("alerts:read",)}
    assert (await _test(stack, mine, **reader)).status_code == 403
    assert stack.mailbox.messages == []
