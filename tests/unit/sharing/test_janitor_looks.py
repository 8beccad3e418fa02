"""The bus janitor under a steady flow: it looks again for a drained moment before giving up."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from services.sharing.vault.copies import repository as repo
from services.sharing.vault.copies.service import LOOKS, NEAR, STREAM, BusJanitor


class SteadyFlow:
    """JetStream as a reader that keeps up sees it: `behind` messages behind for the first
    `busy` looks (new ones arrived before the last was acknowledged), then drained a moment."""

    def __init__(self, busy: int, behind: int = 1) -> None:
        self.busy, self.behind, self.looks, self.last = busy, behind, 0, 100
        self.purged: list[int] = []
        self.deleted: list[int] = []

    async def stream_info(self, stream: str) -> Any:
        self.looks += 1
        if self.looks <= self.busy:
            self.last += 1  # the flow goes on between looks
        return SimpleNamespace(state=SimpleNamespace(last_seq=self.last, messages=1))

    async def consumer_info(self, stream: str, durable: str) -> Any:
        # Each reader has acknowledged all but the newest while busy, everything after.
        behind = self.behind if self.looks < self.busy else 0
        return SimpleNamespace(ack_floor=SimpleNamespace(stream_seq=self.last - behind))

    async def purge_stream(self, stream: str, seq: int) -> None:
        self.purged.append(seq)

    async def delete_msg(self, stream: str, seq: int) -> None:
        self.deleted.append(seq)


def _threads(recorded: list[int]) -> Any:
    """The janitor's database work: every copy is recorded, none is due alone yet."""

    async def run(work: Callable[..., Any]) -> Any:
        func = work.func if isinstance(work, functools.partial) else work
        if func is repo.streams_left:
            return {STREAM}
        if func is repo.due:
            return []
        if func is repo.forget_upto:
            recorded.append(work.keywords["last"])
            return 1
        raise AssertionError(f"unexpected work {func}")

    return SimpleNamespace(run=run)


def _janitor(js: SteadyFlow, forgotten: list[int]) -> BusJanitor:
    nc = SimpleNamespace(is_connected=True)
    runtime = SimpleNamespace(js=js, nc=nc, threads=_threads(forgotten), stop=asyncio.Event())
    return BusJanitor(runtime)  # type: ignore[arg-type]


async def test_a_sweep_that_finds_the_stream_busy_looks_again_and_purges_when_it_drains() -> None:
    js, forgotten = SteadyFlow(busy=LOOKS - 2), []
    await _janitor(js, forgotten).sweep()
    assert js.purged == [js.last + 1]  # one purge up to the drained moment's last message
    assert forgotten == [js.last] and js.deleted == []  # nothing erased alone


async def test_a_stream_that_never_drains_during_a_sweep_is_left_for_the_next_one() -> None:
    js, forgotten = SteadyFlow(busy=10 * LOOKS), []
    await _janitor(js, forgotten).sweep()
    assert js.looks == LOOKS  # a bounded number of looks per sweep
    assert js.purged == [] and forgotten == [] and js.deleted == []


async def test_readers_with_a_backlog_get_one_look_not_ten() -> None:
    # Far behind, they will not drain within the looks: looking again only costs requests.
    js, forgotten = SteadyFlow(busy=10 * LOOKS, behind=NEAR + 1), []
    await _janitor(js, forgotten).sweep()
    assert js.looks == 1
    assert js.purged == [] and forgotten == [] and js.deleted == []


async def test_readers_a_few_messages_behind_are_looked_at_again() -> None:
    # `behind` acknowledged, and one more arrives while the janitor looks: NEAR in all.
    js, forgotten = SteadyFlow(busy=LOOKS - 2, behind=NEAR - 1), []
    await _janitor(js, forgotten).sweep()
    assert js.purged == [js.last + 1] and forgotten == [js.last]
