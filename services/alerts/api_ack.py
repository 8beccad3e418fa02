"""The signed acknowledgement link: GET shows a form (scanners prefetch links), POST acks.

Both routes are PUBLIC in the token sense: the link's HMAC signature and expiry are the
credential, checked on every request.
"""

from __future__ import annotations

import html
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from libs.common.auth.fastapi import PUBLIC
from libs.common.errors import LifelineError
from services.alerts.components import Components

router = APIRouter(prefix="/v1/ack", tags=["acknowledgement"], dependencies=[Depends(PUBLIC)])

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


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    summary="Acknowledgement page of a signed link: a form only; nothing changes on GET.",
)
async def ack_page(token: str, request: Request) -> Response:
    """Show a button that POSTs back here; opening the link (or a mail scanner) acks nothing."""
    parts: Components = request.app.state.alerts
    try:
        alert_id, _ = parts.links.verify(token[:1024], time.time())
    except LifelineError as exc:
        return _failure(request, exc)
    body = (
        f"<p>Alert <code>{html.escape(alert_id)}</code> needs someone to act on it.</p>"
        "<p>Acknowledging stops the escalation and tells the others who took it.</p>"
        '<form method="post"><button type="submit">I\'m on it — acknowledge</button></form>'
    )
    return _page("Acknowledge alert", body)


@router.post(
    "/{token}",
    response_class=HTMLResponse,
    summary="Acknowledge the alert named by a signed, unexpired link.",
)
async def ack_by_link(token: str, request: Request) -> Response:
    """Acknowledge; a second POST says who acknowledged first."""
    parts: Components = request.app.state.alerts
    try:
        alert_id, contact_id = parts.links.verify(token[:1024], time.time())
        result = await parts.alerts.ack_by_link(alert_id, contact_id)
    except LifelineError as exc:
        return _failure(request, exc)
    ack = result.alert.acknowledged
    if result.already and ack is not None:
        who = html.escape(ack.by)
        return _page("Already acknowledged", f"<p>{who} acknowledged it at {ack.at:%H:%M} UTC.</p>")
    if ack is None:
        return _page("Nothing to acknowledge", "<p>This alert was withdrawn.</p>")
    return _page("Acknowledged", "<p>Thank you. The others have been told you are on it.</p>")
