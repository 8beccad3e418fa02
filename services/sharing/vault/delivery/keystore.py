"""Sharing's Ed25519 key that signs sealed deliveries: a 0600 key file, created on first run.

File: ``{"format": "lifeline-delivery-signing/v1", "keys": [{"private_key", "created_at"}]}``;
the first key signs, every key is published. Re-read whenever the file changed.
"""

from __future__ import annotations

from pathlib import Path

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.signing_file import SigningKeyFile

FORMAT = "lifeline-delivery-signing/v1"


class DeliverySigner(SigningKeyFile):
    """The keys that sign sealed deliveries, as the key file holds them now."""

    @classmethod
    def open(cls, path: Path, *, clock: Clock = SYSTEM_CLOCK) -> DeliverySigner:
        """Load the key file, creating it with one fresh key if it does not exist."""
        return cls(path, format=FORMAT, clock=clock)
