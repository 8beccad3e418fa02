"""Walking a paged list the way a client should: follow `Link: rel=next` until it stops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

Get = Callable[[str], Awaitable[httpx.Response]]
MAX_PAGES = 100


@dataclass(frozen=True)
class Listing:
    """How a list answers: where its items are, what names one, and its documented order."""

    items: Callable[[Any], list[dict[str, Any]]]
    ident: str  # the field naming an item
    order: tuple[str, ...]  # the fields it is sorted by
    descending: bool = False
    # Object bodies name the next page too; the vault's sync feed always does.
    next_cursor: bool = False
    always_cursor: bool = False


def _key(item: dict[str, Any], fields: Sequence[str]) -> tuple[Any, ...]:
    values = []
    for name in fields:
        value = item[name]
        if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
            value = datetime.fromisoformat(value)  # instants compare as instants, not text
        values.append(value)
    return tuple(values)


async def walk(get: Get, url: str, listing: Listing) -> tuple[list[dict[str, Any]], int]:
    """Every item of the list from `url` on, and how many pages that took; each page checked."""
    found: list[dict[str, Any]] = []
    pages = 0
    while True:
        resp = await get(url)
        assert resp.status_code == 200, resp.text
        pages += 1
        body = resp.json()
        found += listing.items(body)
        link = resp.links.get("next", {}).get("url")
        if listing.next_cursor:
            cursor = body["next_cursor"]
            if listing.always_cursor:
                assert cursor, body
            else:
                assert (cursor is None) == (link is None), (cursor, link)
        if link is None:
            return found, pages
        assert link.startswith("?") and "cursor=" in link, link
        if listing.next_cursor and not listing.always_cursor:
            assert httpx.URL(link).params["cursor"] == body["next_cursor"]
        url = str(httpx.URL(url).join(link))
        assert pages < MAX_PAGES, "the list never ends"


def check_walk(items: list[dict[str, Any]], listing: Listing, expected: Sequence[str]) -> None:
    """Each item once, every expected one among them, in the documented order."""
    names = [item[listing.ident] for item in items]
    assert len(names) == len(set(names)), names
    assert set(expected) <= set(names), (expected, names)
    keys = [_key(item, listing.order) for item in items]
    assert keys == sorted(keys, reverse=listing.descending), keys
