"""Alert routes: list, show and acknowledge (parse, call, return), and the signed ack link.

The link's routes are PUBLIC in the token sense: the link's HMAC signature and expiry are the
credential, checked on every request. GET only shows a form (mail scanners prefetch links);
POST acknowledges, once per link.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import html
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from libs.common.auth.fastapi import PUBLIC
from libs.common.errors import LifelineError
from services.alerts.alerts.schemas import AckResult, AlertDetail, AlertPage
from services.alerts.deps import Acker, AlertsDep, ClockDep, LinksDep, Reader

router = APIRouter(prefix="/v1")
link_router = APIRouter(prefix="/v1/ack", tags=["acknowledgement"], dependencies=[Depends(PUBLIC)])


@router.get(
    "/alerts",
    response_model=AlertPage,
    tags=["alerts"],
    summary="The caller's alerts, newest first.",
)
async def list_alerts(
    principal: Reader,
    alerts: AlertsDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    before: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AlertPage:
    """Filter by status (open, acknowledged, withdrawn); page with `next_before`."""
    return await alerts.list(principal, status, before, limit)


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetail,
    tags=["alerts"],
    summary="One of the caller's alerts with every delivery attempt.",
)
async def get_alert(alert_id: str, principal: Reader, alerts: AlertsDep) -> AlertDetail:
    """The alert, or 404 (also for another lawyer's alert)."""
    return await alerts.get(principal, alert_id[:64])


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AckResult,
    tags=["alerts"],
    summary="Acknowledge an alert: escalation stops and the others are told who took it.",
)
async def ack_alert(alert_id: str, principal: Acker, alerts: AlertsDep) -> AckResult:
    """Idempotent: a second ack answers who acknowledged it first (`already`)."""
    return await alerts.ack(principal, alert_id[:64])


# --- the signed link ---------------------------------------------------------------------

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeline alert</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}}
button{{font-size:1.2em;padding:.6em 1.2em}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, body=body), status_code=status, headers=_HEADERS)


def _failure(request: Request, exc: LifelineError) -> Response:
    # Browsers get a page; API clients the usual JSON error body.
    if "text/html" in request.headers.get("accept", ""):
        return _page("This link cannot be used", f"<p>{html.escape(exc.detail)}.</p>", exc.status)
    return JSONResponse(exc.body(), status_code=exc.status, headers=_HEADERS)


@link_router.get(
    "/{token}",
    response_class=HTMLResponse,
    summary="Acknowledgement page of a signed link: a form only; nothing changes on GET.",
)
async def ack_page(token: str, request: Request, links: LinksDep, clock: ClockDep) -> Response:
    """Show a button that POSTs back here; opening the link (or a mail scanner) acks nothing."""
    try:
        alert_id = links.verify(token[:1024], clock.time()).alert_id
    except LifelineError as exc:
        return _failure(request, exc)
    body = (
        f"<p>Alert <code>{html.escape(alert_id)}</code> needs someone to act on it.</p>"
        "<p>Acknowledging stops the escalation and tells the others who took it.</p>"
        '<form method="post"><button type="submit">I\'m on it — acknowledge</button></form>'
    )
    return _page("Acknowledge alert", body)


@link_router.post(
    "/{token}",
    response_class=HTMLResponse,
    summary="Acknowledge the alert named by a signed, unexpired link.",
)
async def ack_by_link(
    token: str, request: Request, links: LinksDep, alerts: AlertsDep, clock: ClockDep
) -> Response:
    """Acknowledge; a second POST of the same link is refused (409 `link_used`)."""
    try:
        result = await alerts.ack_by_link(links.verify(token[:1024], clock.time()))
    except LifelineError as exc:
        return _failure(request, exc)
    ack = result.alert.acknowledged
    if result.already and ack is not None:
        who = html.escape(ack.by)
        return _page("Already acknowledged", f"<p>{who} acknowledged it at {ack.at:%H:%M} UTC.</p>")
    if ack is None:
        return _page("Nothing to acknowledge", "<p>This alert was withdrawn.</p>")
    return _page("Acknowledged", "<p>Thank you. The others have been told you are on it.</p>")
