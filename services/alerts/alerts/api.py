"""Alert routes: list, show, acknowledge and resolve (parse, call, return), and the signed ack
link.

The link's routes are PUBLIC in the token sense: the link's HMAC signature and expiry are the
credential, checked on every request. GET only shows a form (mail scanners prefetch links);
POST acknowledges, once per link. Its pages are in the language of the lawyer the link was
sent to (`Accept-Language` where the link names no alert we can trust).
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import html
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from libs.common.auth.fastapi import PUBLIC
from libs.common.errors import LifelineError
from libs.common.paging import Lister, Page
from libs.common.problems import problems
from services.alerts.alerts.feedback import FeedbackOut, org_feedback
from services.alerts.alerts.schemas import AckResult, AlertDetail, AlertOut, AlertPage, ResolveIn
from services.alerts.alerts.service import legacy_position
from services.alerts.delivery.messages import negotiate, text
from services.alerts.deps import Acker, AlertsDep, ClockDep, LinksDep, OrgViewer, Reader
from services.alerts.rotas.schemas import Instant

router = APIRouter(prefix="/v1")
# Newest first; `before` (`<created_at>|<id>`, deprecated) named the same position.
ALERTS = Lister("alerts", (datetime, str), default=50, maximum=500, replaces=("before",))
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
    page: Annotated[Page, Depends(ALERTS.dependency())],
    status: Annotated[str | None, Query(max_length=16)] = None,
    before: Annotated[str | None, Query(max_length=120, deprecated=True)] = None,
) -> AlertPage:
    """Filter by status (open, acknowledged, resolved, withdrawn); page with `cursor`."""
    found, last = await alerts.list(
        principal, status, page.start(legacy_position(before)), page.limit
    )
    legacy = f"{last[0].isoformat()}|{last[1]}" if last else None
    return AlertPage(alerts=found, next_cursor=page.follow(last), next_before=legacy)


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetail,
    tags=["alerts"],
    summary="One of the caller's alerts with every delivery attempt.",
)
async def get_alert(alert_id: str, principal: Reader, alerts: AlertsDep) -> AlertDetail:
    """The alert, or 404 (also for another lawyer's alert)."""
    return await alerts.get(principal, alert_id[:64])


@router.get(
    "/organisation/feedback",
    response_model=FeedbackOut,
    tags=["alerts"],
    summary="What became of the organisation's alerts: outcomes, the not-my-client share.",
)
async def get_feedback(
    principal: OrgViewer,
    alerts: AlertsDep,
    since: Annotated[Instant | None, Query(description="an ISO 8601 instant with offset")] = None,
) -> FeedbackOut:
    """Alerts resolved since `since` (all when omitted), by outcome and match strength."""
    return await org_feedback(alerts.sessions, principal, since)


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AckResult,
    tags=["alerts"],
    summary="Acknowledge an alert: escalation stops and the others are told who took it.",
    responses=problems(409),
)
async def ack_alert(alert_id: str, principal: Acker, alerts: AlertsDep) -> AckResult:
    """Idempotent: a second ack answers who acknowledged it first (`already`)."""
    return await alerts.ack(principal, alert_id[:64])


@router.post(
    "/alerts/{alert_id}/resolve",
    response_model=AlertOut,
    tags=["alerts"],
    summary="Resolve an alert with its outcome and a note (acknowledging it if still open).",
    responses=problems(409),
)
async def resolve_alert(
    alert_id: str, body: ResolveIn, principal: Acker, alerts: AlertsDep
) -> AlertOut:
    """Again replaces outcome and note; a withdrawn alert is a 409 `alert_withdrawn`."""
    return await alerts.resolve(principal, alert_id[:64], body)


# --- the signed link ---------------------------------------------------------------------

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{head}</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}}
button{{font-size:1.2em;padding:.6em 1.2em}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def _page(lang: str, title: str, *paragraphs: str, form: str = "", status: int = 200) -> Response:
    """A page in `lang`: its title (a catalogue key), paragraphs of text (escaped), a form."""
    t = partial(text, lang)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) + form
    page = _PAGE.format(
        lang=lang, head=html.escape(t("page.title")), title=html.escape(t(title)), body=body
    )
    return HTMLResponse(page, status_code=status, headers=_HEADERS)


def _failure(request: Request, exc: LifelineError, lang: str | None = None) -> Response:
    # Browsers get a page; API clients the usual JSON error body.
    if "text/html" in request.headers.get("accept", ""):
        lang = lang or negotiate(request.headers.get("accept-language"))
        known = {"invalid_input", "link_expired", "link_used", "not_found"}
        reason = f"ack.failure.{exc.code if exc.code in known else 'other'}"
        return _page(lang, "ack.failure.title", text(lang, reason), status=exc.status)
    return JSONResponse(
        exc.body(), status_code=exc.status, headers=_HEADERS, media_type=exc.media_type
    )


@link_router.get(
    "/{token}",
    response_class=HTMLResponse,
    summary="Acknowledgement page of a signed link: a form only; nothing changes on GET.",
    responses=problems(410),
)
async def ack_page(
    token: str, request: Request, links: LinksDep, alerts: AlertsDep, clock: ClockDep
) -> Response:
    """Show a button that POSTs back here; opening the link (or a mail scanner) acks nothing."""
    try:
        alert_id = links.verify(token[:1024], clock.time()).alert_id
    except LifelineError as exc:
        return _failure(request, exc)
    lang = await _language(alerts, alert_id, request)
    button = html.escape(text(lang, "ack.form.button"))
    return _page(
        lang,
        "ack.form.title",
        text(lang, "ack.form.needs", alert_id=alert_id),
        text(lang, "ack.form.explain"),
        form=f'<form method="post"><button type="submit">{button}</button></form>',
    )


@link_router.post(
    "/{token}",
    response_class=HTMLResponse,
    summary="Acknowledge the alert named by a signed, unexpired link.",
    responses=problems(409, 410),
)
async def ack_by_link(
    token: str, request: Request, links: LinksDep, alerts: AlertsDep, clock: ClockDep
) -> Response:
    """Acknowledge; a second POST of the same link is refused (409 `link_used`)."""
    try:
        link = links.verify(token[:1024], clock.time())
    except LifelineError as exc:
        return _failure(request, exc)
    lang = await _language(alerts, link.alert_id, request)
    try:
        result = await alerts.ack_by_link(link)
    except LifelineError as exc:
        return _failure(request, exc, lang)
    ack = result.alert.acknowledged
    if result.already and ack is not None:
        at = f"{ack.at:%H:%M}"
        return _page(lang, "ack.already.title", text(lang, "ack.already.body", who=ack.by, at=at))
    if ack is None:
        return _page(lang, "ack.withdrawn.title", text(lang, "ack.withdrawn.body"))
    return _page(lang, "ack.done.title", text(lang, "ack.done.body"))


async def _language(alerts: AlertsDep, alert_id: str, request: Request) -> str:
    """The language of the lawyer the (genuine) link was sent for, else the browser's."""
    return await alerts.language_of(alert_id) or negotiate(request.headers.get("accept-language"))
