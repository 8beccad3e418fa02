"""Intake's hot path: POST -> event in JetStream, flat-out throughput, CPU per report per process.

Starts the embedded network (`bench/intake_network.py`: `lifeline up` with a read-only tap on
the bus) in a temporary directory, on SQLite or (`--postgres SERVER_URL`) with each service in
a scratch PostgreSQL database, registers a submitter the way an administrator would, and runs:

- paced: reports arrive at `--rate` per second (Poisson, open loop) for `--seconds`; each
  event is timed from its POST being sent to the tap seeing it on `lifeline.report.received.v1`
  (the server stores it in the stream in the same pass), and the POST's own answer too;
- CPU per report of each process (intake, sharing, alerts, nats, console) over the paced run,
  from /proc (user + system, every thread), once sharing and alerts have caught up;
- the bare FastAPI endpoint below, paced the same way from the same client: the floor of one
  HTTP round trip and its CPU when requests arrive apart (each wakes the server), the limits
  the paced figures are read against;
- flat out: `--concurrency` submitters each sending the next report as soon as the last is
  answered (intake's CPU per report here too), then a bare FastAPI endpoint that only
  validates the same body, in the same run: the ratio of the two (driven by wrk; without it
  the ratio is the Python client's ceiling, shown apart from the target's row);
- the cryptography on one report's path, timed in this process (`crypto_bench`): with the bare
  POST's CPU at the same pace, the floor under the whole stack's CPU per report.

`--baseline REV` measures another revision's code first (exported with `git archive`, see
`bench/compare.py`) and prints both side by side; run it twice or more to interleave.

    .venv/bin/python bench/intake_bench.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
        [--rate 100] [--seconds 10] [--concurrency 16] [--baseline REV] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

# `--code DIR` (set by `--baseline`, see `bench/compare.py`): another revision's tree.
sys.path.insert(
    0,
    sys.argv[sys.argv.index("--code") + 1]
    if "--code" in sys.argv
    else str(Path(__file__).resolve().parent.parent),
)
# The bench's own helpers come from its directory (on the path as the script's): a baseline's
# tree may not have them.

import httpx
import intake_network as network
from loadgen import LoadResult, run_load, run_wrk

from libs.common import nats as natsx
from libs.common.auth.scopes import TOKEN_PATH
from libs.sdk import TokenSource, generate_private_key, public_jwk
from tests.support.databases import PgScratch
from tests.support.natsd import free_port

LUA = str(Path(__file__).with_name("report_post.lua"))
SERVICES = ("intake", "sharing", "alerts")


def body() -> dict[str, Any]:
    """A realistic report with seven identity tokens."""
    tokens = [
        {
            "kind": k,
            "version": 1,
            "value": base64.urlsafe_b64encode(os.urandom(64)).rstrip(b"=").decode(),
        }
        for k in (
            "name_dob",
            "name_year",
            "name",
            "part_dob_head",
            "part_dob_tail",
            "part_dob_head",
            "part_dob_tail",
        )
    ]
    return {
        "client_report_id": uuid.uuid4().hex,
        "incident_type": "detention",
        "legal_basis": "cis_interstate_search",
        "occurred_at": "2026-11-20T06:40:00+06:00",
        "place": {"country": "KG", "locality": "Bishkek", "facility_kind": "airport"},
        "requesting_state": "RU",
        "charges": [{"state": "RU", "code": "CC", "article": "207.3"}],
        "status": "ongoing",
        "tlp": "AMBER",
        "narrative": "Detained at passport control on arrival. " * 8,
        "contact_instructions": "Call the duty phone.",
        "subject": {"tokens": tokens, "sex": "male"},
    }


async def submitter_token(sharing: str, data_dir: Path) -> str:
    """Register a submitter as an administrator would, and get its access token."""
    async with httpx.AsyncClient(timeout=10) as http:
        admin_key = generate_private_key()
        secret = (data_dir / "admin-bootstrap-secret").read_text().strip()
        boot = await http.post(
            f"{sharing}/v1/admin/bootstrap",
            json={"secret": secret, "public_key": public_jwk(admin_key)},
        )
        boot.raise_for_status()
        admin = TokenSource(
            http,
            token_endpoint=sharing + TOKEN_PATH,
            client_id=boot.json()["client"]["id"],
            private_key=admin_key,
        )
        auth = {"Authorization": f"Bearer {await admin.token()}"}
        partner = (
            await http.post(
                f"{sharing}/v1/admin/partners", json={"name": "Bench NGO"}, headers=auth
            )
        ).json()
        client = (
            await http.post(
                f"{sharing}/v1/admin/clients",
                json={
                    "partner_id": partner["id"],
                    "name": "bench",
                    "role": "submitter",
                    "scopes": ["reports:submit"],
                },
                headers=auth,
            )
        ).json()
        key = generate_private_key()
        reg = await http.post(
            f"{sharing}/v1/admin/clients/{client['id']}/keys",
            json={"public_key": public_jwk(key)},
            headers=auth,
        )
        reg.raise_for_status()
        source = TokenSource(
            http, token_endpoint=sharing + TOKEN_PATH, client_id=client["id"], private_key=key
        )
        return await source.token()


class Tap:
    """The bench's subscription to the reports' subject: when each report's event arrived."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.nc: Any = None

    async def open(self, nats_url: str, data_dir: Path) -> None:
        """Connect as the tap user (certificate from the network's CA) and subscribe."""
        ca, cert, key = network.tap_credentials(data_dir)
        tls = natsx.tls_context(str(ca), str(cert), str(key))
        self.nc = await natsx.connect(nats_url, network.TAP, tls=tls)

        async def arrived(msg: Any) -> None:
            now = time.perf_counter()
            self.seen[json.loads(msg.data)["data"]["report_id"]] = now

        self.sub = await self.nc.subscribe(network.TAPPED, cb=arrived)

    async def close(self) -> None:
        """Stop listening."""
        if self.nc is not None:
            await self.nc.close()


