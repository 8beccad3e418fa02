"""Events sent right after their commit: forgotten once acked (by a callback, or by the writer's
next transaction), else handed back to the relay."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from libs.common.outbox import unsent
from libs.common.publisher import Publisher
from services.alerts.matching.releases import forget_in


class Relay:
    """What `Publisher` uses of `OutboxRelay`: claims, send, settle, wake, release."""

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

    def release(self, event_ids: Any) -> None:
        self.claimed.difference_update(event_ids)


class Runtime:
    def __init__(self, connected: bool) -> None:
        self.js = object()
        self.nc = type("Nc", (), {"is_connected": connected})()


def _row(event_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "subject": "s", "payload": b"{}", "trace_context": None}


async def _run(
    relay: Relay, *, connected: bool = True, fail: bool = False
) -> tuple[Publisher, list[list[str]]]:
    forgotten: list[list[str]] = []

    async def bookkeep(work: Any) -> None:
        if fail:
            raise OSError("database away")
        session = type("S", (), {})()

        async def execute(statement: Any, params: Any) -> None:
            forgotten.append(params["event_ids"])

        session.execute = execute
        await work(session)

    # As alerts wires its release requests: forgotten in the delivery bookkeeping.
    publisher = Publisher(cast(Any, Runtime(connected)), cast(Any, relay), forget_in(bookkeep))
    publisher.claim(["e1", "e2"])
    await publisher.publish([unsent(_row("e1")), unsent(_row("e2"))])
    await publisher.drain()
    return publisher, forgotten


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


async def test_without_a_callback_the_acked_wait_claimed_for_the_next_transaction() -> None:
    relay = Relay(acked=1)
    publisher = Publisher(cast(Any, Runtime(True)), cast(Any, relay))
    publisher.claim(["e1", "e2"])
    await publisher.publish([unsent(_row("e1")), unsent(_row("e2"))])
    await publisher.drain()
    # e1 stays claimed until a transaction deletes its row; e2 goes back to the relay.
    assert publisher.acked == ["e1"] and relay.claimed == {"e1"} and relay.woken == 1
    taken = publisher.take()
    publisher.release(taken)
    assert taken == ["e1"] and relay.claimed == set() and publisher.acked == []


async def test_a_send_that_fails_hands_the_events_back() -> None:
    class Failing(Relay):
        async def send(self, js: Any, rows: list[Any]) -> list[asyncio.Future[Any]]:
            raise OSError("connection reset")

    relay = Failing(acked=2)
    publisher = Publisher(cast(Any, Runtime(True)), cast(Any, relay))
    publisher.claim(["e1"])
    await publisher.publish([unsent(_row("e1"))])
    assert relay.claimed == set() and relay.woken == 1 and publisher.acked == []
