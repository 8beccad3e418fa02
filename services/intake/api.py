"""Intake routes: parse, call, return."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import BaseModel

from libs.common import nats as natsx
from libs.common.contracts import SystemPing, new_event
from libs.common.errors import Unavailable
from libs.common.openapi import RATE_LIMITED
from libs.common.paging import Lister, Page
from libs.common.reports import ReportIn
from libs.common.reports.model import example_report
from services.intake.deps import Admin, ContainerDep, IdempotentSubmit, IntakeDep, Submitter
from services.intake.schemas import Receipt, ReportAccepted

router = APIRouter()
# Newest first; `before` (a report id, deprecated) named the position of that report.
RECEIPTS = Lister("intake.receipts", (datetime, str), default=50, maximum=200, replaces=("before",))
# The report `lifeline report template` writes, with its person already turned into tokens.
_REPORT_EXAMPLES = {
    "detention": {"summary": "a detention on a CIS search request", "value": example_report()}
}


@router.post(
    "/v1/reports",
    status_code=202,
    response_model=ReportAccepted,
    tags=["reports"],
    summary="Submit an incident report; 202 when accepted, 200 for a retry of the same one.",
    responses={200: {"model": ReportAccepted}, 409: {}, 422: {}, 429: {}},
    openapi_extra={RATE_LIMITED: True},
)
async def submit_report(
    report: Annotated[ReportIn, Body(openapi_examples=_REPORT_EXAMPLES)],
    principal: Submitter,
    _key: IdempotentSubmit,
    response: Response,
    intake: IntakeDep,
) -> ReportAccepted:
    """Validate, seal to sharing and store with its event in one transaction."""
    report_id, created = await intake.submit(principal, report)
    response.headers.update(intake.rate_headers(principal))
    if not created:
        response.status_code = 200
    return ReportAccepted(report_id=report_id, status="received" if created else "duplicate")


@router.get(
    "/v1/reports",
    response_model=list[Receipt],
    tags=["reports"],
    summary="Receipts of the caller's partner's reports, newest first (ids and progress only).",
)
async def report_receipts(
    principal: Submitter,
    intake: IntakeDep,
    page: Annotated[Page, Depends(RECEIPTS.dependency())],
    before: Annotated[str | None, Query(max_length=64, deprecated=True)] = None,
) -> list[Receipt]:
    """Follow `Link: rel=next` for the next page; never a report's content."""
    legacy = None
    if before is not None and page.position is None:
        legacy = await intake.receipt_position(principal, before)
        if legacy is None:
            return []  # what a deprecated `before` naming no report of the caller's answered
    rows, last = await intake.receipts(principal, page.start(legacy), page.limit)
    page.follow(last)
    return [Receipt.model_validate(row) for row in rows]


@router.get(
    "/v1/reports/{report_id}/receipt",
    response_model=Receipt,
    tags=["reports"],
    summary="Receipt of one of the caller's own reports: received, published or stored.",
)
async def report_receipt(report_id: str, principal: Submitter, intake: IntakeDep) -> Receipt:
    """The progress of a report the caller's partner submitted; 404 for anyone else's."""
    return Receipt.model_validate(await intake.receipt(principal, report_id[:64]))


class PingAccepted(BaseModel):
    """The id of the ping event that was published."""

    event_id: str
    stream_seq: int


@router.post(
    "/v1/system/ping",
    status_code=202,
    response_model=PingAccepted,
    tags=["system"],
    summary="Publish a lifeline.system.ping.v1 event to prove the event wiring end to end.",
)
async def ping(_: Admin, c: ContainerDep) -> PingAccepted:
    """Publish one ping event; sharing and alerts record it in their inboxes."""
    runtime = c.runtime
    if runtime.js is None or runtime.nc is None or not runtime.nc.is_connected:
        raise Unavailable("nats is not connected")
    event = new_event(SystemPing(note="ping"), "intake", at=c.clock.now())
    try:
        seq = await natsx.publish(runtime.js, event, timeout=2.0, signer=runtime.signer)
    except Exception as exc:
        raise Unavailable("publish failed") from exc
    return PingAccepted(event_id=event.id, stream_seq=seq)