async def paced(
    url: str, headers: dict[str, str], rate: float, seconds: float, tap: Tap | None
) -> tuple[list[float], list[float], int]:
    """Open-loop Poisson arrivals at `rate`/s: (POST->bus ms, POST answer ms, accepted); with
    no `tap` (the bare app), the answers only."""
    sent: dict[str, float] = {}
    answered: list[float] = []
    failed: list[str] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as http:

        async def one() -> None:
            payload = body()
            started = time.perf_counter()
            try:
                resp = await http.post(url, json=payload, headers=headers)
            except httpx.TransportError as exc:  # e.g. a keep-alive connection the server closed
                failed.append(type(exc).__name__)
                return
            if resp.status_code == 202:
                answered.append((time.perf_counter() - started) * 1000)
                if tap is not None:
                    sent[resp.json()["report_id"]] = started

        tasks = []
        due = time.perf_counter()
        end = due + seconds
        while due < end:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one()))
            due += random.expovariate(rate)
        await asyncio.gather(*tasks)
    if failed:
        print(f"  {len(failed)} POSTs failed on the connection ({', '.join(sorted(set(failed)))})")
    if tap is None:
        return [], answered, len(answered)
    for _ in range(50):  # the last events may still be on their way
        if all(rid in tap.seen for rid in sent):
            break
        await asyncio.sleep(0.1)
    to_bus = [(tap.seen[rid] - t) * 1000 for rid, t in sent.items() if rid in tap.seen]
    missing = len(sent) - len(to_bus)
    if missing:
        print(f"  {missing} accepted reports were not seen on the bus within 5 s")
    return to_bus, answered, len(sent)


