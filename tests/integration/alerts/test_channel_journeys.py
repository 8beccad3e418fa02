"""Signal, Telegram, ntfy and SMS through the whole service: a report pages the lawyer there,
the worker retries and records what happened, the ntfy button acknowledges, no token is
logged; and how long a report takes to reach each (printed, see bench/channels_bench.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alerts.conftest import AlertsStack, alerts_stack_on
from tests.integration.alerts.support import report_event, tokens_for, until
from tests.support.channel_apis import (
    BOT_TOKEN,
    SIGNAL_NUMBER,
    SMS_TOKEN,
    ChannelApis,
    Failure,
    Sent,
    press,
)
from tests.support.logs import service_logging, written_logs
from tests.support.natsd import NatsServer
from tests.support.tls import self_signed

__all__ = ["service_logging"]
NTFY_TOKEN = "tk_canaryntfyaccesstoken0000001"  # a test's
KINDS = ("signal", "telegram", "ntfy", "sms")


class World:
    """The alerts service with its chat, push and SMS endpoints on local APIs."""

    def __init__(self, stack: AlertsStack, apis: ChannelApis, push: ChannelApis) -> None:
        self.stack = stack
        self.apis = apis
        self.push = push  # the operator's ntfy server, https, allow-listed

    def api(self, kind: str) -> ChannelApis:
        return self.push if kind == "ntfy" else self.apis

    def contact(self, kind: str) -> dict[str, Any]:
        addresses = {"signal": "+4917012345678", "telegram": "581234977", "sms": "+4917012345678"}
        if kind == "ntfy":
            return {"address": f"{self.push.url}/lawyer-topic", "secret": NTFY_TOKEN}
        return {"address": addresses[kind]}

    async def lawyer_on(self, kind: str) -> None:
        """A lawyer whose one contact is on `kind`, watching Lev."""
        body = {"contacts": [{"role": "primary", "channel": kind, **self.contact(kind)}]}
        resp = await self.stack.call("PUT", "/v1/lawyer/profile", json=body)
        assert resp.status_code == 200, resp.text
        assert resp.json()["new_secrets"] == {}  # the ntfy token is the lawyer's, not shown
        entry = {"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")}
        resp = await self.stack.call("POST", "/v1/watchlist/entries", json=entry)
        assert resp.status_code == 201, resp.text

    async def report(self) -> float:
        """Publish a report about Lev; when it was published (monotonic)."""
        event = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
        at = time.monotonic()
        await self.stack.publish(event)
        return at

    async def alert(self) -> dict[str, Any]:
        """The lawyer's one alert, with its deliveries."""
        alerts = (await self.stack.call("GET", "/v1/alerts")).json()["alerts"]
        assert len(alerts) == 1
        return dict((await self.stack.call("GET", f"/v1/alerts/{alerts[0]['id']}")).json())

    async def first(self, kind: str) -> Sent:
        sent = await until(lambda: self.api(kind).to(kind), timeout=10)
        assert sent, f"nothing reached {kind}"
        return sent[0]


@pytest.fixture
async def world(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> AsyncIterator[World]:
    (tmp_path / "bot").write_text(BOT_TOKEN)
    (tmp_path / "sms").write_text(SMS_TOKEN)
    cert, key = self_signed("127.0.0.1", tmp_path)
    push = ChannelApis(tls=(cert, key), topic_tokens={"lawyer-topic": NTFY_TOKEN})
    async with ChannelApis() as apis, push:
        settings = {
            "signal_api_url": apis.url,
            "signal_number": SIGNAL_NUMBER,
            "telegram_api_url": apis.url,
            "telegram_bot_token_file": tmp_path / "bot",
            "sms_gateway_url": apis.sms_url,
            "sms_token_file": tmp_path / "sms",
            "ntfy_servers": push.url,
            "ntfy_ca_file": cert,
        }
        db_url = db_url_factory("alerts")
        async with alerts_stack_on(nats_server.url, db_url, tmp_path, **settings) as stack:
            yield World(stack, apis, push)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_report_pages_the_lawyer_and_a_failed_attempt_is_retried(
    world: World, kind: str
) -> None:
    world.api(kind).fail(kind, Failure(503, {"error": "busy"}))
    await world.lawyer_on(kind)
    published = await world.report()
    sent = await world.first(kind)

    async def recorded() -> Any:
        (delivery,) = (await world.alert())["deliveries"]
        return delivery["status"] == "delivered" and delivery

    delivery = await until(recorded, timeout=10)  # the outcome is written after the send
    assert delivery and delivery["channel"] == kind
    outcomes = [(a["outcome"], a["http_status"]) for a in delivery["attempts"]]
    assert outcomes[0] == ("retry", 503) and outcomes[1][0] == "delivered"
    assert sent.at > published
    if kind == "sms":
        assert sent.text == "Lifeline: an alert needs you — open the console"
    else:
        assert delivery["id"] and (await world.alert())["id"] in sent.text


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [("signal", 400, "signal_400"), ("telegram", 403, "telegram_403"),
     ("ntfy", 403, "ntfy_403"), ("sms", 400, "sms_400")],
)  # fmt: skip
async def test_a_refusal_for_good_is_recorded_and_not_retried(
    world: World, kind: str, status: int, error: str
) -> None:
    description = {"telegram": "Forbidden: bot was blocked by the user"}.get(kind, "refused")
    world.api(kind).fail(kind, Failure(status, {"ok": False, "description": description}))
    await world.lawyer_on(kind)
    await world.report()

    async def failed() -> Any:
        if not (await world.stack.call("GET", "/v1/alerts")).json()["alerts"]:
            return None
        deliveries = (await world.alert())["deliveries"]
        return deliveries and deliveries[0]["status"] == "failed" and deliveries[0]

    delivery = await until(failed, timeout=10)
    assert delivery, "the delivery was not failed"
    assert [(a["outcome"], a["http_status"], a["error"]) for a in delivery["attempts"]] == [
        ("failed", status, error)
    ]
    assert world.api(kind).to(kind) == []  # and nothing went out later


