"""The data of every JetStream event: one typed model per subject, and how to read one safely.

Events carry ids, routing metadata and identity tokens, never names, narrative or plaintext
report fields. A producer builds the model (so a missing or misspelt key fails where it is
made, not in a consumer); a consumer reads `event.data` back through the same model, and data
that breaks the contract is a `PermanentError` (dead-lettered at once, never retried).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    ValidationError,
)

from libs.common import events
from libs.common.events import Envelope, PermanentError
from libs.common.reports.vocabulary import (
    ClientReportId,
    Country,
    FacilityKind,
    IdentityToken,
    IncidentType,
    LegalBasis,
    ReportId,
    Status,
    Strict,
    Tlp,
)
from libs.common.subjects import (
    AUTH_REVOKED,
    DISCLOSURE_RPC,
    RELEASE_REQUESTED,
    REPORT_ERASED,
    REPORT_RECEIVED,
    REPORT_RELEASED,
    REPORT_STORED,
    SYSTEM_ALARM,
    SYSTEM_PING,
    SYSTEM_PRUNED,
)

if TYPE_CHECKING:
    from libs.common.reports.model import ReportCore

Id = str


class Contract(BaseModel):
    """Base of every event's data; a later version may add fields, which readers ignore."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    SUBJECT: ClassVar[str]


class ReportReceived(Strict):
    """`lifeline.report.received.v1`: routing metadata, tokens and the report sealed to sharing.

    Unlike the other contracts it refuses unknown keys (`Strict`), as it always has.
    """

    SUBJECT: ClassVar[str] = REPORT_RECEIVED

    report_id: str
    partner_id: str
    client_report_id: ClientReportId
    incident_type: IncidentType
    legal_basis: LegalBasis
    country: Country
    facility_kind: FacilityKind
    occurred_at: date | datetime
    received_at: datetime
    tlp: Tlp
    tokens: list[IdentityToken] = Field(max_length=16)
    # HPKE blob (base64url) sealed to sharing; `info` binds report id and partner id.
    sealed: str
    # A follow-up: the earlier report of the same partner it updates, and where the case stands
    # now (routing metadata of the alerts derived from the original; None on a new report).
    follows: ReportId | None = None
    status: Status | None = None

    @classmethod
    def of(
        cls,
        report: ReportCore,
        *,
        report_id: str,
        partner_id: str,
        received_at: datetime,
        sealed: str,
    ) -> ReportReceived:
        """The event of `report`: its routing fields and tokens, and the sealed whole."""
        return cls(
            report_id=report_id,
            partner_id=partner_id,
            client_report_id=report.client_report_id,
            incident_type=report.incident_type,
            legal_basis=report.legal_basis,
            country=report.place.country,
            facility_kind=report.place.facility_kind,
            occurred_at=report.occurred_at,
            received_at=received_at,
            tlp=report.tlp,
            tokens=report.subject.tokens if report.subject else [],
            sealed=sealed,
            follows=report.follows,
            status=getattr(report, "status", None) if report.follows else None,
        )


class ReportStored(Contract):
    """`lifeline.report.stored.v1`: sharing holds the report (intake completes the receipt)."""

    SUBJECT: ClassVar[str] = REPORT_STORED

    report_id: Id = Field(min_length=1, max_length=64)
    partner_id: Id = Field(min_length=1, max_length=64)
    stored_at: datetime


class ReportErased(Contract):
    """`lifeline.report.erased.v1`: the report was crypto-shredded (alerts withdraws matches)."""

    SUBJECT: ClassVar[str] = REPORT_ERASED

    report_id: Id = Field(min_length=1, max_length=64)
    partner_id: Id = Field(min_length=1, max_length=64)


Fields = list[str]  # report field names of the catalogue (`place.country`, …)


class ReleaseRequested(Contract):
    """`lifeline.report.release_requested.v1`: a lawyer's organisation asks for an alert's
    details of a report it may not read (the submitter decides)."""

    SUBJECT: ClassVar[str] = RELEASE_REQUESTED

    report_id: Id = Field(min_length=1, max_length=64)
    partner_id: Id = Field(min_length=1, max_length=64)  # the asking organisation
    client_id: Id = Field(min_length=1, max_length=128)  # the lawyer whose alert it is
    alert_id: Id = Field(min_length=1, max_length=64)
    fields: Fields = Field(min_length=1, max_length=16)
    requested_at: datetime