def _stats(label: str, samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples) or [0.0]
    row = {
        "what": label,
        "n": len(samples),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }
    print(f"{label:<44} p50 {row['p50_ms']:>8.2f} ms   p99 {row['p99_ms']:>8.2f} ms  n={row['n']}")
    return row


def _value(label: str, value: float, unit: str) -> dict[str, Any]:
    print(f"{label:<44} {value:>10.2f} {unit}")
    return {"what": label, "value": round(value, 2), "unit": unit}


def _cpu_rows(
    label: str, spent: dict[str, float], idle: dict[str, float], seconds: float, n: int
) -> list[Any]:
    """CPU µs per report of each process (and their sum): what it spent over `seconds`, less
    what it spends idle in as long (pull consumers, tickers), over the `n` reports."""
    per = {name: max(spent[name] - idle[name] * seconds, 0.0) / max(n, 1) * 1e6 for name in spent}
    rows = []
    for name in (*sorted(per), "whole stack"):
        us = sum(per.values()) if name == "whole stack" else per[name]
        print(f"{label + ': ' + name:<44} {us:>10.0f} µs CPU/report")
        rows.append({"what": f"{label}: {name}", "n": n, "cpu_us": round(us)})
    return rows


def _write_rows(label: str, written: dict[str, int], n: int) -> list[dict[str, Any]]:
    """KB sent to storage per report by each process: the bus's share shows what the janitor's
    secure erasures cost (each rewrites the message's whole block, `docs/bus.md`)."""
    rows = []
    for name in sorted(written):
        kb = written[name] / max(n, 1) / 1000
        print(f"{label + ': ' + name:<44} {kb:>10.1f} KB/report")
        rows.append({"what": f"{label}: {name}", "value": round(kb, 1), "unit": "KB/report"})
    return rows


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after}


async def _idle(pids: dict[str, int], seconds: float = 6.0) -> dict[str, float]:
    """CPU seconds per second each process spends with no reports coming: the median of
    one-second windows, so that a straggling bit of earlier work (the janitor erasing the
    warm-up's copies) is not taken for idle and subtracted from every report."""
    windows: list[dict[str, float]] = []
    for _ in range(round(seconds)):
        before = network.cpu_seconds(pids)
        await asyncio.sleep(1.0)
        windows.append(_delta(before, network.cpu_seconds(pids)))
    rates = {k: statistics.median(w[k] for w in windows) for k in windows[0]}
    print("idle CPU, ms/s: " + ", ".join(f"{k} {v * 1000:.1f}" for k, v in sorted(rates.items())))
    return rates


async def _caught_up(pids: dict[str, int], quiet_s: float = 1.0) -> None:
    """Wait until sharing and alerts stop working through a backlog (CPU nearly idle)."""
    for _ in range(60):
        was = network.cpu_seconds(pids)
        await asyncio.sleep(quiet_s)
        now = network.cpu_seconds(pids)
        if sum(now[k] - was[k] for k in now) < 0.05 * quiet_s * len(now):
            return


def _with_wrk() -> bool:
    """True when wrk (C) drives the flat-out runs; without it the Python load generator shares
    the two cores with the servers and tops out first (about 680 requests/s here, against
    5,600/s from wrk for the bare app), so the ratio to bare FastAPI is not a measurement."""
    return shutil.which("wrk") is not None


async def _flat(
    label: str, url: str, headers: dict[str, str], concurrency: int, seconds: float
) -> LoadResult:
    if _with_wrk():  # a C load generator leaves the cores to the servers
        return run_wrk(label, url, headers, LUA, concurrency=concurrency, seconds=seconds)
    return await run_load(
        label, url, body, lambda: headers, concurrency=concurrency, seconds=seconds
    )


