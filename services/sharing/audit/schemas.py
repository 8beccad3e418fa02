"""Response bodies of the audit log's admin API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


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
    """A page of the audit log; ask again with `after=next_after` while it is not null."""

    entries: list[AuditEntryOut]
    next_after: int | None


class AuditVerification(BaseModel):
    """The chain recomputed from the first entry."""

    ok: bool
    checked: int
    head: str
    broken_seq: int | None
    detail: str
