"""The alerts service's own secrets: webhook secrets encrypted at rest, and signed ack links."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto.encoding import b64u_decode, b64u_encode, encode_context
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidInput, LifelineError
from libs.common.secretfile import create_private, read_private

_NONCE = 12


def load_or_create_key(path: Path) -> bytes:
    """A 32-byte key kept in a 0600 file; the first replica to start creates it."""
    create_private(path, secrets.token_bytes(32))
    key = read_private(path)
    if len(key) != 32:
        raise ValueError(f"{path} does not hold a 32-byte key")
    return key


@dataclass(frozen=True)
class SecretBox:
    """AES-256-GCM for webhook signing secrets, bound to the contact they belong to."""

    key: bytes = field(repr=False)

    def seal(self, contact_id: str, secret: str) -> bytes:
        """Encrypt a secret for storage in the contact's row."""
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.key).encrypt(nonce, secret.encode(), self._ad(contact_id))

    def open(self, contact_id: str, blob: bytes) -> str:
        """Decrypt a stored secret; a blob copied to another contact fails."""
        try:
            plain = AESGCM(self.key).decrypt(blob[:_NONCE], blob[_NONCE:], self._ad(contact_id))
        except (InvalidTag, ValueError):
            raise LifelineError("webhook secret cannot be decrypted") from None
        return plain.decode()

    @staticmethod
    def _ad(contact_id: str) -> bytes:
        return encode_context("lifeline-alerts/webhook-secret", contact=contact_id)


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
