"""The opaque cursor: round trips, and anything else a 422 `invalid_cursor` naming `cursor`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import Response
from starlette.requests import Request

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.errors import InvalidCursor
from libs.common.paging import MAX_CURSOR, Lister, Page, decode_cursor, encode_cursor, next_link

SHAPE = (datetime, str)
AT = datetime(2026, 11, 20, 6, 40, 0, 123457, tzinfo=UTC)


def _raw(doc: object) -> str:
    return b64u_encode(json.dumps(doc).encode())


def test_positions_round_trip_as_base64url_without_padding() -> None:
    for name, shape, position in (
        ("alerts", SHAPE, (AT, "a1")),
        ("alerts", SHAPE, (AT.astimezone(timezone(timedelta(hours=6))), "")),
        ("audit", (int,), (2**63 - 1,)),
        ("reports", (int, str), (0, "0b7f1c9e-5a4e-4a53-9d2b-1f6f0c2b9a11")),
    ):
        cursor = encode_cursor(name, position)
        assert "=" not in cursor and "+" not in cursor and "/" not in cursor
        assert decode_cursor(name, shape, cursor) == position
    # SQLite hands back naive UTC: it comes back as the same instant, aware.
    naive = encode_cursor("alerts", (AT.replace(tzinfo=None), "a"))
    assert decode_cursor("alerts", SHAPE, naive) == (AT, "a")


def test_a_cursor_of_another_list_is_refused() -> None:
    with pytest.raises(InvalidCursor) as refused:
        decode_cursor("watchlist.entries", (str,), encode_cursor("alerts", ("a",)))
    assert refused.value.status == 422 and refused.value.code == "invalid_cursor"
    assert refused.value.fields == [{"path": "cursor", "reason": "a cursor of another list"}]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x",
        "not base64!",
        encode_cursor("audit", (1,)) + "A",  # tampered: no longer canonical base64url
        encode_cursor("audit", (1,)) + "=",  # padded
        b64u_encode(b"\xff\xfe"),  # not ASCII
        b64u_encode(b"[1,"),  # not JSON
        _raw({"v": 1}),
        _raw([2, "audit", [1]]),  # another version
        _raw([1, "audit", [1, 2]]),  # another shape
        _raw([1, "audit", 1]),
        _raw([1, "audit", [True]]),  # bool is no position
        _raw([1, "audit", [-1]]),
        _raw([1, "audit", [2**63]]),  # past what the databases hold (a driver overflow)
        _raw([1, "audit", ["1"]]),
        _raw([1, "audit", [1.5]]),
        _raw([1, "audit", [None]]),
        _raw([1, "audit", [[1]]]),
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor("audit", (int,), cursor)


@pytest.mark.parametrize(
    "values",
    [["not a time", "a"], [1, "a"], ["2026-01-01T00:00:00", 1], ["2026-01-01", "a" * 129]],
)
def test_instants_and_ids_are_checked(values: list[object]) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor("alerts", SHAPE, _raw([1, "alerts", values]))


def test_a_cursor_too_long_is_refused_before_it_is_decoded() -> None:
    long = encode_cursor("alerts", (AT, "a" * 500))
    assert len(long) > MAX_CURSOR
    with pytest.raises(InvalidCursor) as refused:
        decode_cursor("alerts", (datetime, str), long)
    assert refused.value.fields[0]["reason"] == "too long"


def test_a_cursor_names_a_position_only() -> None:
    cursor = encode_cursor("alerts", (AT, "a1"))
    assert json.loads(b64u_decode(cursor)) == [1, "alerts", [AT.isoformat(), "a1"]]


def _request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/v1/x", "query_string": query.encode(),
                    "headers": [], "server": ("test", 80), "scheme": "http"})  # fmt: skip


def test_the_next_link_keeps_the_query_and_replaces_the_cursor() -> None:
    request = _request("status=open&limit=2&cursor=old&before=x&q=a%20b&empty=")
    link = next_link(request, "NEW", drop=("before",))
    assert link == '<?status=open&limit=2&q=a+b&empty=&cursor=NEW>; rel="next"'


def test_a_page_sends_link_only_while_more_may_follow() -> None:
    lister = Lister("audit", (int,), default=2, maximum=10, replaces=("after",))
    request = _request("after=3&limit=2")
    last = Page(lister, request, Response(), None, 2)
    assert last.follow(None) is None and "link" not in last.response.headers
    more = Page(lister, request, Response(), None, 2)
    cursor = more.follow((5,))
    assert more.response.headers["link"] == f'<?limit=2&cursor={cursor}>; rel="next"'
    assert decode_cursor("audit", (int,), str(cursor)) == (5,)
    # The cursor's position wins over a deprecated parameter's; without one, that one counts.
    assert Page(lister, request, Response(), (9,), 2).start((3,)) == (9,)
    assert more.start((3,)) == (3,)


def test_a_list_reads_its_cursors_of_the_format_before_for_one_release() -> None:
    def legacy(text: str) -> tuple[int]:
        if text != "old-format":
            raise InvalidCursor()
        return (7,)

    lister = Lister("feed", (int,), default=2, maximum=10, legacy=legacy)
    assert lister.decode("old-format") == (7,)
    assert lister.decode(encode_cursor("feed", (8,))) == (8,)
    with pytest.raises(InvalidCursor):
        lister.decode(encode_cursor("other", (8,)))
