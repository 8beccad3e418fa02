"""The words and value types of a report: what happened, why, where, and how it is marked."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from libs.common.countries import ISO_3166_ALPHA2
from libs.common.reports.charges import CANONICAL, article_input


class IncidentType(StrEnum):
    """What happened."""

    DETENTION = "detention"
    EXTRADITION_REQUEST = "extradition_request"
    EXTRADITION_DECISION = "extradition_decision"
    DEPORTATION = "deportation"
    ENTRY_REFUSAL = "entry_refusal"
    RESIDENCE_REVOKED = "residence_revoked"
    TRAVEL_BAN = "travel_ban"
    ABDUCTION = "abduction"
    INTERROGATION = "interrogation"
    THREAT_OR_ATTACK = "threat_or_attack"
    RELEASE = "release"
    OTHER = "other"


class LegalBasis(StrEnum):
    """What triggered it."""

    CIS_INTERSTATE_SEARCH = "cis_interstate_search"
    INTERPOL_RED_NOTICE = "interpol_red_notice"
    INTERPOL_DIFFUSION = "interpol_diffusion"
    BILATERAL_REQUEST = "bilateral_request"
    NATIONAL_SECURITY = "national_security"
    ADMINISTRATIVE = "administrative"
    NO_LEGAL_BASIS = "no_legal_basis"
    UNKNOWN = "unknown"


class FacilityKind(StrEnum):
    """Where it happened."""

    AIRPORT = "airport"
    BORDER_CROSSING = "border_crossing"
    POLICE_STATION = "police_station"
    DETENTION_CENTRE = "detention_centre"
    COURT = "court"
    CONSULATE = "consulate"
    STREET = "street"
    UNKNOWN = "unknown"


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 marking."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Status(StrEnum):
    """Where the case stands now."""

    ONGOING = "ongoing"
    RELEASED = "released"
    TRANSFERRED = "transferred"  # moved to another facility or place of detention
    EXTRADITION_DECIDED = "extradition_decided"  # a court or prosecutor ordered extradition
    EXTRADITED = "extradited"
    DEPORTED = "deported"
    UNKNOWN = "unknown"


# C0/C1 control characters other than tab and newline have no place in a report.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _country(value: str) -> str:
    if value not in ISO_3166_ALPHA2:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return value


def _not_future(value: date | datetime) -> date | datetime:
    now = datetime.now(UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a time needs a UTC offset")
        if value > now + timedelta(minutes=5):  # clock skew between client and server
            raise ValueError("occurred_at is in the future")
    elif value > (now + timedelta(hours=14)).date():  # the earliest time zone is UTC+14
        raise ValueError("occurred_at is in the future")
    return value


# `examples` only shape the OpenAPI documents' examples (`docs/api.md`), never validation.
Country = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2),
    AfterValidator(_country),
    Field(examples=["KG"]),
]
Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_control),
]
LongText = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_no_control)]
ShortText = Annotated[str, StringConstraints(max_length=2_000), AfterValidator(_no_control)]
OccurredAt = Annotated[date | datetime, AfterValidator(_not_future)]
TokenKind = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$"), Field(examples=["name"])
]
TokenValue = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,128}$"),
    Field(examples=["Xk3vQ9p2LmT8wZr4YbN6cD1fGh5JsE7a"]),
]
ClientReportId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$"), Field(examples=["kg-2026-0042"])
]
ReportId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$"),
    Field(examples=["0b0f6a3e-7d2c-4f4e-9a57-1c2b3d4e5f60"]),
]


class Strict(BaseModel):
    """Base of every contract model: unknown fields are rejected, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Charge(Strict):
    """An article of the requesting state's criminal code, e.g. RU CC 207.3, BY CC 361-1."""

    state: Country
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,8}$")] = "CC"
    # Written as the codes write it (`ч. 2 ст. 280.3`, `361-1`), stored as `280.3(2)`, `361-1`.
    article: Annotated[str, BeforeValidator(article_input), StringConstraints(pattern=CANONICAL)]


class IdentityToken(Strict):
    """One OPRF token of a canonical identity key, labelled with its kind and PRF key version."""

    kind: TokenKind
    version: int = Field(ge=1, le=1_000_000)
    value: TokenValue


class Subject(Strict):
    """The person concerned: identity tokens and non-identifying attributes only, never a name."""

    tokens: list[IdentityToken] = Field(min_length=1, max_length=16)
    sex: Literal["female", "male", "unknown"] = "unknown"
    birth_year_bucket: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{4}$")] | None = (
        None
    )
