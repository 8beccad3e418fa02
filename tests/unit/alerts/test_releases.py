"""Release requests sent right after their commit: forgotten once acked, else the relay's."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from services.alerts.matching.releases import Releases


class Relay:
    """What `Releases` uses of `OutboxRelay`: claims, send, settle, wake."""

    def __init__(self, acked: int) -> None:
        self.claimed: set[str] = set()
        self.acked = acked
        self.woken = 0
        self.sent: list[str] = []

    async def send(self, js: Any, rows: list[Any]) -> list[asyncio.Future[Any]]:
        self.sent += [r.event_id for r in rows]
        return []

    async def settle(self, rows: list[Any], futures: list[Any]) -> list[Any]:
        return list(rows)[: self.acked]

    def wake(self) -> None:
        self.woken += 1


class Runtime:
    def __init__(self, connected: bool) -> None:
        self.js = object()
        self.nc = type("Nc", (), {"is_connected": connected})()


def _row(event_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "subject": "s", "payload": b"{}", "trace_context": None}


async def _run(
    relay: Relay, *, connected: bool = True, fail: bool = False
) -> tuple[Releases, list[list[str]]]:
    forgotten: list[list[str]] = []

    async def bookkeep(work: Any) -> None:
        if fail:
            raise OSError("database away")
        session = type("S", (), {})()

        async def execute(statement: Any, params: Any) -> None:
            forgotten.append(params["event_ids"])

        session.execute = execute
        await work(session)

    releases = Releases(cast(Any, Runtime(connected)), cast(Any, relay), bookkeep)
    releases.claim(["e1", "e2"])
    await releases.publish([_row("e1"), _row("e2")])
    await releases.drain()
    return releases, forgotten


async def test_acknowledged_requests_are_forgotten_in_the_next_bookkeeping() -> None:
    relay = Relay(acked=2)
    _, forgotten = await _run(relay)
    assert relay.sent == ["e1", "e2"] and forgotten == [["e1", "e2"]]
    assert relay.claimed == set() and relay.woken == 0  # nothing left for the relay


async def test_unacknowledged_requests_go_back_to_the_relay() -> None:
    relay = Relay(acked=1)
    _, forgotten = await _run(relay)
    assert forgotten == [["e1"]] and relay.claimed == set() and relay.woken == 1


async def test_requests_not_forgotten_or_not_sent_go_back_to_the_relay() -> None:
    relay = Relay(acked=2)
    _, forgotten = await _run(relay, fail=True)
    assert forgotten == [] and relay.claimed == set() and relay.woken == 1
    offline = Relay(acked=2)
    await _run(offline, connected=False)
    assert offline.sent == [] and offline.claimed == set() and offline.woken == 1
