"""Request and response bodies of enrolment: codes, the device's key, the admin's confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.sharing.access.enrolment.repository import EnrolmentRow
from services.sharing.access.enrolment.service import Issued
from services.sharing.access.schemas import Name, PublicKeyInput, Strict

# What `new_code` makes (43 base64url characters); a little slack for other lengths.
Code = Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class EnrolmentOut(BaseModel):
    """An enrolment as listed (never its code)."""

    id: str
    client_id: str
    status: str  # open | used | cancelled | expired
    created_at: datetime
    created_by: str
    expires_at: datetime
    ended_at: datetime | None
    kid: str | None

    @classmethod
    def of(cls, row: EnrolmentRow, now: datetime) -> EnrolmentOut:
        """From a stored enrolment, with `expired` for an open code past its time."""
        return cls(
            id=row.id,
            client_id=row.client_id,
            status=row.status_at(now),
            created_at=row.created_at,
            created_by=row.created_by,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
            kid=row.kid,
        )


class EnrolmentIssued(BaseModel):
    """A new code, shown this once: give it to the device (the link or its QR code)."""

    id: str
    client_id: str
    code: str
    expires_at: datetime
    link: str

    @classmethod
    def of(cls, issued: Issued) -> EnrolmentIssued:
        """From what `Enrolments.create` returned."""
        return cls(
            id=issued.enrolment.id,
            client_id=issued.enrolment.client_id,
            code=issued.code,
            expires_at=issued.enrolment.expires_at,
            link=issued.link,
        )


class EnrolRequest(Strict):
    """A device's own public key, registered with a code."""

    code: Code
    public_key: PublicKeyInput
    device_name: Name


class Enrolled(BaseModel):
    """The pending key: read its fingerprint to the admin, who confirms it."""

    kid: str
    client_id: str
    fingerprint: str
    status: str


class KeyConfirm(Strict):
    """The fingerprint the admin read off the device's screen."""

    fingerprint: str = Field(min_length=1, max_length=200)
