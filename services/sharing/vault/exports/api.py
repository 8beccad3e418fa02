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


@router.get(
    "/reports",
    response_class=Response,
    responses={
        200: {
            "description": "The export, in the media type of its format.",
            "content": {
                "text/csv": {},
                "application/stix+json;version=2.1": {},
                "application/json": {},
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
