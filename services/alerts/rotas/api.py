"""Rota routes: the organisation's rota, who is on duty, its calendar (parse, call, return)."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated

from fastapi import APIRouter, Query, Response

from libs.common.problems import problems
from services.alerts.deps import OrgManager, OrgViewer, RotasDep
from services.alerts.rotas.schemas import Instant, OnDutyOut, RotaIn, RotaOut

router = APIRouter(prefix="/v1", tags=["rota"])
CALENDAR = "text/calendar; charset=utf-8"
# What a feed looks like (shortened): one VEVENT per stretch of duty, display names only.
_ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Lifeline//rota//EN\r\nBEGIN:VEVENT\r\n"
    "UID:shift-1@lifeline\r\nDTSTART:20260316T080000Z\r\nDTEND:20260316T200000Z\r\n"
    "SUMMARY:On duty: A. Lawyer\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@router.get(
    "/organisation/rota",
    response_model=RotaOut,
    responses=problems(404),
    summary="The caller's organisation's duty rota (members, hand-over, overrides).",
)
async def get_rota(principal: OrgViewer, rotas: RotasDep) -> RotaOut:
    """As stored; 404 while the organisation has none (its static duty contacts are paged)."""
    return await rotas.get(principal)


@router.put(
    "/organisation/rota",
    response_model=RotaOut,
    summary="Set the caller's organisation's duty rota (replaces it).",
)
async def put_rota(body: RotaIn, principal: OrgManager, rotas: RotasDep) -> RotaOut:
    """Replace members, hand-over and overrides; generated secrets are shown this once."""
    return await rotas.put(principal, body)


@router.delete(
    "/organisation/rota",
    status_code=204,
    summary="Drop the caller's organisation's rota: its static duty contacts are paged again.",
)
async def delete_rota(principal: OrgManager, rotas: RotasDep) -> Response:
    """The rota and its members' contacts go; 404 if there was none."""
    await rotas.delete(principal)
    return Response(status_code=204)


@router.get(
    "/organisation/rota/on-duty",
    response_model=OnDutyOut,
    summary="Who a duty escalation step pages now, or at `at`.",
)
async def get_on_duty(
    principal: OrgViewer,
    rotas: RotasDep,
    at: Annotated[Instant | None, Query(description="an ISO 8601 instant with offset")] = None,
) -> OnDutyOut:
    """The rota member on duty (override or rotation) and the contacts a duty step reaches."""
    return await rotas.on_duty(principal, at)


@router.get(
    "/organisation/rota.ics",
    response_class=Response,
    responses={
        **problems(404),
        200: {"content": {"text/calendar": {"schema": {"type": "string"}, "example": _ICS}}},
    },
    summary="The rota's shifts as an iCalendar (RFC 5545) feed: display names, no addresses.",
)
async def get_rota_calendar(
    principal: OrgViewer,
    rotas: RotasDep,
    weeks: Annotated[int, Query(ge=1, le=52)] = 8,
) -> Response:
    """One VEVENT per stretch of duty from now through `weeks` weeks, overrides applied."""
    body = await rotas.calendar(principal, weeks)
    return Response(body, media_type=CALENDAR, headers={"Cache-Control": "no-store"})
