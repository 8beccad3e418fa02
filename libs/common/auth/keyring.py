"""Sharing's own access-token signing keys: generate, publish, rotate, retire."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.jwk import ed25519_public_jwk, ed25519_thumbprint
from libs.common.auth.verifier import MAX_ACCESS_TOKEN_LIFETIME


class KeyState(StrEnum):
    """Where a signing key is in its life."""

    NEXT = "next"  # published in the JWKS, not yet signing: verifiers learn it in advance
    ACTIVE = "active"  # signs new tokens; exactly one at a time
    RETIRING = "retiring"  # published until every token it signed has expired


class KeyringError(RuntimeError):
    """The keyring cannot do what was asked (no active key, nothing ready to rotate to)."""


@dataclass(slots=True)
class SigningKey:
    """One Ed25519 signing key with its RFC 7638 kid and lifecycle timestamps (epoch s)."""

    kid: str
    private_key: Ed25519PrivateKey
    state: KeyState
    published_at: float
    activated_at: float | None = None
    retire_after: float | None = None

    @classmethod
    def generate(cls, now: float) -> SigningKey:
        """A fresh key in the NEXT state, kid = its JWK thumbprint."""
        private_key = Ed25519PrivateKey.generate()
        kid = ed25519_thumbprint(private_key.public_key())
        return cls(kid=kid, private_key=private_key, state=KeyState.NEXT, published_at=now)

    def public_jwk(self) -> dict[str, str]:
        """The public JWK (OKP/Ed25519, kid, use=sig, alg=EdDSA)."""
        return ed25519_public_jwk(self.private_key.public_key(), kid=self.kid)


class SigningKeyring:
    """The signing keys; persistence belongs to the caller (sharing's keystore).

    A new key is published (NEXT) at least `min_publish_seconds` before it signs anything, so
    every verifier has had a chance to fetch it; the key it replaces stays published
    (RETIRING) until `token_lifetime + leeway` after the switch, so no valid token ever
    names a kid that is missing from the JWKS.
    """

    def __init__(
        self,
        keys: Iterable[SigningKey] = (),
        *,
        min_publish_seconds: float = 120.0,
        token_lifetime: int = MAX_ACCESS_TOKEN_LIFETIME,
        leeway: float = 60.0,
    ) -> None:
        self._keys: dict[str, SigningKey] = {}
        for key in keys:
            if key.kid in self._keys:
                raise KeyringError("duplicate kid in keyring")
            self._keys[key.kid] = key
        if sum(1 for k in self._keys.values() if k.state is KeyState.ACTIVE) > 1:
            raise KeyringError("more than one active signing key")
        self._min_publish = min_publish_seconds
        self._retire_delay = token_lifetime + leeway

    @classmethod
    def bootstrap(cls, now: float, **options: Any) -> SigningKeyring:
        """A first keyring: one ACTIVE key at once (no verifier can hold an older JWKS yet)."""
        keyring = cls(**options)
        key = keyring.add_next(now)
        keyring.rotate(now, to_kid=key.kid, skip_publish_wait=True)
        return keyring

    def keys(self) -> tuple[SigningKey, ...]:
        """All keys, for persisting."""
        return tuple(self._keys.values())

    def active(self) -> SigningKey:
        """The key that signs new tokens."""
        for key in self._keys.values():
            if key.state is KeyState.ACTIVE:
                return key
        raise KeyringError("no active signing key")

    def add_next(self, now: float) -> SigningKey:
        """Generate and publish a NEXT key."""
        key = SigningKey.generate(now)
        self._keys[key.kid] = key
        return key

    def rotate(
        self, now: float, *, to_kid: str | None = None, skip_publish_wait: bool = False
    ) -> SigningKey:
        """Make a published NEXT key ACTIVE (oldest first) and the old ACTIVE key RETIRING."""
        ready = [
            k
            for k in self._keys.values()
            if k.state is KeyState.NEXT
            and (to_kid is None or k.kid == to_kid)
            and (skip_publish_wait or now - k.published_at >= self._min_publish)
        ]
        if not ready:
            raise KeyringError("no published key is ready to become active")
        new = min(ready, key=lambda k: k.published_at)
        for key in self._keys.values():
            if key.state is KeyState.ACTIVE:
                key.state = KeyState.RETIRING
                key.retire_after = now + self._retire_delay
        new.state = KeyState.ACTIVE
        new.activated_at = now
        return new

    def prune(self, now: float) -> list[str]:
        """Remove RETIRING keys whose tokens have all expired; returns their kids."""
        gone = [
            k.kid
            for k in self._keys.values()
            if k.state is KeyState.RETIRING and k.retire_after is not None and now >= k.retire_after
        ]
        for kid in gone:
            del self._keys[kid]
        return gone

    def maintain(self, now: float, *, rotate_every: float = 7 * 86400) -> bool:
        """Periodic job: keep a NEXT key published, rotate when due, prune; True if changed."""
        changed = bool(self.prune(now))
        if not any(k.state is KeyState.NEXT for k in self._keys.values()):
            self.add_next(now)
            changed = True
        current = next((k for k in self._keys.values() if k.state is KeyState.ACTIVE), None)
        due = current is None or now - (current.activated_at or 0.0) >= rotate_every
        if due:
            try:
                self.rotate(now)
                changed = True
            except KeyringError:
                pass  # the NEXT key is not published long enough yet; next run will do it
        return changed

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS document: every NEXT, ACTIVE and RETIRING key."""
        order = {KeyState.ACTIVE: 0, KeyState.NEXT: 1, KeyState.RETIRING: 2}
        keys = sorted(self._keys.values(), key=lambda k: (order[k.state], k.published_at))
        return {"keys": [k.public_jwk() for k in keys]}
