"""Response bodies of the audit log's admin API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    """One audit entry, exactly as hashed."""

    seq: int
    at: str
    actor: str
    action: str
    target: str
    details: Any
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """A page of the audit log; ask again with `cursor=next_cursor` while it is not null."""

    entries: list[AuditEntryOut]
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last page")
    next_after: int | None = Field(deprecated=True, description="deprecated: use `next_cursor`")
    next_before: int | None = Field(
        default=None, deprecated=True, description="deprecated: use `next_cursor`"
    )


class AuditVerification(BaseModel):
    """The chain recomputed from the first entry."""

    ok: bool
    checked: int
    head: str
    broken_seq: int | None
    detail: str


class CheckpointBody(BaseModel):
    """What is signed: which log, how many entries, the tree head (hex) and when."""

    origin: str
    size: int
    root_hash: str
    time: str


class SigningKeyOut(BaseModel):
    """The audit key's public half: pin its fingerprint the first time you keep a checkpoint."""

    kid: str
    public_key: str
    fingerprint: str
    jwk: dict[str, str]


class SignedCheckpoint(BaseModel):
    """A checkpoint, its signature (base64url) and the key that made it."""

    checkpoint: CheckpointBody
    signature: str
    key: SigningKeyOut


class Consistency(BaseModel):
    """An RFC 9162 consistency proof between two sizes of the log (hex hashes)."""

    first: int
    second: int
    proof: list[str]
