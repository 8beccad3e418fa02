"""Delivery bookkeeping's group commit: batches share one transaction, a bad unit stays alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.alerts.delivery.recorder import Recorder


class Transactions:
    """Stands in for `Runtime.threads.run`: counts transactions, rolls back a failed one."""

    def __init__(self) -> None:
        self.committed: list[list[str]] = []
        self.count = 0

    async def __call__(self, work: Any) -> Any:
        self.count += 1
        session: list[str] = []
        result = await work(session)  # raises: nothing of it is committed
        self.committed.append(session)
        return result


def unit(name: str, fail: bool = False) -> Any:
    async def work(session: list[str]) -> str:
        if fail:
            raise RuntimeError(name)
        session.append(name)
        return name

    return work


async def test_attempts_finishing_together_share_one_transaction() -> None:
    tx = Transactions()
    recorder = Recorder(tx, linger_s=0.01)
    results = await asyncio.gather(*(recorder.run(unit(f"a{i}")) for i in range(5)))
    assert results == [f"a{i}" for i in range(5)]
    assert tx.committed == [[f"a{i}" for i in range(5)]]


async def test_a_failing_unit_rolls_back_the_batch_and_the_others_are_recorded_alone() -> None:
    tx = Transactions()
    recorder = Recorder(tx, linger_s=0.01)
    runs = [recorder.run(unit("a")), recorder.run(unit("bad", fail=True)), recorder.run(unit("c"))]
    a, bad, c = await asyncio.gather(*runs, return_exceptions=True)
    assert (a, c) == ("a", "c") and isinstance(bad, RuntimeError)
    assert tx.committed == [["a"], ["c"]]  # the batch's transaction never committed
    assert tx.count == 4


async def test_units_queued_during_a_commit_go_in_the_next_batch() -> None:
    tx = Transactions()
    recorder = Recorder(tx, linger_s=0.0)
    first = asyncio.create_task(recorder.run(unit("a")))
    await asyncio.sleep(0)
    later = [asyncio.create_task(recorder.run(unit(n))) for n in ("b", "c")]
    await asyncio.gather(first, *later)
    assert tx.committed[0] == ["a"] and sorted(n for batch in tx.committed[1:] for n in batch) == [
        "b",
        "c",
    ]


async def test_a_single_failing_unit_raises_to_its_waiter() -> None:
    recorder = Recorder(Transactions(), linger_s=0.0)
    with pytest.raises(RuntimeError):
        await recorder.run(unit("bad", fail=True))
