"""One pagination style for every list: an opaque `cursor`, a `limit`, and `Link: rel="next"`.

A cursor is base64url (no padding) of the compact JSON `[version, list name, position]`. The
position holds only where a page ended (ids, sequence numbers, instants): nothing secret, and
every query stays scoped by the caller, so a forged cursor moves a caller within its own rows
only. The list name makes one list's cursor useless to another (422 `invalid_cursor`).

The `Link` target is a relative reference holding only a query (`<?limit=2&cursor=…>`), so it
resolves against whatever URL the client used: the service's own, or the console's proxy path.
"""

# No `from __future__ import annotations`: FastAPI reads the dependency's annotations, which
# name this list's own bounds, at runtime.

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Query, Request, Response

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidCursor

VERSION = 1
MAX_CURSOR = 512  # characters: a position is a few ids, never more
PARAM = "cursor"  # the query parameter, as `InvalidCursor` names it
Position = tuple[Any, ...]


def encode_cursor(name: str, position: Sequence[Any]) -> str:
    """The opaque cursor of a position in the list `name` (instants as ISO 8601 text)."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in position]
    text = json.dumps([VERSION, name, values], separators=(",", ":"), ensure_ascii=True)
    return b64u_encode(text.encode("ascii"))


def _typed(kind: type, value: Any) -> Any:
    # bool is an int to Python, never a position here.
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < 2**63:  # the databases' signed 64-bit range: no driver overflow (500)
            return value
    elif kind is str and isinstance(value, str) and len(value) <= 128:
        return value
    elif kind is datetime and isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:  # SQLite hands back naive UTC: every instant compared is an aware one
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise InvalidCursor("not a cursor from this API")


def decode_cursor(name: str, shape: Sequence[type], cursor: str) -> Position:
    """The position a cursor of the list `name` names; anything else is a 422 problem."""
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor("too long")
    try:
        doc = json.loads(b64u_decode(cursor).decode("ascii"))
    except (InvalidKey, UnicodeDecodeError, ValueError):
        raise InvalidCursor("not a cursor from this API") from None
    if not (isinstance(doc, list) and len(doc) == 3 and doc[0] == VERSION):
        raise InvalidCursor("not a cursor from this API")
    if doc[1] != name:
        raise InvalidCursor("a cursor of another list")
    values = doc[2]
    if not isinstance(values, list) or len(values) != len(shape):
        raise InvalidCursor("not a cursor from this API")
    return tuple(_typed(kind, value) for kind, value in zip(shape, values, strict=True))


def next_link(request: Request, cursor: str, drop: Sequence[str] = ()) -> str:
    """`<?query>; rel="next"` (RFC 8288): the request's query with `cursor` replaced."""
    skip = {PARAM, *drop}
    query = [
        (k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in skip
    ]
    return f'<?{urlencode([*query, (PARAM, cursor)])}>; rel="next"'


@dataclass(frozen=True)
class Lister:
    """One list's paging: its cursor's name and shape, its page sizes, the parameters it
    replaces (deprecated, kept for one release, dropped from the `Link` it sends)."""

    name: str
    shape: tuple[type, ...]
    default: int
    maximum: int
    replaces: tuple[str, ...] = ()
    # A cursor this list handed out before this format, read for one release (else a 422).
    legacy: Callable[[str], Position] | None = None

    def decode(self, cursor: str) -> Position:
        """The position of one of this list's cursors."""
        try:
            return decode_cursor(self.name, self.shape, cursor)
        except InvalidCursor:
            if self.legacy is None:
                raise
            return self.legacy(cursor)

    def dependency(self) -> Callable[..., "Page"]:
        """A FastAPI dependency taking `cursor` and `limit`: the `Page` a route works with."""
        doc = "opaque: where the next page starts, from the page before (`Link: rel=next`)"

        def page(
            request: Request,
            response: Response,
            # The length is checked by `decode`, so a long cursor is `invalid_cursor` too.
            cursor: Annotated[
                str | None, Query(description=doc, json_schema_extra={"maxLength": MAX_CURSOR})
            ] = None,
            limit: Annotated[
                int, Query(ge=1, le=self.maximum, description="at most this many items")
            ] = self.default,
        ) -> Page:
            position = self.decode(cursor) if cursor else None
            return Page(self, request, response, position, limit)

        return page


@dataclass
class Page:
    """A request's place in a list; `follow` names where the next page starts."""

    lister: Lister
    request: Request
    response: Response
    position: Position | None
    limit: int

    def start(self, legacy: Position | None) -> Position | None:
        """The cursor's position, else the one a deprecated parameter named."""
        return self.position if self.position is not None else legacy

    def follow(self, position: Sequence[Any] | None) -> str | None:
        """The next page's cursor (and its `Link` header), or None on the last page."""
        if position is None:
            return None
        cursor = encode_cursor(self.lister.name, position)
        self.response.headers["Link"] = next_link(self.request, cursor, self.lister.replaces)
        return cursor


def split_page(rows: Sequence[Any], limit: int) -> tuple[list[Any], bool]:
    """Rows fetched with `limit + 1`: the page, and whether more follow."""
    return list(rows[:limit]), len(rows) > limit