async def _bare_paced(url: str, pid: int, args: Any) -> list[dict[str, Any]]:
    """The bare app at the same pace from the same client: the floor of one HTTP round trip
    and its CPU on this machine when requests arrive apart (each one wakes the server)."""
    before = network.cpu_seconds({"bare": pid})
    _, answered, n = await paced(url, {}, args.rate, args.seconds, None)
    spent = _delta(before, network.cpu_seconds({"bare": pid}))["bare"]
    label = f"at {args.rate:.0f}/s"
    us = spent / max(n, 1) * 1e6
    print(f"{'CPU ' + label + ': bare FastAPI':<44} {us:>10.0f} µs CPU/request")
    return [
        _stats(f"bare FastAPI POST answered, {label}", answered),
        {"what": f"CPU {label}: bare FastAPI", "n": n, "cpu_us": round(us)},
    ]


async def measure(
    urls: dict[str, str], pids: dict[str, int], bare_url: str, bare_pid: int, tmp: Path, args: Any
) -> list[dict[str, Any]]:
    """The runs, once the network is up."""
    token = await submitter_token(urls["sharing"], tmp / "data")
    headers = {"Authorization": f"Bearer {token}"}
    intake = urls["intake"] + "/v1/reports"
    tap = Tap()
    await tap.open(urls["nats"], tmp / "data")
    try:
        await run_load("warm-up", intake, body, lambda: headers, concurrency=4, seconds=2)
        await _caught_up(pids)
        idle = await _idle(pids)
        cpu, started = network.cpu_seconds(pids), time.monotonic()
        written = network.disk_writes(pids)
        to_bus, answered, n = await paced(intake, headers, args.rate, args.seconds, tap)
        await _caught_up(pids)
        spent, seconds = _delta(cpu, network.cpu_seconds(pids)), time.monotonic() - started
        written = {k: v - written[k] for k, v in network.disk_writes(pids).items()}
        label = f"at {args.rate:.0f}/s"
        results = [
            _stats(f"POST -> JetStream, {label}", to_bus),
            _stats(f"POST answered, {label}", answered),
            *_cpu_rows(f"CPU {label}", spent, idle, seconds, n),
            *_write_rows(f"disk writes {label}", written, n),
        ]
    finally:
        await tap.close()
    cpu, started = network.cpu_seconds(pids), time.monotonic()
    flat = await _flat("intake, flat out", intake, headers, args.concurrency, args.seconds)
    spent, seconds = _delta(cpu, network.cpu_seconds(pids)), time.monotonic() - started
    # Sharing and alerts are still working through the backlog: intake's share only.
    us = max(spent["intake"] - idle["intake"] * seconds, 0.0) / max(flat.ok, 1) * 1e6
    print(f"{'CPU flat out: intake':<44} {us:>10.0f} µs CPU/report")
    results.append({"what": "CPU flat out: intake", "n": flat.ok, "cpu_us": round(us)})
    await _caught_up(pids)
    results += await _bare_paced(bare_url, bare_pid, args)
    bare = await _flat("bare FastAPI, flat out", bare_url, {}, args.concurrency, args.seconds)
    print(flat.line())
    print(bare.line())
    results += [
        _value("intake flat out", flat.rate, "reports/s"),
        _value("bare FastAPI flat out", bare.rate, "reports/s"),
        _value("intake / bare FastAPI", flat.rate / max(bare.rate, 1), "x"),
    ]
    return results


async def main(args: Any) -> list[dict[str, Any]]:
    """Start the network (and the bare app), measure, stop them."""
    env = {
        "LIFELINE_INTAKE_RATE_BURST": "1000000",
        "LIFELINE_INTAKE_RATE_PER_SECOND": "1000000",
    }
    scratch = PgScratch(args.postgres, ahead=0) if args.postgres else None
    databases = []
    for service in SERVICES if scratch else ():
        databases.append(scratch.take())  # type: ignore[union-attr]
        env[f"LIFELINE_{service.upper()}_DATABASE_URL"] = databases[-1]
    backend = "PostgreSQL" if scratch else "SQLite"
    print(
        f"intake bench: {backend}, {args.rate:.0f}/s paced, {args.concurrency} flat out; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        proc, urls = network.start(tmp, code=args.code, env=env, tap=True)
        bare_port = free_port()
        path = {**os.environ, "PYTHONPATH": args.code or ""}
        bare = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("bare_app.py")), str(bare_port)],
            env=path,
        )
        try:
            pids = network.processes(proc.pid)
            bare_url = f"http://127.0.0.1:{bare_port}/v1/reports"
            return await measure(urls, pids, bare_url, bare.pid, tmp, args)
        finally:
            bare.send_signal(signal.SIGTERM)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            bare.wait(timeout=10)
            for url in databases:
                scratch.give_back(url)  # type: ignore[union-attr]
            if scratch:
                scratch.close()


