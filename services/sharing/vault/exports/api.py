"""The export route: the reports a reader may read, as CSV, a STIX 2.1 bundle or MISP events."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from libs.common.auth.fastapi import require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from services.sharing.deps import Reads
from services.sharing.vault.domain import Search
from services.sharing.vault.exports.service import MAX_REPORTS, export_reports
from services.sharing.vault.filters import search_filters

router = APIRouter(prefix="/v1/exports", tags=["reports"])

Reader = Annotated[Principal, Depends(require_scopes(Scope.REPORTS_READ))]
Format = Literal["csv", "stix", "misp"]

# What each format looks like, for the OpenAPI document (one report, a lawyer's policy).
_CSV_EXAMPLE = (
    "report_id,received_at,incident_type,legal_basis,occurred_at,place.country,tlp\r\n"
    "1c531918-947a-47aa-9bae-d852da400424,2026-11-20T01:02:03Z,detention,"
    "cis_interstate_search,2026-11-20,KG,AMBER\r\n"
)
_STIX_EXAMPLE = {
    "type": "bundle",
    "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
    "objects": [
        {
            "type": "incident",
            "spec_version": "2.1",
            "id": "incident--1c531918-947a-47aa-9bae-d852da400424",
            "created": "2026-11-20T01:02:03.000Z",
            "modified": "2026-11-20T01:02:03.000Z",
            "name": "detention (cis_interstate_search) in KG",
            "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
        }
    ],
}
_MISP_EXAMPLE = {
    "response": [
        {
            "Event": {
                "info": "Lifeline report: detention (cis_interstate_search) in KG",
                "date": "2026-11-20",
                "distribution": "0",
                "Tag": [{"name": "tlp:amber"}],
                "Attribute": [
                    {
                        "type": "text",
                        "category": "Other",
                        "value": "detention",
                        "comment": "incident_type",
                    }
                ],
            }
        }
    ]
}


@router.get(
    "/reports",
    response_class=Response,
    responses={
        200: {
            "description": "The export, in the media type of its format.",
            "content": {
                "text/csv": {"example": _CSV_EXAMPLE},
                "application/stix+json;version=2.1": {"example": _STIX_EXAMPLE},
                "application/json": {"example": _MISP_EXAMPLE},
            },
        }
    },
    summary="Export the reports the caller may read: CSV, STIX 2.1 or MISP (`format=`).",
)
async def export(
    principal: Reader,
    reads: Reads,
    search: Annotated[Search, Depends(search_filters)],
    format: Format,
    limit: Annotated[int, Query(ge=1, le=MAX_REPORTS)] = MAX_REPORTS,
) -> Response:
    """Only fields the caller's policy releases, never identity tokens; every report in it is
    a read in the read log and the audit chain."""
    exporter, body = await export_reports(reads, principal, search, format, limit=limit)
    return Response(
        body,
        media_type=exporter.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="lifeline-reports.{exporter.suffix}"',
            "Cache-Control": "no-store",
        },
    )
