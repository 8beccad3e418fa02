"""Telegram through the bot API (`sendMessage`): the minimum, like plain email.

Telegram's cloud chats are not end-to-end encrypted (Telegram's servers read them, and bots
cannot use secret chats): no label, match, basis or place, no link that acts. The bot token is
read from a file and lives only in the request path, which is never logged.
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
    read_secret,
    verdict,
)
from services.alerts.settings import AlertsSettings

KIND: Final = "telegram"
# A chat id (negative for groups) or a public channel's @username.
_CHAT: Final = re.compile(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}")
# 400 "chat not found", 403 "bot was blocked by the user": that chat will not take it. 401 and
# 404 mean the bot token or the API base is wrong: the operator's to fix, so retried.
_PERMANENT: Final = frozenset({400, 403})


def _verdict(resp: httpx.Response, now: datetime) -> SendResult:
    result = verdict(resp, now, permanent=_PERMANENT, prefix="telegram")
    if resp.status_code == 429 and result.retry_after is None:
        # The bot API says when in its body: `{"parameters": {"retry_after": 17}}`.
        try:
            after = resp.json().get("parameters", {}).get("retry_after")
        except ValueError:
            after = None
        if isinstance(after, int | float):
            return SendResult("retry", http_status=429, error=result.error, retry_after=after)
    return result


class TelegramChannel(NoSecret):
    """Telegram: alert id, priority and sign-in links; never details, never an ack link."""

    kind = KIND
    accepts: frozenset[str] = frozenset()
    carries_details = False
    encrypts_with_pgp_key = False
    carries_action_links = False

    def __init__(self, poster: Poster, *, api_url: str, token: str, timeout_s: float) -> None:
        self.poster = poster
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.timeout_s = timeout_s

    def parse_address(self, address: str) -> str:
        """A chat id or an @channel."""
        if not _CHAT.fullmatch(address):
            raise ValueError("a Telegram chat id (digits) or a public @channel")
        return address

    def check(self, contact: ContactSpec) -> None:
        """Any chat may be saved; the bot must have been started there to reach it."""

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        """POST `sendMessage`; the bot API answers 200 `{"ok": true}`."""
        if not self._token:
            return SendResult("retry", error="telegram_not_configured")
        body = {
            "chat_id": message.address,
            "text": chat_text(message.view, details=self.carries_details),
            "link_preview_options": {"is_disabled": True},  # no fetch of the link by Telegram
        }
        return await self.poster.post(
            f"{self.api_url}/bot{self._token}/sendMessage",
            delivery_id=message.delivery_id,
            now=now,
            verdict=_verdict,
            trusted=True,  # the operator's configuration (api.telegram.org or its proxy)
            content=json_bytes(body),
            headers=JSON,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.poster.aclose()


def from_settings(settings: AlertsSettings) -> TelegramChannel:
    """The Telegram channel with the bot token of `TELEGRAM_BOT_TOKEN_FILE`."""
    timeout = settings.telegram_timeout_s
    return TelegramChannel(
        Poster(client(timeout), allow_private=True),
        api_url=settings.telegram_api_url,
        token=read_secret(settings.telegram_bot_token_file),
        timeout_s=timeout,  # as the webhook counts: its connect is in its timeout
    )