def emit(rows: list[dict[str, Any]]) -> None:
    """The issue's intake figures for `make bench`, beside the limits of the same run."""
    import crypto_bench  # this tree's, beside the script, as `results` is
    import results  # this tree's, beside the script; not in a baseline's tree

    by = {r["what"]: r for r in rows}
    bare = by["bare FastAPI flat out"]["value"]
    # The paced rows are named by their rate (`--rate`): the figure is at 100/s when it is 100.
    paced = next(r for r in rows if r["what"].startswith("POST -> JetStream"))
    stack = next(r for r in rows if r["what"].endswith(": whole stack"))
    # The paced floor: the bare app at the same pace (`_bare_paced`).
    floor = next(r for r in rows if r["what"].startswith("bare FastAPI POST answered"))
    bare_cpu = next(r for r in rows if r["what"].endswith(": bare FastAPI"))
    bus_writes = next(
        r for r in rows if r["what"].startswith("disk writes at ") and r["what"].endswith(": nats")
    )
    throughput = results.figure(
        "intake throughput / bare FastAPI", by["intake / bare FastAPI"]["value"], limit=bare
    )
    if not _with_wrk():
        # Then the ratio is the Python client's ceiling, not intake's: reported apart (the
        # issue's row reads "no figure"), never as a pass.
        what = f"{throughput.what}, Python client"
        throughput = replace(throughput, what=what, target=None, note="install wrk")
    # Whole-stack CPU cannot go under one bare POST plus the cryptography each report must go
    # through (sealed, signed, verified by each reader), measured here (`crypto_bench`).
    crypto = crypto_bench.report_path_us()
    label = "cryptography on a report's path"
    print(f"{label:<44} {sum(crypto.values()):>10.0f} µs CPU/report")
    for step, us in crypto.items():
        print(f"  {step:<42} {us:>10.0f} µs")
    results.emit(
        "intake",
        [
            results.figure(
                "intake POST → JetStream p50 at 100/s",
                paced["p50_ms"],
                limit=floor["p50_ms"],
                note=paced["what"],
            ),
            throughput,
            results.figure(
                "whole-stack CPU per report",
                stack["cpu_us"] / 1000,
                limit=(bare_cpu["cpu_us"] + sum(crypto.values())) / 1000,
            ),
            results.figure(
                "bus disk writes per report", bus_writes["value"], "KB", note="nats-server"
            ),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="SERVER_URL", help="services on PostgreSQL")
    parser.add_argument("--rate", type=float, default=100.0, help="paced reports/s (100)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run (10)")
    parser.add_argument("--concurrency", type=int, default=16, help="flat-out submitters (16)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--baseline", metavar="REV", help="measure this revision first, compare")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    common = ["--rate", str(args.rate), "--seconds", str(args.seconds)]
    common += ["--concurrency", str(args.concurrency)]
    common += ["--postgres", args.postgres] if args.postgres else []
    if args.baseline:
        import compare  # this tree's, beside the script

        before = compare.baseline(__file__, args.baseline, common)
    out = asyncio.run(main(args))
    if args.baseline:
        compare.side_by_side(before, out)
    emit(out)
    if args.json:
        print(json.dumps(out, indent=2))
