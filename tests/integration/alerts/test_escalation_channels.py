"""An escalation step reaches backups on every channel, not only on a webhook: each channel
renders a page of any step (an escalation step's texts once crashed email and the chat channels,
whose sends were then retried until they gave up: the backups were never told)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from libs.common.clock import FakeClock
from tests.integration.alerts.conftest import ORG_ADMIN, alerts_stack_on
from tests.integration.alerts.support import receiver, report_event, tokens_for, until
from tests.integration.alerts.test_escalation import SPAN, _minutes_pass, _watch
from tests.support.channel_apis import BOT_TOKEN, SIGNAL_NUMBER, SMS_TOKEN, ChannelApis
from tests.support.natsd import NatsServer
from tests.support.tls import self_signed

NTFY_TOKEN = "tk_canaryntfyaccesstoken0000002"  # a test's
BACKUPS: list[dict[str, Any]] = [
    {"channel": "signal", "address": "+4917011111111"},
    {"channel": "telegram", "address": "581234978"},
    {"channel": "sms", "address": "+4917022222222"},
    {"channel": "email", "address": "backup@bar.example"},
]


async def test_an_escalation_step_reaches_backups_on_every_channel(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    (tmp_path / "bot").write_text(BOT_TOKEN)
    (tmp_path / "sms").write_text(SMS_TOKEN)
    cert, key = self_signed("127.0.0.1", tmp_path)
    push = ChannelApis(tls=(cert, key), topic_tokens={"backup-topic": NTFY_TOKEN})
    async with ChannelApis() as apis, push, receiver() as hook:
        channels = {
            "signal_api_url": apis.url,
            "signal_number": SIGNAL_NUMBER,
            "telegram_api_url": apis.url,
            "telegram_bot_token_file": tmp_path / "bot",
            "sms_gateway_url": apis.sms_url,
            "sms_token_file": tmp_path / "sms",
            "ntfy_servers": push.url,
            "ntfy_ca_file": cert,
        }
        async with alerts_stack_on(
            nats_server.url,
            db_url_factory("alerts"),
            tmp_path,
            clock=FakeClock(datetime.now(UTC) - SPAN / 2),
            delivery_lease_s=SPAN.total_seconds(),
            **channels,
        ) as stack:
            ntfy = {"channel": "ntfy", "address": f"{push.url}/backup-topic", "secret": NTFY_TOKEN}
            profile = {"webhook": {"url": hook.url}, "backup_contacts": [*BACKUPS, ntfy]}
            resp = await stack.call("PUT", "/v1/lawyer/profile", json=profile)
            assert resp.status_code == 200, resp.text
            hook.secret = next(iter(resp.json()["new_secrets"].values()))
            timing = {"escalate_after_minutes": 1, "duty_after_minutes": 5,
                      "repeat_every_minutes": 5, "max_repeats": 0}  # fmt: skip
            resp = await stack.call("PUT", "/v1/organisation/escalation", json=timing, **ORG_ADMIN)
            assert resp.status_code == 200, resp.text
            await _watch(stack)
            await stack.publish(report_event(tokens_for("SKORIAKIN LEV", "14.03.1999")))
            assert await until(lambda: hook.alerts("alert.created"))
            await _minutes_pass(stack, 1)  # step 1: the backups

            for kind in ("signal", "telegram", "sms"):
                assert await until(lambda k=kind: apis.to(k)), f"step 1 never reached {kind}"
            assert await until(lambda: push.to("ntfy")), "step 1 never reached ntfy"
            assert await until(lambda: stack.mailbox.to("backup@bar.example"))
            alert_id = hook.alerts("alert.created")[0].payload["data"]["alert_id"]
            for kind in ("signal", "telegram"):
                (sent,) = apis.to(kind)
                assert alert_id in sent.text
            (sms,) = apis.to("sms")
            assert alert_id not in sms.text  # a ping says nothing about the alert
            (mail,) = stack.mailbox.to("backup@bar.example")
            assert alert_id in mail.get_payload(decode=True).decode()
