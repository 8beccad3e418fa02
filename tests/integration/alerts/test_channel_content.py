"""What each channel may carry holds on the wire: an alert full of canaries is sent through
every registered channel to a local receiver speaking its protocol, and a label, match, legal
basis, place or ack link that arrives where docs/alerts.md's table says `no` fails the test.

A channel added to the registry is covered at once: without a row in the table, or a
receiver here, the test fails until someone decides what it may carry.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pytest

from services.alerts.delivery import channels
from services.alerts.delivery.channels import Channels
from services.alerts.delivery.secrets import SecretBox
from services.alerts.settings import AlertsSettings
from tests.support.channel_apis import BOT_TOKEN, SIGNAL_NUMBER, SMS_TOKEN, ChannelApis
from tests.support.delivery import context_for, worker_for
from tests.support.receivers import Mailbox, Receiver, receiver, smtp_server

DOCS = Path(__file__).parents[3] / "docs" / "alerts.md"
CANARIES = {
    "label": "canary-label-3e1f",
    "reason": "canary-reason-77b2",
    "legal_basis": "canary-basis-0c4d",
    "country": "canary-country-9a6e",
    "facility_kind": "canary-facility-5d18",
    "occurred_at": "canary-when-2b7c",
}
ACK_PATH = "/v1/ack/"


def documented() -> dict[str, tuple[str, str]]:
    """docs/alerts.md §4: kind → (carries details, carries action links), first word of each."""
    rows: dict[str, tuple[str, str]] = {}
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("| channel | carries details |") :].split("\n\n")[0]
    for line in table.splitlines():
        match = re.match(r"\s*\| `([a-z]+)` \| (\w+)[^|]*\| (\w+)[^|]*\|", line)
        if match:
            rows[match[1]] = (match[2], match[3])
    return rows


@dataclass
class Wire:
    """The local receivers and what each channel's message looks like on arrival."""

    apis: ChannelApis
    hook: Receiver
    mailbox: Mailbox
    sending: Channels

    def endpoint(self, kind: str) -> tuple[str, str | None]:
        """(address, secret) of a contact of `kind` at its receiver."""
        known: dict[str, tuple[str, str | None]] = {
            "webhook": (self.hook.url, self.hook.secret),
            "email": ("lawyer@example.org", None),
            "signal": ("+4917012345678", None),
            "telegram": ("581234977", None),
            "ntfy": (f"{self.apis.url}/lawyer-topic", None),
            "sms": ("+4917012345678", None),
        }
        assert kind in known, f"no local receiver for the channel {kind!r}: add one here"
        return known[kind]

    def arrived(self, kind: str) -> str:
        """Everything the receiver of `kind` got, decoded, as one text."""
        readers: dict[str, Callable[[], str]] = {
            "webhook": lambda: json.dumps([h.payload for h in self.hook.seen], ensure_ascii=False),
            "email": lambda: "\n".join(_decoded(m) for m in self.mailbox.messages),
            **{
                api: lambda api=api: "\n".join(
                    s.raw.decode() + json.dumps(s.body, ensure_ascii=False)
                    for s in self.apis.seen
                    if s.api == api
                )
                for api in ("signal", "telegram", "ntfy", "sms")
            },
        }
        return readers[kind]()


def _decoded(message: Message) -> str:
    parts = [str(v) for v in message.values()]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(parts)


@pytest.fixture
async def wire(tmp_path: Path) -> AsyncIterator[Wire]:
    (tmp_path / "bot").write_text(BOT_TOKEN)
    (tmp_path / "sms").write_text(SMS_TOKEN)
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a test's
    async with ChannelApis() as apis, receiver(secret) as hook, smtp_server() as smtp:
        settings = AlertsSettings(
            data_dir=tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=smtp[1],
            smtp_tls="none",
            webhook_allow_private=True,
            signal_api_url=apis.url,
            signal_number=SIGNAL_NUMBER,
            telegram_api_url=apis.url,
            telegram_bot_token_file=tmp_path / "bot",
            sms_gateway_url=apis.sms_url,
            sms_token_file=tmp_path / "sms",
        )
        sending = channels.build(settings)
        try:
            yield Wire(apis, hook, smtp[0], sending)
        finally:
            await sending.aclose()


async def test_every_registered_channel_has_a_row_that_matches_its_properties(wire: Wire) -> None:
    rows = documented()
    assert set(rows) == set(channels.kinds())
    for channel in wire.sending:
        details, actions = rows[channel.kind]
        assert channel.carries_details == (details == "yes"), channel.kind
        assert channel.carries_action_links == (actions == "yes"), channel.kind


@pytest.mark.parametrize("kind", channels.kinds())
async def test_details_and_ack_links_reach_only_the_channels_that_may_carry_them(
    wire: Wire, kind: str
) -> None:
    details, actions = documented()[kind]
    box = SecretBox(os.urandom(32))
    address, secret = wire.endpoint(kind)
    sealed = None if secret is None else box.seal("c-1", secret)
    ctx = context_for(kind, address=address, secret=sealed, **CANARIES)
    # Now, not the helpers' fixed time: a webhook receiver refuses a stale signature.
    result = await worker_for(wire.sending, box).send(ctx, datetime.now(UTC))
    assert result.outcome == "delivered", result
    text = wire.arrived(kind)
    assert "a-1" in text or kind == "sms"  # it arrived (an SMS names no alert)
    leaked = [name for name, canary in CANARIES.items() if canary in text]
    if details == "yes":
        assert leaked == list(CANARIES), f"{kind} lost details it may carry"
    else:
        assert leaked == [], f"{kind} carried {leaked}, which it may not"
    assert (ACK_PATH in text) == (actions == "yes"), f"{kind}: ack link on the wire"
