"""Receipts page by `Link: rel=next`: each once, newest first, and only the caller's partner's."""

from __future__ import annotations

import httpx

from libs.common.paging import encode_cursor
from tests.integration.intake.conftest import IntakeStack
from tests.support.paging import Listing, check_walk, walk
from tests.support.reports import report_body

RECEIPTS = Listing(lambda b: b, "report_id", ("received_at", "report_id"), descending=True)


async def _submit(stack: IntakeStack, org: str, n: int) -> list[str]:
    made = []
    for _ in range(n):
        resp = await stack.http.post(
            "/v1/reports", json=report_body(), headers=stack.headers(org=org)
        )
        assert resp.status_code == 202, resp.text
        made.append(resp.json()["report_id"])
    return made


async def test_receipts_walk_by_link_and_a_cursor_never_crosses_partners(
    intake_stack: IntakeStack,
) -> None:
    mine = await _submit(intake_stack, "partner-c", 5)
    theirs = await _submit(intake_stack, "partner-d", 2)

    async def get(url: str, org: str = "partner-c") -> httpx.Response:
        return await intake_stack.http.get(url, headers=intake_stack.headers(org=org))

    found, pages = await walk(get, "/v1/reports?limit=2", RECEIPTS)
    check_walk(found, RECEIPTS, mine)
    assert pages == 3 and len(found) == len(mine)
    # partner-c's cursor (or one forged from the newest possible position) in partner-d's hands
    # walks partner-d's receipts only.
    first = await get("/v1/reports?limit=1")
    cursor = httpx.URL(first.links["next"]["url"]).params["cursor"]
    forged = encode_cursor("intake.receipts", ("9999-01-01T00:00:00+00:00", "~"))
    for position in (cursor, forged):
        resp = await get(f"/v1/reports?cursor={position}", org="partner-d")
        assert resp.status_code == 200
        assert {r["report_id"] for r in resp.json()} <= set(theirs), position
    for bad in ("x", encode_cursor("alerts", ("2026-01-01T00:00:00+00:00", "a")), "A" * 600):
        resp = await get(f"/v1/reports?cursor={bad}")
        assert resp.status_code == 422, resp.text
        assert resp.json()["fields"][0]["path"] == "cursor"
