"""Signed, expiring acknowledgement links: what lets a contact ack from an email or a webhook."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidInput, LifelineError


class LinkExpired(LifelineError):
    """An ack link past its expiry (410): the lawyer acks in the app or with the CLI instead."""

    status = 410
    code = "link_expired"


@dataclass(frozen=True)
class AckLinks:
    """Signed, expiring acknowledgement links: `<payload>.<mac>` in base64url."""

    key: bytes = field(repr=False)
    ttl_s: int

    def make(self, alert_id: str, contact_id: str, now: float) -> str:
        """A token naming the alert and the contact it was sent to, valid for `ttl_s`."""
        payload = f"{alert_id}|{contact_id}|{int(now) + self.ttl_s}".encode()
        return f"{b64u_encode(payload)}.{b64u_encode(self._mac(payload))}"

    def verify(self, token: str, now: float) -> tuple[str, str]:
        """(alert id, contact id) of a genuine, unexpired token; InvalidInput or LinkExpired."""
        try:
            head, _, tail = token.partition(".")
            payload, mac = b64u_decode(head), b64u_decode(tail)
        except (InvalidKey, ValueError):
            raise InvalidInput("this link is not valid") from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidInput("this link is not valid")
        alert_id, contact_id, expires = payload.decode().split("|")
        if int(expires) < now:
            raise LinkExpired("this link has expired")
        return alert_id, contact_id

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, b"lifeline-alerts/ack-link\0" + payload, hashlib.sha256).digest()
