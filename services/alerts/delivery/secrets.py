"""Secrets at rest: contacts' signing secrets and lawyers' resolution notes, AES-256-GCM, each
bound to the row it belongs to."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto.encoding import encode_context
from libs.common.errors import LifelineError

_NONCE = 12
_WEBHOOKS = "lifeline-alerts/webhook-secret"
_NOTE = "lifeline-alerts/resolution-note"


@dataclass(frozen=True)
class SecretBox:
    """AES-256-GCM for webhook signing secrets and notes, bound to what they belong to."""

    key: bytes = field(repr=False)

    def seal(self, contact_id: str, secret: str) -> bytes:
        """Encrypt a secret for storage in the contact's row."""
        return self._seal(_WEBHOOKS, contact_id, secret)

    def open(self, contact_id: str, blob: bytes) -> str:
        """Decrypt a stored secret; a blob copied to another contact fails."""
        return self._open(_WEBHOOKS, contact_id, blob)

    def seal_note(self, alert_id: str, note: str) -> bytes:
        """Encrypt a resolution note for the alert's row (it may name people)."""
        return self._seal(_NOTE, alert_id, note)

    def open_note(self, alert_id: str, blob: bytes) -> str:
        """Decrypt a stored note; a blob copied to another alert (or from a secret) fails."""
        return self._open(_NOTE, alert_id, blob)

    def _seal(self, purpose: str, owner: str, plain: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.key).encrypt(nonce, plain.encode(), self._ad(purpose, owner))

    def _open(self, purpose: str, owner: str, blob: bytes) -> str:
        try:
            plain = AESGCM(self.key).decrypt(blob[:_NONCE], blob[_NONCE:], self._ad(purpose, owner))
        except (InvalidTag, ValueError):
            raise LifelineError(f"{purpose.rsplit('/', 1)[-1]} cannot be decrypted") from None
        return plain.decode()

    @staticmethod
    def _ad(purpose: str, owner: str) -> bytes:
        # The contact id keeps its name in the secrets' context: stored secrets still open.
        key = "contact" if purpose == _WEBHOOKS else "alert"
        return encode_context(purpose, **{key: owner})