class ReportReleased(Contract):
    """`lifeline.report.released.v1`: what an organisation's lawyers may now see of a report,
    by a standing policy or the submitter's decision (`denied`: nothing more)."""

    SUBJECT: ClassVar[str] = REPORT_RELEASED

    report_id: Id = Field(min_length=1, max_length=64)
    partner_id: Id = Field(min_length=1, max_length=64)  # the organisation it was released to
    fields: Fields = Field(max_length=64)
    decision: str = Field(pattern="^(policy|approved|denied)$")


class DisclosureQuery(Contract):
    """The request on `lifeline.rpc.disclosure.v1`: which fields of this report may each of
    these organisations' lawyers see? (Routing metadata only; the answer has no side effect.)"""

    SUBJECT: ClassVar[str] = DISCLOSURE_RPC

    report_id: Id = Field(min_length=1, max_length=64)
    partner_id: Id = Field(min_length=1, max_length=64)
    incident_type: IncidentType
    legal_basis: LegalBasis
    country: Country
    tlp: Tlp
    readers: list[Id] = Field(min_length=1, max_length=64)


class DisclosureAnswer(Contract):
    """The reply: for each asked organisation, the report fields its lawyers may see."""

    SUBJECT: ClassVar[str] = DISCLOSURE_RPC

    visible: dict[Id, Fields]


class AuthRevoked(Contract):
    """`lifeline.auth.revoked.v1`: tokens of a client, key, partner or signing key stop."""

    SUBJECT: ClassVar[str] = AUTH_REVOKED

    kind: str = Field(min_length=1, max_length=32)
    id: Id = Field(min_length=1, max_length=256)
    not_before: str = Field(min_length=1, max_length=64)


class SystemAlarm(Contract):
    """`lifeline.system.alarm.v1`: operators must look now (ids and counts, never content)."""

    SUBJECT: ClassVar[str] = SYSTEM_ALARM

    kind: str = Field(pattern="^[a-z_]{1,32}$")  # e.g. oprf_bulk_use
    scope: str = Field(min_length=1, max_length=16)  # what `subject` is: client, partner
    subject: Id = Field(min_length=1, max_length=128)
    partner_id: Id = Field(min_length=1, max_length=64)
    used: int = Field(ge=0)
    limit: int = Field(ge=0)
    raised_at: datetime


class SystemPruned(Contract):
    """`lifeline.system.pruned.v1`: a retention run of the producer ended rows (counts only, by
    what they were); sharing appends it to the audit chain, attributed to the signed producer."""

    SUBJECT: ClassVar[str] = SYSTEM_PRUNED

    counts: dict[Annotated[str, StringConstraints(pattern="^[a-z_]{1,32}$")], NonNegativeInt] = (
        Field(min_length=1, max_length=16)
    )


class SystemPing(Contract):
    """`lifeline.system.ping.v1`: the wiring check (every consumer records it)."""

    SUBJECT: ClassVar[str] = SYSTEM_PING

    note: str = Field(default="ping", max_length=64)


CONTRACTS: dict[str, type[BaseModel]] = {
    model.SUBJECT: model
    for model in (
        ReportReceived,
        ReportStored,
        ReportErased,
        ReleaseRequested,
        ReportReleased,
        AuthRevoked,
        SystemAlarm,
        SystemPing,
        SystemPruned,
    )
}

C = TypeVar("C", bound=BaseModel)


def new_event(
    data: ReportReceived | Contract,
    producer: str,
    correlation_id: str | None = None,
    *,
    at: datetime,
) -> Envelope:
    """A fresh envelope for `data` on its own subject, occurring `at` (the producer's clock);
    the version is the subject's `.vN`."""
    return events.new_event(
        data.SUBJECT, producer, data.model_dump(mode="json"), correlation_id, at=at
    )


def read_event(event: Envelope, model: type[C]) -> C:
    """`event.data` as `model`; an event of another type or with bad data is poison."""
    subject: str = getattr(model, "SUBJECT", "")
    name = subject.removeprefix("lifeline.").rsplit(".v", 1)[0]  # e.g. report.received
    if event.type != subject:
        raise PermanentError(f"unexpected event type on the {name} subject: {event.type}")
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        raise PermanentError(f"invalid {name} data") from exc
