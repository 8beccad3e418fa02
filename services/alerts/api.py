"""Lawyer API routes: watchlist, profile, organisation escalation, alerts (parse, call, return)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from libs.common.auth.fastapi import require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from services.alerts.components import Components
from services.alerts.schemas import (
    AckResult,
    AlertDetail,
    AlertPage,
    EntryIn,
    EntryOut,
    EntryPage,
    EscalationIn,
    EscalationOut,
    ProfileIn,
    ProfileOut,
)

router = APIRouter(prefix="/v1")

Manager = Annotated[Principal, Depends(require_scopes(Scope.WATCHLIST_MANAGE))]
Reader = Annotated[Principal, Depends(require_scopes(Scope.ALERTS_READ))]
Acker = Annotated[Principal, Depends(require_scopes(Scope.ALERTS_ACK))]


async def _components(request: Request) -> Components:
    components: Components = request.app.state.alerts
    return components


Parts = Annotated[Components, Depends(_components)]


@router.post(
    "/watchlist/entries",
    status_code=201,
    response_model=EntryOut,
    tags=["watchlist"],
    summary="Add a watchlist entry (label + identity tokens); 200 if it exists unchanged.",
    responses={200: {"model": EntryOut}, 409: {}, 422: {}},
)
async def add_entry(
    body: EntryIn, principal: Manager, parts: Parts, response: Response
) -> EntryOut:
    """Create an entry; re-adding a label with the same content is a no-op (idempotent import)."""
    entry = await parts.watchlist.add(principal, body)
    if entry.status != "created":
        response.status_code = 200
    return entry


@router.get(
    "/watchlist/entries",
    response_model=EntryPage,
    tags=["watchlist"],
    summary="The caller's watchlist entries, a page at a time.",
)
async def list_entries(
    principal: Manager,
    parts: Parts,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntryPage:
    """Entries ordered by id; pass `next_after` as `after` for the next page."""
    return await parts.watchlist.list(principal, after, limit)


@router.get(
    "/watchlist/entries/{entry_id}",
    response_model=EntryOut,
    tags=["watchlist"],
    summary="One of the caller's watchlist entries.",
)
async def get_entry(entry_id: str, principal: Manager, parts: Parts) -> EntryOut:
    """The entry, or 404 (also for another lawyer's entry)."""
    return await parts.watchlist.get(principal, entry_id[:64])


@router.delete(
    "/watchlist/entries/{entry_id}",
    status_code=204,
    tags=["watchlist"],
    summary="Remove one of the caller's watchlist entries; it never matches again.",
)
async def remove_entry(entry_id: str, principal: Manager, parts: Parts) -> Response:
    """Remove the entry and its tokens."""
    await parts.watchlist.remove(principal, entry_id[:64])
    return Response(status_code=204)


@router.get(
    "/lawyer/profile",
    response_model=ProfileOut,
    tags=["profile"],
    summary="The caller's contact channels and backup contacts (no secrets).",
)
async def get_profile(principal: Manager, parts: Parts) -> ProfileOut:
    """Webhook, email and backups as stored."""
    return await parts.profiles.get(principal)


@router.put(
    "/lawyer/profile",
    response_model=ProfileOut,
    tags=["profile"],
    summary="Set the caller's webhook, email (optional OpenPGP key) and backup contacts.",
)
async def put_profile(body: ProfileIn, principal: Manager, parts: Parts) -> ProfileOut:
    """Replace the profile; generated webhook secrets are in `new_secrets`, shown this once."""
    return await parts.profiles.put(principal, body)


@router.get(
    "/organisation/escalation",
    response_model=EscalationOut,
    tags=["profile"],
    summary="The caller's organisation's escalation timing and duty contacts.",
)
async def get_escalation(principal: Manager, parts: Parts) -> EscalationOut:
    """N, M, repeats and duty contacts (defaults until set)."""
    return await parts.profiles.get_escalation(principal)


@router.put(
    "/organisation/escalation",
    response_model=EscalationOut,
    tags=["profile"],
    summary="Set the caller's organisation's escalation timing and duty contacts.",
)
async def put_escalation(body: EscalationIn, principal: Manager, parts: Parts) -> EscalationOut:
    """Replace N, M, repeats and the duty contacts of the caller's organisation."""
    return await parts.profiles.put_escalation(principal, body)


@router.get(
    "/alerts",
    response_model=AlertPage,
    tags=["alerts"],
    summary="The caller's alerts, newest first.",
)
async def list_alerts(
    principal: Reader,
    parts: Parts,
    status: Annotated[str | None, Query(max_length=16)] = None,
    before: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AlertPage:
    """Filter by status (open, acknowledged, withdrawn); page with `next_before`."""
    return await parts.alerts.list(principal, status, before, limit)


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetail,
    tags=["alerts"],
    summary="One of the caller's alerts with every delivery attempt.",
)
async def get_alert(alert_id: str, principal: Reader, parts: Parts) -> AlertDetail:
    """The alert, or 404 (also for another lawyer's alert)."""
    return await parts.alerts.get(principal, alert_id[:64])


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AckResult,
    tags=["alerts"],
    summary="Acknowledge an alert: escalation stops and the others are told who took it.",
)
async def ack_alert(alert_id: str, principal: Acker, parts: Parts) -> AckResult:
    """Idempotent: a second ack answers who acknowledged it first (`already`)."""
    return await parts.alerts.ack(principal, alert_id[:64])
