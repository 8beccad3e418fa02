"""Comparing error answers: the same problem, whatever the request's id."""

from __future__ import annotations

from typing import Any

import httpx


def sameness(resp: httpx.Response) -> dict[str, Any]:
    """The problem body without its request id (which must be the one in `X-Request-ID`).

    Two answers that must not be told apart (a hidden report and a missing one) are equal here.
    """
    body = dict(resp.json())
    assert body.pop("request_id") == resp.headers["x-request-id"]
    return body
