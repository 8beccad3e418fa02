"""Signed checkpoints of the audit log: one rule for sharing to sign and partners to verify.

The log's Merkle tree (RFC 9162, `libs.common.crypto.merkle`) has one leaf per entry: the
entry's chain hash as stored (64 hex digits), which already commits to the entry's content.
A checkpoint is `{origin, size, root_hash, time}` signed with sharing's audit key (Ed25519, purpose
`lifeline/audit-checkpoint/v1`). Whoever keeps one can later prove that the log still starts
with exactly those `size` entries: deleting the tail, or deleting a row and re-chaining every
later one, changes the tree head of that size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from libs.common.crypto.encoding import b64u_decode, b64u_encode, encode_context
from libs.common.crypto.errors import InvalidKey, SignatureInvalid
from libs.common.crypto.merkle import leaf_hash, root_hash, verify_consistency
from libs.common.crypto.signing import (
    SigningKey,
    VerifyKey,
    load_verify_key,
    sign,
    verify,
)
from libs.common.errors import InvalidInput

CHECKPOINT_PURPOSE = "lifeline/audit-checkpoint/v1"
_HEX32 = re.compile(r"^[0-9a-f]{64}$")


class CheckpointInvalid(InvalidInput):
    """A checkpoint (published or kept) is malformed (422)."""

    code = "checkpoint_invalid"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head of the audit log: which log, how many entries, their root, and when."""

    origin: str
    size: int
    root_hash: bytes
    time: str

    def payload(self) -> bytes:
        """The canonical bytes that are signed."""
        return encode_context(
            "lifeline/audit-checkpoint-payload/v1",
            origin=self.origin,
            size=self.size,
            root=self.root_hash,
            time=self.time,
        )

    def to_json(self) -> dict[str, Any]:
        """As published and kept: the root in hex."""
        return {
            "origin": self.origin,
            "size": self.size,
            "root_hash": self.root_hash.hex(),
            "time": self.time,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Checkpoint:
        """Parse a published or kept checkpoint; CheckpointInvalid if any field is off."""
        origin, size, root, time = (doc.get(k) for k in ("origin", "size", "root_hash", "time"))
        if not isinstance(origin, str) or not isinstance(time, str):
            raise CheckpointInvalid("a checkpoint needs an origin and a time")
        if type(size) is not int or size < 0:
            raise CheckpointInvalid("a checkpoint's size is a non-negative integer")
        if not isinstance(root, str) or not _HEX32.match(root):
            raise CheckpointInvalid("a checkpoint's root_hash is 64 lowercase hex digits")
        return cls(origin, size, bytes.fromhex(root), time)


def sign_checkpoint(key: SigningKey, checkpoint: Checkpoint) -> str:
    """The checkpoint's signature (base64url)."""
    return b64u_encode(sign(key, checkpoint.payload(), purpose=CHECKPOINT_PURPOSE))


def verify_checkpoint(key: VerifyKey, checkpoint: Checkpoint, signature: str) -> None:
    """Raise SignatureInvalid unless `key` signed exactly this checkpoint."""
    try:
        raw = b64u_decode(signature)
    except InvalidKey:
        raise SignatureInvalid from None
    verify(key, checkpoint.payload(), raw, purpose=CHECKPOINT_PURPOSE)


def audit_leaves(chain_hashes: Iterable[str]) -> list[bytes]:
    """The tree's leaf hashes, from the entries' chain hashes in log order."""
    # The text as stored, not its decoded bytes: a mangled value still gives a leaf (that no
    # kept checkpoint matches) instead of an error.
    return [leaf_hash(h.encode()) for h in chain_hashes]


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with its signature and the key that made it, as published and kept."""

    checkpoint: Checkpoint
    signature: str
    key: VerifyKey

    @classmethod
    def from_json(cls, doc: object) -> SignedCheckpoint:
        """Parse and check the signature: CheckpointInvalid, InvalidKey or SignatureInvalid."""
        if not isinstance(doc, Mapping):
            raise CheckpointInvalid("not a signed checkpoint")
        body, signature, key = doc.get("checkpoint"), doc.get("signature"), doc.get("key")
        if not isinstance(body, Mapping) or not isinstance(signature, str):
            raise CheckpointInvalid("not a signed checkpoint")
        if not isinstance(key, Mapping) or not isinstance(key.get("public_key"), str):
            raise CheckpointInvalid("a signed checkpoint names its key")
        verify_key = load_verify_key(key["public_key"])
        checkpoint = Checkpoint.from_json(body)
        verify_checkpoint(verify_key, checkpoint, signature)
        return cls(checkpoint, signature, verify_key)

    def to_json(self) -> dict[str, Any]:
        """What a witness keeps: enough to check the signature again later."""
        return {
            "checkpoint": self.checkpoint.to_json(),
            "signature": self.signature,
            "key": {"public_key": self.key.text, "fingerprint": self.key.fingerprint()},
        }


def extends(kept: SignedCheckpoint, new: SignedCheckpoint, proof: Sequence[bytes]) -> str | None:
    """None if `new` is the log of `kept` grown by appends only; otherwise what went wrong.

    "key": signed by another key than the kept one; "origin": another log; "truncated": fewer
    entries than kept; "rewritten": the proof does not lead from the kept head to the new one.
    """
    old, now = kept.checkpoint, new.checkpoint
    if new.key != kept.key:
        return "key"
    if now.origin != old.origin:
        return "origin"
    if now.size < old.size:
        return "truncated"
    if not verify_consistency(old.size, now.size, old.root_hash, now.root_hash, proof):
        return "rewritten"
    return None


def prefix_matches(kept: Checkpoint, chain_hashes: Sequence[str]) -> str | None:
    """None if the log's first `kept.size` entries still have the kept tree head."""
    if len(chain_hashes) < kept.size:
        return "truncated"
    if root_hash(audit_leaves(chain_hashes[: kept.size])) != kept.root_hash:
        return "rewritten"
    return None


FAILURES = {
    "key": "signed by another key than the one you kept: confirm a key change with the operator",
    "origin": "a checkpoint of another log",
    "truncated": "the log holds fewer entries than a checkpoint you kept: entries were deleted",
    "rewritten": "the log no longer starts with the entries of the checkpoint you kept",
}
