"""`ReportIn`, the body a partner submits: the fields code reads by name, declared here, and
every other field of the catalogue added to it, so a new field needs no edit in this file."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field, create_model, model_validator

from libs.common.reports.fields import CATALOGUE, Catalogue
from libs.common.reports.vocabulary import (
    ClientReportId,
    Country,
    FacilityKind,
    IncidentType,
    LegalBasis,
    OccurredAt,
    ReportId,
    Strict,
    Subject,
    Tlp,
)


class PlaceCore(Strict):
    """Where it happened: the parts routing and policy read."""

    country: Country
    facility_kind: FacilityKind = FacilityKind.UNKNOWN


class ReportCore(Strict):
    """The parts of a report that code reads by name: identity, routing, marking, subject."""

    client_report_id: ClientReportId
    incident_type: IncidentType
    legal_basis: LegalBasis = LegalBasis.UNKNOWN
    occurred_at: OccurredAt
    place: PlaceCore
    tlp: Tlp
    # A follow-up names the earlier report of the same partner it updates (`docs/intake.md`,
    # "Follow-ups"); it is about the person of that report, so its subject may be left out.
    subject: Subject | None = None
    follows: ReportId | None = None

    @model_validator(mode="after")
    def _subject_or_follows(self) -> ReportCore:
        if self.follows is None and self.subject is None:
            raise ValueError("subject is required (only a follow-up may leave it out)")
        if self.follows is not None and "status" not in self.model_fields_set:
            raise ValueError("a follow-up says where the case stands now: give its status")
        return self

    @model_validator(mode="after")
    def _plausible_date(self) -> ReportCore:
        day = (
            self.occurred_at.date() if isinstance(self.occurred_at, datetime) else self.occurred_at
        )
        if day < date(1991, 1, 1):  # before the states this network watches existed
            raise ValueError("occurred_at is implausibly old")
        return self


def _declared(catalogue: Catalogue, prefix: str) -> dict[str, Any]:
    """The catalogue's own declarations under `prefix` ("" = top level, "place." = place)."""
    out: dict[str, Any] = {}
    for f in catalogue.fields:
        if f.spec is None or not f.name.startswith(prefix):
            continue
        rest = f.name.removeprefix(prefix)
        if "." not in rest:
            out[rest] = f.spec
    return out


def build_models(
    catalogue: Catalogue = CATALOGUE,
) -> tuple[type[PlaceCore], type[ReportCore]]:
    """`Place` and `ReportIn` for a catalogue: the core plus every field it declares."""
    place = create_model(
        "Place", __base__=PlaceCore, __module__=__name__, **_declared(catalogue, "place.")
    )
    place.__doc__ = "Country, locality and facility kind."
    report = create_model(
        "ReportIn",
        __base__=ReportCore,
        __module__=__name__,
        place=(place, Field()),
        **_declared(catalogue, ""),
    )
    report.__doc__ = "An incident report as a partner submits it."
    return place, report


if TYPE_CHECKING:
    # Type checkers see the declared core; the catalogue's other fields are reached by name.
    Place = PlaceCore
    ReportIn = ReportCore
else:
    Place, ReportIn = build_models()


def example_report() -> dict[str, Any]:
    """The example `lifeline report template` writes, as the API receives it: tokens, no name."""
    body = CATALOGUE.example()
    token = {"kind": "name", "version": 1, "value": "Xk3vQ9p2LmT8wZr4YbN6cD1fGh5JsE7a"}
    body["subject"] = {**body["subject"], "tokens": [token]}
    return body
