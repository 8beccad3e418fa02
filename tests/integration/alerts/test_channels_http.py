"""Signal, Telegram, ntfy and SMS against local servers speaking their APIs: delivery, what is
retried (5xx, 429 with its delay, timeouts, a dead endpoint) and what is refused for good."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.alerts.delivery import channels
from services.alerts.delivery.channels import Channel, Channels
from services.alerts.delivery.domain import AlertView, Outgoing
from services.alerts.settings import AlertsSettings
from tests.support.channel_apis import (
    BOT_TOKEN,
    SIGNAL_NUMBER,
    SMS_TOKEN,
    ChannelApis,
    Failure,
)
from tests.support.tls import self_signed

NTFY_TOKEN = "tk_canaryntfyaccesstoken0000000"  # a test's
ADDRESSES = {
    "signal": "+4917012345678",
    "telegram": "581234977",
    "sms": "+4917012345678",
}
KINDS = ("signal", "telegram", "ntfy", "sms")
VIEW = AlertView(
    alert_id="a-1", label="", priority="high", decision="", reason="", agreed="",
    incident_type="", legal_basis="", country="", facility_kind="", occurred_at="",
    report_id="r-1", report_count=1, report_url="https://alerts.example/v1/alerts/a-1",
    ack_url="", alert_url="https://alerts.example/v1/alerts/a-1", kind="alert", step=0,
    role="primary",
)  # fmt: skip


class Wire:
    """Local APIs — signal-cli, the bot API and the SMS gateway on one, an allow-listed ntfy
    server over TLS on another — and the channels sending to them."""

    def __init__(self, apis: ChannelApis, push: ChannelApis, sending: Channels) -> None:
        self.apis = apis
        self.push = push
        self.sending = sending

    def api(self, kind: str) -> ChannelApis:
        return self.push if kind == "ntfy" else self.apis

    def channel(self, kind: str) -> Channel:
        found = self.sending.get(kind)
        assert found is not None
        return found

    def address(self, kind: str) -> str:
        return f"{self.push.url}/lawyer-topic" if kind == "ntfy" else ADDRESSES[kind]

    async def send(self, kind: str, view: AlertView = VIEW, **kw: Any) -> Any:
        message = Outgoing("d-1", kw.pop("address", self.address(kind)), kw.pop("secret", None),
                           None, view)  # fmt: skip
        return await self.channel(kind).send(message, datetime.now(UTC))


def settings_for(
    apis: ChannelApis, push: ChannelApis, folder: Path, **overrides: Any
) -> AlertsSettings:
    """Signal, Telegram and SMS pointed at `apis`, ntfy's allow-list at `push`."""
    (folder / "bot").write_text(BOT_TOKEN)
    (folder / "sms").write_text(SMS_TOKEN)
    values: dict[str, Any] = {
        "data_dir": folder,
        "signal_api_url": apis.url,
        "signal_number": SIGNAL_NUMBER,
        "telegram_api_url": apis.url,
        "telegram_bot_token_file": folder / "bot",
        "sms_gateway_url": apis.sms_url,
        "sms_token_file": folder / "sms",
        "ntfy_servers": push.url,
        "signal_timeout_s": 0.5,
        "telegram_timeout_s": 0.5,
        "ntfy_timeout_s": 0.5,
        "sms_timeout_s": 0.5,
    }
    if push.tls is not None:
        values["ntfy_ca_file"] = push.tls[0]
    return AlertsSettings(**(values | overrides))


@pytest.fixture
async def wire(tmp_path: Path) -> AsyncIterator[Wire]:
    push = ChannelApis(tls=self_signed("127.0.0.1", tmp_path))
    async with ChannelApis() as apis, push:
        sending = channels.build(settings_for(apis, push, tmp_path))
        try:
            yield Wire(apis, push, sending)
        finally:
            await sending.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_page_is_delivered_to_the_contact(wire: Wire, kind: str) -> None:
    result = await wire.send(kind)
    assert (result.outcome, result.error) == ("delivered", None)
    (sent,) = wire.api(kind).to(kind)
    expected = {"signal": "+4917012345678", "telegram": "581234977", "ntfy": "lawyer-topic"}
    assert sent.to == expected.get(kind, "+4917012345678")
    if kind == "sms":
        assert sent.text == "Lifeline: an alert needs you — open the console"
        assert sent.body["from"] == "Lifeline"
    else:
        assert "a-1" in sent.text and "https://alerts.example/v1/alerts/a-1" in sent.text


async def test_a_username_is_a_signal_recipient_and_russian_is_the_lawyers(wire: Wire) -> None:
    await wire.send("signal", replace(VIEW, language="ru"), address="anna.42")
    await wire.send("sms", replace(VIEW, language="ru"))
    signal, sms = wire.apis.sent
    assert signal.body["recipients"] == ["u:anna.42"]
    assert signal.text.startswith("Оповещение Lifeline — требуются действия")
    assert sms.text == "Lifeline: вас ждёт оповещение — откройте консоль"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_trouble_is_retried(wire: Wire, kind: str, status: int) -> None:
    wire.api(kind).fail(kind, Failure(status, {"error": "try later"}))
    result = await wire.send(kind)
    assert (result.outcome, result.http_status) == ("retry", status)
    assert (await wire.send(kind)).outcome == "delivered"  # the next attempt goes through


