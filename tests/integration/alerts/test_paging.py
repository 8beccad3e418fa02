"""The alerts service's lists page one way: by `Link: rel=next`, each row once, in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import select

from libs.common.paging import encode_cursor
from services.alerts.alerts.models import Alert
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import report_event, tokens_for, until
from tests.support.paging import Listing, check_walk, walk

ALERTS = Alert.__table__  # type: ignore[attr-defined]
NAMES = [
    ("Лев Скорякин", "1999-03-14"),
    ("Анна Петрова", "1988-07-01"),
    ("Ильдар Галиев", "1975-12-30"),
    ("Мария Соколова", "2001-02-11"),
    ("Тимур Ахмедов", "1990-05-23"),
]
ENTRIES = Listing(lambda b: b["entries"], "id", ("id",), next_cursor=True)
NEWEST = Listing(
    lambda b: b["alerts"], "id", ("created_at", "id"), descending=True, next_cursor=True
)


def _as(stack: AlertsStack, client_id: str) -> Callable[[str], Awaitable[httpx.Response]]:
    async def get(url: str) -> httpx.Response:
        return await stack.call("GET", url, client_id=client_id)

    return get


async def _entries(stack: AlertsStack, client_id: str) -> list[str]:
    made = []
    for n, (name, dob) in enumerate(NAMES):
        body = {"label": f"client {n}", "tokens": tokens_for(name, dob)}
        resp = await stack.call("POST", "/v1/watchlist/entries", json=body, client_id=client_id)
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    return made


async def test_watchlist_entries_walk_by_link_and_stay_the_callers(stack: AlertsStack) -> None:
    mine = await _entries(stack, "lawyer-1")
    found, pages = await walk(_as(stack, "lawyer-1"), "/v1/watchlist/entries?limit=2", ENTRIES)
    check_walk(found, ENTRIES, mine)
    assert pages == 3 and len(found) == len(mine)
    # Another lawyer given lawyer-1's cursor (or a forged one) sees only their own entries.
    theirs = await _entries(stack, "lawyer-2")
    cursor = encode_cursor("watchlist.entries", ("",))
    first = await stack.call("GET", "/v1/watchlist/entries?limit=1", client_id="lawyer-1")
    for forged in (first.json()["next_cursor"], cursor):
        resp = await stack.call(
            "GET", "/v1/watchlist/entries", params={"cursor": forged}, client_id="lawyer-2"
        )
        assert {e["id"] for e in resp.json()["entries"]} <= set(theirs), forged
    # The deprecated `after` names the position the cursor does.
    old = await stack.call("GET", f"/v1/watchlist/entries?limit=2&after={found[1]['id']}")
    assert [e["id"] for e in old.json()["entries"]] == [e["id"] for e in found[2:4]]
    assert old.json()["next_after"] == found[3]["id"]
    for bad in ("x", encode_cursor("alerts", ("2026-01-01T00:00:00+00:00", "a"))):
        resp = await stack.call("GET", "/v1/watchlist/entries", params={"cursor": bad})
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_cursor", resp.text


async def test_alerts_walk_by_link_newest_first(stack: AlertsStack) -> None:
    await _entries(stack, "lawyer-1")
    # One person each: a second report of one person follows up its alert, no new one.
    events = [report_event(tokens_for(name, dob)) for name, dob in NAMES]
    for event in events:
        await stack.publish(event)

    async def alerted() -> bool:
        return len(await stack.db(select(ALERTS.c.id))) == len(events)

    assert await until(alerted), "no alerts"
    made = [r.id for r in await stack.db(select(ALERTS.c.id))]
    found, pages = await walk(_as(stack, "lawyer-1"), "/v1/alerts?limit=2&status=open", NEWEST)
    check_walk(found, NEWEST, made)
    assert pages == 3 and len(found) == len(made)
    # The deprecated `before` names the position the cursor does.
    first = (await stack.call("GET", "/v1/alerts?limit=2")).json()
    old = await stack.call("GET", "/v1/alerts", params={"limit": 2, "before": first["next_before"]})
    new = await stack.call("GET", "/v1/alerts", params={"limit": 2, "cursor": first["next_cursor"]})
    assert old.json()["alerts"] == new.json()["alerts"] == found[2:4]
    # Another lawyer walking from lawyer-1's cursor finds nothing of lawyer-1's.
    other = await stack.call(
        "GET", "/v1/alerts", params={"cursor": first["next_cursor"]}, client_id="lawyer-2"
    )
    assert other.status_code == 200 and other.json()["alerts"] == []
