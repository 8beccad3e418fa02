"""Request and response bodies of the vault's report API (reads, grants, erasure)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from libs.common.auth.roles import READING_ROLES

# Which names are fields is the running catalogue's to say (the service checks, 422).
FieldName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z_]*(\.[a-z][a-z_]*)?$", max_length=32)
]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]


def _reading_role(value: str) -> str:
    if value not in READING_ROLES:
        raise ValueError(f"must be one of {', '.join(sorted(READING_ROLES))}")
    return value


# A per-report grant may name one of the roles whose clients read reports (reader, lawyer, …).
Role = Annotated[str, AfterValidator(_reading_role)]
REPORT_ID = r"^[A-Za-z0-9-]{1,36}$"
KID = r"^[A-Za-z0-9_-]{22}$"  # base64url of a 16-byte key id


class Strict(BaseModel):
    """Unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class GrantIn(Strict):
    """Give one partner (and optionally only its clients of one role) fields of one report."""

    partner_id: PartnerId
    fields: list[FieldName] = Field(min_length=1, max_length=64)
    role: Role | None = None


class GrantOut(BaseModel):
    """A per-report grant."""

    id: str
    report_id: str
    partner_id: str
    role: str | None
    fields: list[str]
    created_at: datetime
    created_by: str


class ReportView(BaseModel):
    """One report as a reader sees it: `report` holds only permitted fields."""

    report_id: str
    partner_id: str
    received_at: datetime
    stored_at: datetime
    updated_at: datetime
    submitter: bool
    client_report_id: str | None = None
    report: dict[str, Any]
    withheld: list[str]
    # The reporting partner's contact line for lawyers (plain text; render it as text).
    partner_contact: str | None = None
    # The case's chain: the earlier report this one follows up, and the later ones (ids only).
    follows: str | None = None
    follow_ups: list[str] = []


class SealedDelivery(BaseModel):
    """A read sealed to the caller's HPKE key and signed by sharing (`?sealed_to=`)."""

    format: str
    recipient: str
    report_id: str
    delivery_id: str
    sealed_to: str
    suite: str
    sealed: str
    signature: str
    signer_kid: str


class ReportPage(BaseModel):
    """A page of reports (views, tombstones `{erased_at}` or `{unreadable: true}`)."""

    reports: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


class ReadOut(BaseModel):
    """One read of a report: who, with which client and role, which fields, when, how."""

    id: int
    reader_partner: str
    reader_client: str
    role: str
    fields: list[str]
    via: str
    delivery_id: str | None
    read_at: datetime


class Erased(BaseModel):
    """A report was crypto-shredded."""

    report_id: str
    erased_at: datetime