async def test_the_ntfy_button_acknowledges_the_alert(world: World) -> None:
    await world.lawyer_on("ntfy")
    await world.report()
    push = await world.first("ntfy")
    (action,) = push.body["actions"]
    assert (action["action"], action["method"], action["label"]) == ("http", "POST", "Acknowledge")
    assert "/v1/ack/" in action["url"] and push.headers["authorization"] == f"Bearer {NTFY_TOKEN}"
    answer = await press(push)  # the lawyer's phone performs the button's request
    assert answer.status_code == 200
    alert = await world.alert()
    assert alert["status"] == "acknowledged"
    # The link acts once: pressing again changes nothing.
    assert (await press(push)).status_code == 409


async def test_an_open_topic_gets_no_ack_button_only_the_sign_in_link(world: World) -> None:
    world.push.topic_tokens.clear()
    body = {"contacts": [{"role": "primary", "channel": "ntfy",
                          "address": f"{world.push.url}/lawyer-topic"}]}  # fmt: skip
    assert (await world.stack.call("PUT", "/v1/lawyer/profile", json=body)).status_code == 200
    entry = {"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")}
    assert (await world.stack.call("POST", "/v1/watchlist/entries", json=entry)).status_code == 201
    await world.report()
    push = await world.first("ntfy")
    (action,) = push.body["actions"]
    assert action["action"] == "view" and "/v1/ack/" not in str(push.body)
    assert (await press(push)).status_code in {200, 401}  # opens the alert: sign in first
    assert (await world.alert())["status"] == "open"


@pytest.mark.parametrize(
    ("channel", "address", "secret", "path"),
    [("ntfy", "https://localhost/topic", None, "ntfy.url"),
     ("ntfy", "https://ntfy.example.org/t", "short", "contacts.0.secret"),
     ("signal", "0170 1234567", None, "contacts.0.address"),
     ("telegram", "@no", None, "contacts.0.address"),
     ("sms", "+49 170", None, "contacts.0.address"),
     ("sms", "+4917012345678", "tk_sometokenvalue", "contacts.0")],
)  # fmt: skip
async def test_bad_contacts_are_refused_naming_the_field(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path,
    channel: str, address: str, secret: str | None, path: str,
) -> None:  # fmt: skip
    db_url = db_url_factory("alerts")
    # Private targets refused, as in production: a lawyer's own ntfy server is checked.
    async with alerts_stack_on(nats_server.url, db_url, tmp_path, webhook_allow_private=False) as s:
        contact = {"role": "primary", "channel": channel, "address": address}
        if secret is not None:
            contact["secret"] = secret
        resp = await s.call("PUT", "/v1/lawyer/profile", json={"contacts": [contact]})
    assert resp.status_code == 422, resp.text
    assert path in {f["path"] for f in resp.json()["fields"]}, resp.text


async def test_tokens_never_reach_a_log(
    world: World, service_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for kind in KINDS:
        world.api(kind).fail(kind, Failure(503), Failure(429, headers={"retry-after": "0"}))
    for kind in KINDS:
        body = {"contacts": [{"role": "primary", "channel": kind, **world.contact(kind)}]}
        assert (await world.stack.call("PUT", "/v1/lawyer/profile", json=body,
                                       client_id=f"lawyer-{kind}")).status_code == 200  # fmt: skip
        entry = {"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")}
        await world.stack.call(
            "POST", "/v1/watchlist/entries", json=entry, client_id=f"lawyer-{kind}"
        )
    await world.report()
    for kind in KINDS:
        await world.first(kind)
    assert "delivery failed" in caplog.text  # the failures were logged …
    written = written_logs(caplog.records)
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], SMS_TOKEN, NTFY_TOKEN):
        assert secret not in written  # … without a token


@pytest.mark.parametrize("kind", KINDS)
async def test_a_test_alert_reaches_the_contact_and_links_nowhere(world: World, kind: str) -> None:
    await world.lawyer_on(kind)
    (contact,) = (await world.stack.call("GET", "/v1/lawyer/profile")).json()["contacts"]
    resp = await world.stack.call(
        "POST", "/v1/lawyer/profile/test", json={"contact": contact["id"]}
    )
    assert resp.status_code == 200 and resp.json()["delivered"] is True, resp.text
    (sent,) = world.api(kind).to(kind)
    assert "test" in sent.text.lower() and "http" not in sent.text
    assert "actions" not in sent.body
