"""The incident-report contract shared by the submission client, intake and sharing.

`vocabulary` holds the words and value types, `fields` the field catalogue (the one place a
field is added), `model` the submitted body built from both. No plain names anywhere.
"""

from libs.common.reports.fields import CATALOGUE, FIELDS, Catalogue, ReportField
from libs.common.reports.model import Place, ReportCore, ReportIn
from libs.common.reports.vocabulary import (
    Charge,
    Country,
    FacilityKind,
    IdentityToken,
    IncidentType,
    LegalBasis,
    Line,
    Status,
    Subject,
    Tlp,
)

__all__ = [
    "CATALOGUE",
    "FIELDS",
    "Catalogue",
    "Charge",
    "Country",
    "FacilityKind",
    "IdentityToken",
    "IncidentType",
    "LegalBasis",
    "Line",
    "Place",
    "ReportCore",
    "ReportField",
    "ReportIn",
    "Status",
    "Subject",
    "Tlp",
]
