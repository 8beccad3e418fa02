"""Signed, single-use, short-lived acknowledgement links, sent only where they are end-to-end
encrypted to their recipient (`delivery.channels.may_carry_action_links`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidInput, LifelineError
from services.alerts.alerts.link_keys import LinkKeys

_VERSION = "2"


class LinkExpired(LifelineError):
    """An ack link past its expiry (410): the lawyer acks in the app or with the CLI instead."""

    status = 410
    code = "link_expired"


class LinkUsed(LifelineError):
    """An ack link that acknowledged once already (409): a link acts once."""

    status = 409
    code = "link_used"


@dataclass(frozen=True)
class AckLink:
    """What a genuine, unexpired link names."""

    link_id: str
    alert_id: str
    contact_id: str
    expires: int


@dataclass(frozen=True)
class AckLinks:
    """Tokens `<payload>.<mac>` in base64url; the payload names its key id and its own id."""

    keys: LinkKeys
    ttl_s: int

    def make(self, alert_id: str, contact_id: str, now: float) -> str:
        """A token naming the alert and the contact it was sent to, valid for `ttl_s`."""
        key = self.keys.current(now)
        link_id = secrets.token_hex(16)  # what single use is recorded by
        expires = int(now) + self.ttl_s
        payload = f"{_VERSION}|{key.id}|{link_id}|{alert_id}|{contact_id}|{expires}".encode()
        return f"{b64u_encode(payload)}.{b64u_encode(_mac(key.key, payload))}"

    def verify(self, token: str, now: float) -> AckLink:
        """The link of a genuine, unexpired token; InvalidInput or LinkExpired."""
        invalid = InvalidInput("this link is not valid")
        try:
            head, _, tail = token.partition(".")
            payload, mac = b64u_decode(head), b64u_decode(tail)
            version, key_id, link_id, alert_id, contact_id, expires = payload.decode().split("|")
            key = self.keys.get(int(key_id))
            expiry = int(expires)
        except (InvalidKey, ValueError):
            raise invalid from None
        # A retired key (dropped from the ring) or another key's MAC: the same answer.
        if (
            version != _VERSION
            or key is None
            or not hmac.compare_digest(mac, _mac(key.key, payload))
        ):
            raise invalid
        if expiry < now:
            raise LinkExpired("this link has expired")
        return AckLink(link_id, alert_id, contact_id, expiry)


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"lifeline-alerts/ack-link\0" + payload, hashlib.sha256).digest()
