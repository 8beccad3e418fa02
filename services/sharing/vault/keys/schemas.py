"""Request and response bodies of the vault's key API (key admin, the public sealing keys)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from services.sharing.vault.schemas import Strict


class KekRotateIn(Strict):
    """Stage a new KEK version; promote it to primary unless told not to."""

    promote: bool = True


class SealingRotateIn(Strict):
    """The suite of the new intake-sealing key (the post-quantum hybrid by default)."""

    suite: Literal["x25519", "mlkem768x25519"] = "mlkem768x25519"


class SealingKeyView(BaseModel):
    """One public sealing key; intake accepts it only if its fingerprint is pinned."""

    kid: str
    public_key: str
    fingerprint: str
    state: str


class SealingKeys(BaseModel):
    """The active sealing key first, then retiring ones."""

    keys: list[SealingKeyView]
