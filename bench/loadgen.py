"""A small closed-loop HTTP load generator shared by the benchmarks (N workers, fixed duration)."""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class LoadResult:
    """Throughput and latency of one run."""

    label: str
    seconds: float
    ok: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    fixed: dict[str, float] = field(default_factory=dict)  # percentiles reported by wrk

    def line(self) -> str:
        """One printable line: requests/s and p50/p99 latency."""
        lat = sorted(self.latencies_ms) or [0.0]
        p50 = self.fixed.get("50", statistics.median(lat))
        p99 = self.fixed.get("99", lat[min(len(lat) - 1, int(len(lat) * 0.99))])
        rate = self.ok / self.seconds if self.seconds else 0.0
        errs = f" errors={self.errors}" if self.errors else ""
        return f"{self.label:<28} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   n={self.ok}{errs}"

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.ok / self.seconds if self.seconds else 0.0


async def run_load(
    label: str,
    url: str,
    body: Callable[[], dict[str, Any]],
    headers: Callable[[], dict[str, str]],
    *,
    concurrency: int,
    seconds: float,
    ok_status: frozenset[int] = frozenset({200, 202}),
    pause_ms: float = 0.0,
) -> LoadResult:
    """POST `body()` to `url` from `concurrency` workers for `seconds` (each pausing `pause_ms`
    on average between requests); bounded by time."""
    result = LoadResult(label, seconds)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as http:

        async def worker() -> None:
            while time.monotonic() < deadline:
                payload, hdrs = body(), headers()
                started = time.perf_counter()
                resp = await http.post(url, json=payload, headers=hdrs)
                elapsed = (time.perf_counter() - started) * 1000
                if resp.status_code in ok_status:
                    result.ok += 1
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors[resp.status_code] = result.errors.get(resp.status_code, 0) + 1
                if pause_ms:  # exponential, like the wrk script: submitters out of lockstep
                    await asyncio.sleep(random.expovariate(1000 / pause_ms))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return result


def run_wrk(
    label: str,
    url: str,
    headers: dict[str, str],
    script: str,
    *,
    concurrency: int,
    seconds: float,
    pause_ms: float = 0.0,
) -> LoadResult:
    """The same measurement with wrk (C): throughput and the p50/p99 it reports."""
    argv = ["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", script]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*argv, url, "--", str(int(pause_ms))],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    result = LoadResult(label, seconds)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result.ok = total - (int(bad.group(1)) if bad else 0)
    if bad:
        result.errors[0] = int(bad.group(1))
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", out, re.MULTILINE):
        ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        result.fixed[pct] = ms
    return result