@pytest.mark.parametrize("kind", KINDS)
async def test_a_rate_limit_is_retried_no_sooner_than_asked(wire: Wire, kind: str) -> None:
    wire.api(kind).fail(kind, Failure(429, {"error": "slow down"}, {"retry-after": "17"}))
    result = await wire.send(kind)
    assert (result.outcome, result.http_status, result.retry_after) == ("retry", 429, 17.0)


async def test_telegrams_retry_after_in_the_body_is_honoured(wire: Wire) -> None:
    body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 23",
            "parameters": {"retry_after": 23}}  # fmt: skip
    wire.apis.fail("telegram", Failure(429, body))
    result = await wire.send("telegram")
    assert (result.outcome, result.retry_after) == ("retry", 23)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_timeout_is_retried(wire: Wire, kind: str) -> None:
    wire.api(kind).fail(kind, Failure(200, {}, delay=1.5))  # answers after the 0.5 s timeout
    result = await wire.send(kind)
    assert (result.outcome, result.error) == ("retry", "ReadTimeout")


@pytest.mark.parametrize("kind", KINDS)
async def test_a_dead_endpoint_is_retried(wire: Wire, kind: str) -> None:
    await wire.api(kind).stop()
    result = await wire.send(kind)
    assert result.outcome == "retry" and result.error == "ConnectError"


@pytest.mark.parametrize(
    ("kind", "status", "body", "error"),
    [
        ("signal", 400, {"error": "Failed to send message: Unregistered user"}, "signal_400"),
        ("telegram", 403, {"ok": False, "error_code": 403,
                           "description": "Forbidden: bot was blocked by the user"},
         "telegram_403"),
        ("telegram", 400, {"ok": False, "error_code": 400,
                           "description": "Bad Request: chat not found"}, "telegram_400"),
        ("ntfy", 403, {"code": 40301, "http": 403, "error": "forbidden"}, "ntfy_403"),
        ("ntfy", 413, {"code": 41301, "http": 413, "error": "too large"}, "ntfy_413"),
        ("sms", 400, {"code": "syntax_invalid_parameter_format", "text": "bad to"}, "sms_400"),
    ],
)  # fmt: skip
async def test_a_refused_recipient_or_message_fails_for_good(
    wire: Wire, kind: str, status: int, body: dict[str, Any], error: str
) -> None:
    wire.api(kind).fail(kind, Failure(status, body))
    result = await wire.send(kind)
    assert (result.outcome, result.http_status, result.error) == ("failed", status, error)


@pytest.mark.parametrize("kind", ["signal", "telegram", "sms"])
async def test_the_operators_own_misconfiguration_is_retried(wire: Wire, kind: str) -> None:
    # A wrong proxy password, bot token or gateway token: the operator can fix it.
    wire.api(kind).fail(kind, Failure(401, {"error": "unauthorized"}))
    assert (await wire.send(kind)).outcome == "retry"


async def test_an_unconfigured_channel_says_so(tmp_path: Path) -> None:
    sending = channels.build(AlertsSettings(data_dir=tmp_path, telegram_api_url="http://x"))
    try:
        for kind in ("signal", "telegram", "sms"):
            channel = sending.get(kind)
            assert channel is not None
            message = Outgoing("d-1", ADDRESSES[kind], None, None, VIEW)
            result = await channel.send(message, datetime.now(UTC))
            assert (result.outcome, result.error) == ("retry", f"{kind}_not_configured")
    finally:
        await sending.aclose()


async def test_a_protected_topic_gets_the_token_and_a_wrong_one_is_refused(wire: Wire) -> None:
    wire.push.topic_tokens["lawyer-topic"] = NTFY_TOKEN
    assert (await wire.send("ntfy", secret=NTFY_TOKEN)).outcome == "delivered"
    refused = await wire.send("ntfy", secret="tk_somebodyelsestoken00000000")
    assert (refused.outcome, refused.error) == ("failed", "ntfy_403")
    assert (await wire.send("ntfy")).outcome == "failed"  # no token at all


async def test_a_lawyers_own_ntfy_server_follows_the_webhook_rules(wire: Wire) -> None:
    ntfy = wire.channel("ntfy")
    # Not on the allow-list: a private address is refused before connecting.
    result = await wire.send("ntfy", address="https://localhost:9/lawyer-topic")
    assert (result.outcome, result.error) == ("retry", "target_unreachable")
    assert not ntfy.acts_for("https://ntfy.example.org/t", NTFY_TOKEN)
    assert ntfy.acts_for(f"{wire.push.url}/lawyer-topic", NTFY_TOKEN)
    assert not ntfy.acts_for(f"{wire.push.url}/lawyer-topic", None)  # an open topic


@pytest.mark.parametrize("kind", ["alert", "escalation", "update", "followup"])
async def test_a_push_about_an_alert_opens_it(wire: Wire, kind: str) -> None:
    # No ack link in these views: the button opens the alert in the console (sign-in link).
    await wire.send("ntfy", replace(VIEW, kind=kind, ack_url=None))
    (push,) = wire.push.to("ntfy")
    (action,) = push.body["actions"]
    assert (action["action"], action["url"]) == ("view", VIEW.alert_url)
