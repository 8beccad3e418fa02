"""The background ticker: a long safety poll, woken at once, and quick to retry unfinished work."""

from __future__ import annotations

import asyncio

from libs.common.ticker import Ticker


async def _runs_within(ticker: Ticker, work_log: list[float], seconds: float) -> bool:
    start = len(work_log)
    for _ in range(int(seconds / 0.01)):
        if len(work_log) > start:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_woken_ticker_runs_at_once_and_otherwise_waits_its_interval() -> None:
    ticker, stop, ran = Ticker(interval=60.0, retry=0.05), asyncio.Event(), []

    async def work() -> None:
        ran.append(asyncio.get_running_loop().time())

    task = asyncio.create_task(ticker.run(stop, work, "test"))
    try:
        assert not await _runs_within(ticker, ran, 0.3)
        ticker.wake()
        assert await _runs_within(ticker, ran, 0.3)
        assert not await _runs_within(ticker, ran, 0.3)  # no retry was asked for
    finally:
        stop.set()
        ticker.wake()
        await task


async def test_work_left_undone_or_failed_runs_again_after_the_retry_not_the_interval() -> None:
    ticker, stop, ran = Ticker(interval=60.0, retry=0.05), asyncio.Event(), []

    async def work() -> None:
        ran.append(asyncio.get_running_loop().time())
        if len(ran) == 1:
            ticker.soon()  # e.g. rows still waiting for NATS
        elif len(ran) == 2:
            raise OSError("database away")

    task = asyncio.create_task(ticker.run(stop, work, "test"))
    try:
        ticker.wake()
        for _ in range(100):
            if len(ran) >= 3:
                break
            await asyncio.sleep(0.01)
        assert len(ran) == 3
        assert not await _runs_within(ticker, ran, 0.3)  # done: back to the long interval
    finally:
        stop.set()
        ticker.wake()
        await task


def test_the_retry_is_never_longer_than_the_interval() -> None:
    assert Ticker(interval=0.01).retry == 0.01
