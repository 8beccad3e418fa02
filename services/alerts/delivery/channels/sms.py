"""SMS through the operator's HTTP gateway: a content-free ping, nothing more.

An SMS is read by the operators of every network on its way and kept by the phone company:
it says only that an alert needs the lawyer ("open the console"), in their language — no
alert id, no label, no link. The gateway is spoken to in Sinch's batch shape
(`POST {SMS_GATEWAY_URL}` with `Authorization: Bearer …` and `{"from", "to": [...], "body"}`,
answered 201), which Sinch's XMS API takes as is and a small relay can map to any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import httpx

from services.alerts.delivery.domain import ContactSpec, Outgoing, SendResult
from services.alerts.delivery.messages.mail import ping_text
from services.alerts.delivery.outbound import (
    JSON,
    NoSecret,
    Poster,
    client,
    json_bytes,
    read_secret,
    valid_phone,
    verdict,
)
from services.alerts.settings import AlertsSettings

KIND: Final = "sms"
# 400: the gateway refused the number or the message; 401/403 are the operator's token.
_PERMANENT: Final = frozenset({400})


def _verdict(resp: httpx.Response, now: datetime) -> SendResult:
    return verdict(resp, now, permanent=_PERMANENT, prefix="sms")


class SmsChannel(NoSecret):
    """SMS: a ping that something needs the lawyer, in their language; nothing about it."""

    kind = KIND
    accepts: frozenset[str] = frozenset()
    carries_details = False
    encrypts_with_pgp_key = False
    carries_action_links = False

    def __init__(
        self, poster: Poster, *, url: str, token: str, sender: str, timeout_s: float
    ) -> None:
        self.poster = poster
        self.url = url
        self._token = token
        self.sender = sender
        self.timeout_s = timeout_s

    def parse_address(self, address: str) -> str:
        """A phone number in E.164 form."""
        return valid_phone(address)

    def check(self, contact: ContactSpec) -> None:
        """Any number may be saved."""

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        """POST one batch of one message."""
        if not self.url:
            return SendResult("retry", error="sms_not_configured")
        body = {"from": self.sender, "to": [message.address], "body": ping_text(message.view)}
        headers = JSON | ({"authorization": f"Bearer {self._token}"} if self._token else {})
        return await self.poster.post(
            self.url,
            delivery_id=message.delivery_id,
            now=now,
            verdict=_verdict,
            trusted=True,  # the operator's gateway
            content=json_bytes(body),
            headers=headers,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.poster.aclose()


def from_settings(settings: AlertsSettings) -> SmsChannel:
    """The SMS channel through `SMS_GATEWAY_URL` with the token of `SMS_TOKEN_FILE`."""
    timeout = settings.sms_timeout_s
    return SmsChannel(
        Poster(client(timeout), allow_private=True),
        url=settings.sms_gateway_url,
        token=read_secret(settings.sms_token_file),
        sender=settings.sms_sender,
        timeout_s=timeout,  # as the webhook counts: its connect is in its timeout
    )
