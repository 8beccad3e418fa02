"""Watchlist routes: add, list, show, remove a lawyer's entries (parse, call, return)."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from libs.common.paging import Lister, Page
from services.alerts.deps import IdempotentManager, Manager, WatchlistDep
from services.alerts.watchlists.schemas import EntryIn, EntryOut, EntryPage

router = APIRouter(prefix="/v1/watchlist", tags=["watchlist"])
# Ordered by id; `after` (an entry id, deprecated) named the same position.
ENTRIES = Lister("watchlist.entries", (str,), default=100, maximum=1000, replaces=("after",))


@router.post(
    "/entries",
    status_code=201,
    response_model=EntryOut,
    summary="Add a watchlist entry (label + identity tokens); 200 if it exists unchanged.",
    responses={200: {"model": EntryOut}, 409: {}, 422: {}},
)
async def add_entry(
    body: EntryIn,
    principal: Manager,
    _key: IdempotentManager,
    watchlist: WatchlistDep,
    response: Response,
) -> EntryOut:
    """Create an entry; re-adding a label with the same content is a no-op (idempotent import)."""
    entry = await watchlist.add(principal, body)
    if entry.status != "created":
        response.status_code = 200
    return entry


@router.get(
    "/entries",
    response_model=EntryPage,
    summary="The caller's watchlist entries, a page at a time.",
)
async def list_entries(
    principal: Manager,
    watchlist: WatchlistDep,
    page: Annotated[Page, Depends(ENTRIES.dependency())],
    after: Annotated[str | None, Query(max_length=64, deprecated=True)] = None,
) -> EntryPage:
    """Entries ordered by id; follow `Link: rel=next` (or `next_cursor`) for the next page."""
    start = page.start((after,) if after else None)
    found, last = await watchlist.list(principal, start[0] if start else None, page.limit)
    cursor = page.follow((last,) if last else None)
    return EntryPage(entries=found, next_cursor=cursor, next_after=last)


@router.get(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="One of the caller's watchlist entries.",
)
async def get_entry(entry_id: str, principal: Manager, watchlist: WatchlistDep) -> EntryOut:
    """The entry, or 404 (also for another lawyer's entry)."""
    return await watchlist.get(principal, entry_id[:64])


@router.delete(
    "/entries/{entry_id}",
    status_code=204,
    summary="Remove one of the caller's watchlist entries; it never matches again.",
)
async def remove_entry(entry_id: str, principal: Manager, watchlist: WatchlistDep) -> Response:
    """Remove the entry and its tokens."""
    await watchlist.remove(principal, entry_id[:64])
    return Response(status_code=204)


@router.delete(
    "/entries/{entry_id}/suppressions/{suppression_id}",
    status_code=204,
    summary='Lift a "not my client" suppression: that person\'s reports alert the entry again.',
)
async def lift_suppression(
    entry_id: str, suppression_id: str, principal: Manager, watchlist: WatchlistDep
) -> Response:
    """404 for an unknown, lifted or another lawyer's suppression."""
    await watchlist.lift(principal, entry_id[:64], suppression_id[:64])
    return Response(status_code=204)
