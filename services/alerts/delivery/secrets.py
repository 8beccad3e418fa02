"""Contacts' signing secrets at rest: AES-256-GCM, each bound to the contact it belongs to."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto.encoding import encode_context
from libs.common.errors import LifelineError

_NONCE = 12


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
