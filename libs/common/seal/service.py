"""Unsealing one running service: a passphrase, or SLIP-39 shares one at a time (Vault's model)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from libs.common.errors import LifelineError
from libs.common.ratelimit import RateLimiter
from libs.common.seal import root as seal_root
from libs.common.seal.domain import (
    UnsealError,
    combine_shares,
    matches,
    read_share,
    unwrap_with_passphrase,
)
from libs.common.seal.sealfile import SealDocument

log = logging.getLogger(__name__)

# Attempts on the unseal endpoint, for every caller together (an attacker changes address):
# a few at once, then one every 5 s. Each passphrase attempt also costs an Argon2id run.
UNSEAL_BURST = 10
UNSEAL_RATE = 0.2


class UnsealRefused(LifelineError):
    """A wrong passphrase, an invalid share, or shares that do not open this seal (400)."""

    status = 400
    code = "unseal_refused"


class Sealed(LifelineError):
    """The service holds no root key yet: it answers nothing but its seal status (503)."""

    status = 503
    code = "sealed"

    def __init__(self) -> None:
        super().__init__("the service is sealed: unseal it with `lifeline unseal`")


@dataclass(frozen=True)
class SealStatus:
    """What `GET /v1/sys/seal-status` answers."""

    sealed: bool
    methods: list[str]
    threshold: int
    progress: int

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        return {
            "sealed": self.sealed,
            "methods": self.methods,
            "threshold": self.threshold,
            "progress": self.progress,
        }


class Unsealer:
    """Holds the shares given so far; on success puts the root key in this process's hands."""

    def __init__(self, document: SealDocument) -> None:
        self.document = document
        self.unsealed = asyncio.Event()
        self._shares: dict[int, str] = {}
        self._limiter = RateLimiter(UNSEAL_BURST, UNSEAL_RATE, name="unseal")
        self._lock = asyncio.Lock()

    def status(self) -> SealStatus:
        """Sealed or not, and how many shares of how many are in."""
        threshold = self.document.shares["threshold"] if self.document.shares else 0
        return SealStatus(
            not self.unsealed.is_set(), self.document.methods, threshold, len(self._shares)
        )

    def accept_root(self, root: bytes) -> None:
        """Unseal with a root key from elsewhere (the development file), if it is this seal's."""
        if not matches(root, self.document.check):
            raise UnsealRefused("this root key does not open this seal")
        seal_root.activate(root)
        self._shares.clear()
        self.unsealed.set()

    async def with_passphrase(self, passphrase: str) -> SealStatus:
        """Unseal with the operator's passphrase."""
        if self.document.passphrase is None:
            raise UnsealRefused("this seal has no passphrase; unseal with shares")
        self._throttle()
        async with self._lock:
            if self.unsealed.is_set():
                return self.status()
            try:
                # Argon2id takes a good part of a second: keep the event loop free meanwhile.
                root = await asyncio.to_thread(
                    unwrap_with_passphrase, self.document.passphrase, passphrase
                )
            except UnsealError:
                log.warning("unseal refused", extra={"reason": "wrong_passphrase"})
                raise UnsealRefused("wrong passphrase; the service stays sealed") from None
            self.accept_root(root)
            log.info("unsealed", extra={"reason": "passphrase"})
            return self.status()

    async def with_share(self, mnemonic: str) -> SealStatus:
        """Add one trustee's share; the threshold-th valid share unseals."""
        share_set = self.document.shares
        if share_set is None:
            raise UnsealRefused("this seal has no shares; unseal with the passphrase")
        self._throttle()
        async with self._lock:
            if self.unsealed.is_set():
                return self.status()
            try:
                info = read_share(mnemonic)
            except UnsealError as exc:
                raise UnsealRefused(f"{exc}; the service stays sealed") from None
            if info.identifier != share_set["identifier"]:
                raise UnsealRefused("this share belongs to another share set; still sealed")
            self._shares[info.index] = mnemonic
            if len(self._shares) < share_set["threshold"]:
                return self.status()
            given, self._shares = list(self._shares.values()), {}
            try:
                root: bytes | None = combine_shares(given)
            except UnsealError:
                root = None
            if root is None or not matches(root, self.document.check):
                log.warning("unseal refused", extra={"reason": "wrong_shares"})
                raise UnsealRefused(
                    "these shares do not open this seal; start again (the service stays sealed)"
                )
            self.accept_root(root)
            log.info("unsealed", extra={"reason": "shares"})
            return self.status()

    def reset(self) -> SealStatus:
        """Forget the shares given so far."""
        self._shares.clear()
        return self.status()

    def _throttle(self) -> None:
        self._limiter.check("unseal", time.monotonic())
