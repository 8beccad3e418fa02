"""Idempotency-Key on alerts' creates: a watchlist entry added once, whatever the retries."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.alerts.watchlists.models import WatchlistEntry
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import tokens_for

LEV = tokens_for("Лев Скорякин", "1999-03-14")


async def _entries(stack: AlertsStack) -> int:
    return int((await stack.db(select(func.count()).select_from(WatchlistEntry)))[0][0])


async def test_a_retried_entry_is_replayed_and_another_body_refused(stack: AlertsStack) -> None:
    key = f'"{uuid.uuid4()}"'
    body = {"label": "client 7", "tokens": LEV}
    first = await stack.call(
        "POST", "/v1/watchlist/entries", json=body, headers={"Idempotency-Key": key}
    )
    assert first.status_code == 201, first.text
    count = await _entries(stack)
    again = await stack.call(
        "POST", "/v1/watchlist/entries", json=body, headers={"Idempotency-Key": key}
    )
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await stack.call(
        "POST",
        "/v1/watchlist/entries",
        json={**body, "label": "client 8"},
        headers={"Idempotency-Key": key},
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert await _entries(stack) == count
    # Another lawyer's identical key is its own: its entry is created.
    theirs = await stack.call(
        "POST",
        "/v1/watchlist/entries",
        client_id="lawyer-2",
        json=body,
        headers={"Idempotency-Key": key},
    )
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert await _entries(stack) == count + 1
