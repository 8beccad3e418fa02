"""Signal through the operator's signal-cli REST API (bbernhard/signal-cli-rest-api `v2/send`).

The signal-cli host is part of the operator's deployment, like the alerts service itself, and
from it the message is end-to-end encrypted to the lawyer's devices: nobody between reads it.
So a Signal message carries the details and the ack link, like OpenPGP mail.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

import httpx

from services.alerts.delivery.domain import ContactSpec, Outgoing, SendResult
from services.alerts.delivery.messages.mail import chat_text
from services.alerts.delivery.outbound import (
    JSON,
    NoSecret,
    Poster,
    client,
    json_bytes,
    valid_phone,
    verdict,
)
from services.alerts.settings import AlertsSettings

KIND: Final = "signal"
# Signal usernames are a nickname and a numeric discriminator (`anna.42`).
_USERNAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,31}\.[0-9]{2,9}")
# 400: signal-cli refused this recipient or message (unregistered number, say); another try
# cannot help. 401/403/404 are the operator's proxy or URL: fixable, so retried.
_PERMANENT: Final = frozenset({400})


def valid_signal_address(value: str) -> str:
    """A phone number in E.164 form or a Signal username (`name.NN`)."""
    if _USERNAME.fullmatch(value):
        return value
    try:
        return valid_phone(value)
    except ValueError:
        raise ValueError("a phone number in E.164 form or a Signal username (name.42)") from None


def recipient(address: str) -> str:
    """signal-cli's spelling of a recipient: a number as is, a username as `u:name.42`."""
    return address if address.startswith("+") else f"u:{address}"


def _verdict(resp: httpx.Response, now: datetime) -> SendResult:
    return verdict(resp, now, permanent=_PERMANENT, prefix="signal")


class SignalChannel(NoSecret):
    """Signal: every detail and the ack link (end-to-end encrypted from the operator's host)."""

    kind = KIND
    accepts: frozenset[str] = frozenset()
    carries_details = True
    encrypts_with_pgp_key = False
    carries_action_links = True

    def __init__(self, poster: Poster, *, api_url: str, number: str, timeout_s: float) -> None:
        self.poster = poster
        self.api_url = api_url.rstrip("/")
        self.number = number
        self.timeout_s = timeout_s

    def parse_address(self, address: str) -> str:
        """A phone number (E.164) or a Signal username."""
        return valid_signal_address(address)

    def check(self, contact: ContactSpec) -> None:
        """Any number may be saved; an unconfigured deployment fails at sending, on record."""

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        """POST `{base}/v2/send`; 201 is delivered."""
        if not (self.api_url and self.number):
            return SendResult("retry", error="signal_not_configured")
        body = {
            "message": chat_text(message.view, details=self.carries_details),
            "number": self.number,
            "recipients": [recipient(message.address)],
        }
        return await self.poster.post(
            f"{self.api_url}/v2/send",
            delivery_id=message.delivery_id,
            now=now,
            verdict=_verdict,
            trusted=True,  # the operator's own signal-cli, often on a private address
            content=json_bytes(body),
            headers=JSON,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.poster.aclose()


def from_settings(settings: AlertsSettings) -> SignalChannel:
    """The Signal channel through `SIGNAL_API_URL` as `SIGNAL_NUMBER`."""
    timeout = settings.signal_timeout_s
    poster = Poster(client(timeout), allow_private=True)
    return SignalChannel(
        poster,
        api_url=settings.signal_api_url,
        number=settings.signal_number,
        timeout_s=timeout,  # as the webhook counts: its connect is in its timeout
    )
