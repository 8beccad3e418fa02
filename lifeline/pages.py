"""Reading a paged list as the API asks: follow `Link: rel=next` until there is none."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from lifeline.client import Api, api_error


async def walk(
    http: httpx.AsyncClient,
    url: str,
    params: Mapping[str, Any] | None = None,
    *,
    key: str | None = None,
    every: bool = True,
) -> tuple[list[Any], str | None]:
    """The items of every page (or only the first, `every=False`), and the cursor of the page
    after the last one read (None: nothing more). `key` names the items in an object body."""
    at = httpx.URL(url, params={k: v for k, v in (params or {}).items() if v is not None})
    found: list[Any] = []
    while True:
        response = await http.get(at)
        if not response.is_success:
            raise api_error(response)
        body = response.json()
        found += body[key] if key else body
        link = response.links.get("next", {}).get("url")
        if link is None:
            return found, None
        # The target is relative (a query): it resolves against the URL just asked.
        at = at.join(link)
        if not every:
            return found, at.params.get("cursor")


async def every_item(
    api: Api, path: str, params: Mapping[str, Any] | None = None, *, key: str | None = None
) -> list[Any]:
    """Every item of a paged list of `api`'s service."""
    return (await walk(api.http, api.base_url + path, params, key=key))[0]


def add_paging_options(parser: argparse.ArgumentParser, limit: int) -> None:
    """`--limit`, `--cursor` and `--all` for a command that lists one page by default."""
    parser.add_argument("--limit", type=int, default=limit, help=f"a page of this many ({limit})")
    parser.add_argument("--cursor", help="start at this page (printed when more follow)")
    parser.add_argument("--all", action="store_true", help="every page, not only the first")


def note_more(cursor: str | None) -> None:
    """Tell the person (on stderr: the listing itself stays parseable) how to read on."""
    if cursor:
        print(f"more follow: --cursor {cursor} (or --all)", file=sys.stderr)
