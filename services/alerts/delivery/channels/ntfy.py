"""Push through an ntfy server (JSON publish), with an acknowledge button where it is safe.

ntfy is not end-to-end encrypted: the server, and anyone who may subscribe to the topic, reads
every message. So no label, match, basis or place travels. The acknowledge button (an ntfy
`http` action: the phone POSTs the signed ack link, which acknowledges at once, no browser) is
a link that acts as the lawyer, and travels only where the operator vouches for the path:
the server is on the operator's allow-list (`NTFY_SERVERS`: part of the deployment, as trusted
as the alerts service), reached over https, and the topic is protected by the contact's access
token (only the lawyer's subscribed phone reads it). Anywhere else the message has an "Open"
button to the sign-in link instead.
"""

from __future__ import annotations

import re
import ssl
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from services.alerts.delivery.channels.webhook import check_url
from services.alerts.delivery.domain import PAGE_KINDS, SECRET, ContactSpec, Outgoing, SendResult
from services.alerts.delivery.messages import text
from services.alerts.delivery.messages.mail import chat_text, email_subject
from services.alerts.delivery.outbound import (
    JSON,
    MAX_ADDRESSES,
    Poster,
    client,
    json_bytes,
    verdict,
)
from services.alerts.delivery.pools import PinnedPools
from services.alerts.settings import AlertsSettings

KIND: Final = "ntfy"
_TOPIC: Final = re.compile(r"[-_A-Za-z0-9]{1,64}")
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{8,128}")  # ntfy's are `tk_` and 29 characters
# 400 a malformed publish; 401/403 the token does not open the topic (the lawyer's to fix, by
# saving a new one); 413 too large. 429 and 507 (quota) are retried.
_PERMANENT: Final = frozenset({400, 401, 403, 404, 413})
_LINKED: Final = (*PAGE_KINDS, "update", "followup")  # a withdrawal links nowhere, a test neither


def split_address(address: str) -> tuple[str, str]:
    """(server base URL, topic) of `https://ntfy.example.org/topic`."""
    parts = urlsplit(address)
    base, _, topic = address.rstrip("/").rpartition("/")
    if parts.scheme not in {"http", "https"} or not parts.hostname or not _TOPIC.fullmatch(topic):
        raise ValueError("an ntfy topic URL, e.g. https://ntfy.example.org/my-topic")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("no credentials, query or fragment in the topic URL")
    return base, topic


def _verdict(resp: httpx.Response, now: datetime) -> SendResult:
    return verdict(resp, now, permanent=_PERMANENT, prefix="ntfy")


class NtfyChannel:
    """ntfy push: alert id, priority, sign-in links; an acknowledge button only on a path the
    operator vouches for."""

    kind = KIND
    accepts = frozenset({SECRET})
    carries_details = False
    encrypts_with_pgp_key = False
    carries_action_links = False  # per contact: `acts_for`

    def __init__(self, poster: Poster, *, trusted: tuple[str, ...], timeout_s: float) -> None:
        self.poster = poster
        self.trusted = frozenset(trusted)
        self.timeout_s = timeout_s

    def is_trusted(self, address: str) -> bool:
        """Whether the topic's server is on the operator's allow-list."""
        return split_address(address)[0] in self.trusted

    def parse_address(self, address: str) -> str:
        """An ntfy topic URL (server and topic)."""
        split_address(address)
        return address.rstrip("/")

    def parse_secret(self, secret: str) -> str:
        """An ntfy access token (sent as a bearer token)."""
        if not _TOKEN.fullmatch(secret):
            raise ValueError("an ntfy access token (tk_…)")
        return secret

    def acts_for(self, address: str, secret: str | None) -> bool:
        """An allow-listed https server and a token-protected topic (see the module's doc)."""
        return bool(secret) and address.startswith("https://") and self.is_trusted(address)

    def check(self, contact: ContactSpec) -> None:
        """A server the operator did not allow-list follows the webhook's target rules."""
        if not self.is_trusted(contact.address):
            check_url(contact.address, self.poster.allow_private, what="ntfy")

    def new_secret(self) -> str | None:
        """The token is the lawyer's, made on their ntfy server: nothing generated here."""
        return None

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        """Publish JSON to the server's root; 200 is delivered."""
        base, topic = split_address(message.address)
        view = message.view
        action: dict[str, Any] = {"action": "view", "label": text(view.language, "push.open"),
                                  "url": view.alert_url}  # fmt: skip
        if view.ack_url:
            # The worker made a link only where `acts_for` said so: POST it, clear the note.
            action = {"action": "http", "label": text(view.language, "push.ack"),
                      "url": view.ack_url, "method": "POST", "clear": True}  # fmt: skip
        body: dict[str, Any] = {
            "topic": topic,
            "title": email_subject(view),
            "message": chat_text(view, details=self.carries_details),
            # ntfy's 5 breaks through Do Not Disturb on Android: highest pages only; notices 3.
            "priority": (5 if view.priority == "highest" else 4) if view.kind in PAGE_KINDS else 3,
            "tags": ["rotating_light"],
        }
        if view.kind in _LINKED:
            body["actions"] = [action]
        headers = JSON | ({"authorization": f"Bearer {message.secret}"} if message.secret else {})
        return await self.poster.post(
            base + "/",
            delivery_id=message.delivery_id,
            now=now,
            verdict=_verdict,
            trusted=base in self.trusted,
            content=json_bytes(body),
            headers=headers,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.poster.aclose()


def from_settings(settings: AlertsSettings) -> NtfyChannel:
    """The ntfy channel; `NTFY_CA_FILE` is trusted besides the system's CAs."""
    timeout = settings.ntfy_timeout_s
    verify: ssl.SSLContext | bool = True
    if settings.ntfy_ca_file is not None:
        verify = ssl.create_default_context(cafile=str(settings.ntfy_ca_file))
    trust = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context()
    poster = Poster(
        client(timeout, verify),
        allow_private=settings.webhook_allow_private,
        pools=PinnedPools(lambda: client(timeout, trust)),  # a lawyer's own server: pinned
    )
    # A lawyer's server may need one connect timeout per dead address first, like a webhook.
    return NtfyChannel(
        poster,
        trusted=settings.trusted_ntfy_servers(),
        timeout_s=(MAX_ADDRESSES - 1) * min(2.0, timeout) + timeout,
    )
