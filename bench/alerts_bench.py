"""Alert latency and CPU: report submitted → signed webhook received, against 1M watchlist entries.

Starts `lifeline up` in a temporary directory (SQLite, or scratch PostgreSQL databases with
`--postgres`; local nats-server), registers an NGO submitter and a lawyer the way an
administrator would, sets the lawyer's webhook (a receiver in this process that verifies every
signature with `standardwebhooks`), loads the watchlist (one entry through the API, the rest
written straight into alerts' database in one transaction: 7 tokens each, kinds as the
canonicaliser makes them, random values; `bench/alerts_load.py`), then measures in one run:

1. intake: `POST /v1/reports` → webhook received (the whole path: intake, outbox relay,
   JetStream, matching, delivery) — `--reports` reports at `--rate` per second, each matching
   one entry; and the CPU time each process of the network spent per report meanwhile;
2. alerts only: `lifeline.report.received.v1` published straight to JetStream → webhook, and
   alerts' CPU per matched report;
3. the limits, same run: alerts' CPU per report that matches nobody (published the same way),
   and bare JetStream publish → pull fetch → ack of a small message at the same rate.

`--baseline REV` runs the same measurements first with the network of another revision (its
tree exported by `bench/compare.py`; this process, the load and the receiver stay this tree's)
and prints both side by side; `--rounds N` alternates the two N times (the machine is shared:
compare ranges).

    .venv/bin/python bench/alerts_bench.py [--entries 1000000] [--reports 1000] [--rate 50]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--baseline REV] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nats.js.api import DeliverPolicy

from bench import alerts_load, intake_network
from bench.alerts_load import token_set
from bench.intake_network import start as start_network
from libs.common import nats as natsx
from libs.common.auth.scopes import TOKEN_PATH
from libs.common.contracts import ReportReceived, new_event
from libs.common.subjects import REPORT_RECEIVED
from libs.sdk import TokenSource, generate_private_key, public_jwk
from tests.support.databases import PgScratch
from tests.support.natsd import free_port


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def line(label: str, ms: list[float], expected: int) -> str:
    """p50/p99/max of a latency list in ms."""
    if not ms:
        return f"{label:<44} nothing arrived (0/{expected})"
    return (
        f"{label:<44} p50 {statistics.median(ms):7.1f} ms   p99 {pct(ms, 0.99):7.1f} ms"
        f"   max {max(ms):7.1f} ms   n={len(ms)}/{expected}"
    )


class Receiver:
    """The lawyer's webhook: verifies, records arrival time by report id."""

    def __init__(self) -> None:
        self.port = free_port()
        self.secret = ""
        self.arrived: dict[str, float] = {}
        self.rejected = 0
        self.task: asyncio.Task[None] | None = None

    async def handle(self, request: Request) -> Response:
        """Verify the Standard Webhooks signature, note the time."""
        now = time.perf_counter()
        try:
            payload = Webhook(self.secret).verify(await request.body(), dict(request.headers))
        except Exception:
            self.rejected += 1
            return Response(status_code=400)
        self.arrived.setdefault(payload["data"]["report_id"], now)
        return Response(status_code=204)

    async def serve(self) -> uvicorn.Server:
        """Start listening."""
        app = Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                loop="uvloop",
                http="httptools",
            )
        )
        self.task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        return server


async def register(http: httpx.AsyncClient, sharing: str, data_dir: Path) -> dict[str, Any]:
    """An admin (bootstrap secret), an NGO submitter and a lawyer, with access tokens."""
    admin_key = generate_private_key()
    secret = (data_dir / "admin-bootstrap-secret").read_text().strip()
    boot = (
        await http.post(
            f"{sharing}/v1/admin/bootstrap",
            json={"secret": secret, "public_key": public_jwk(admin_key)},
        )
    ).json()
    admin = TokenSource(
        http,
        token_endpoint=sharing + TOKEN_PATH,
        client_id=boot["client"]["id"],
        private_key=admin_key,
    )
    auth = {"Authorization": f"Bearer {await admin.token()}"}
    out: dict[str, Any] = {}
    for who, scopes in (
        ("ngo", ["reports:submit"]),
        ("lawyer", ["watchlist:manage", "alerts:read"]),
    ):
        partner = (
            await http.post(f"{sharing}/v1/admin/partners", json={"name": who}, headers=auth)
        ).json()
        client = (
            await http.post(
                f"{sharing}/v1/admin/clients",
                json={
                    "partner_id": partner["id"],
                    "name": who,
                    "role": "submitter" if scopes == ["reports:submit"] else "lawyer",
                    "scopes": scopes,
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
        # The source fetches a new access token shortly before the last one expires: a run at a
        # million entries outlives one token.
        out[who] = {"client_id": client["id"], "org": partner["id"], "tokens": source}
    return out


async def bearer(who: dict[str, Any]) -> dict[str, str]:
    """A current bearer header for `who` (see `register`)."""
    return {"Authorization": f"Bearer {await who['tokens'].token()}"}


def report_body(tokens: list[dict[str, Any]]) -> dict[str, Any]:
    """A detention on an interstate search request about the person behind `tokens`."""
    return {
        "client_report_id": uuid.uuid4().hex,
        "incident_type": "detention",
        "legal_basis": "cis_interstate_search",
        "occurred_at": "2026-11-20T06:40:00+06:00",
        "place": {"country": "KG", "locality": "Bishkek", "facility_kind": "airport"},
        "status": "ongoing",
        "tlp": "AMBER",
        "narrative": "Detained at passport control on arrival.",
        "subject": {"tokens": tokens, "sex": "male"},
    }


async def steady(count: int, rate: float, send: Any) -> None:
    """Call `send(i)` `count` times, one every 1/rate s (not waiting for each to finish)."""
    start, tasks = time.perf_counter(), []
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)


async def wait_for(receiver: Receiver, ids: list[str], timeout: float) -> None:
    """Until every id arrived or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(i in receiver.arrived for i in ids):
        await asyncio.sleep(0.05)


async def bare_jetstream(nats_url: str, tls: Any, count: int, rate: float) -> list[float]:
    """Publish → pull fetch → ack latencies (ms) on the same nats-server, same rate."""
    nc = await natsx.connect(nats_url, "bench-bare", tls=tls)
    js = nc.jetstream()
    subject = f"lifeline.system.bench{uuid.uuid4().hex[:6]}.v1"
    sub = await natsx.ensure_pull_consumer(
        js, natsx.ConsumerSpec(durable=f"bench-{uuid.uuid4().hex[:6]}", filter_subject=subject)
    )
    sent: dict[bytes, float] = {}
    got: list[float] = []

    async def consume() -> None:
        while len(got) < count:
            try:
                msgs = await sub.fetch(64, timeout=1.0)
            except Exception:
                continue
            for msg in msgs:
                await msg.ack()
                got.append((time.perf_counter() - sent[msg.data]) * 1000)

    async def publish(i: int) -> None:
        data = str(i).encode()
        sent[data] = time.perf_counter()
        await js.publish(subject, data)

    consumer = asyncio.create_task(consume())
    await steady(count, rate, publish)
    await asyncio.wait_for(consumer, timeout=30)
    await nc.close()
    return got


Row = dict[str, Any]


def stats(what: str, ms: list[float], expected: int) -> Row:
    """Print a latency line; the row `bench/compare.py` puts side by side."""
    print(line(what, ms, expected))
    if not ms:
        return {"what": what, "n": 0, "p50_ms": None, "p99_ms": None}
    return {
        "what": what,
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(pct(ms, 0.99), 1),
    }


def cpu(what: str, before: dict[str, float], after: dict[str, float], reports: int) -> Row:
    """Print the CPU time a process spent per report between two readings (µs)."""
    name = what.rsplit(" ", 1)[1]
    per = (after.get(name, 0.0) - before.get(name, 0.0)) / max(reports, 1) * 1e6
    print(f"{'CPU per report, ' + what:<44} {per / 1000:7.2f} ms")
    return {"what": f"CPU/report {what}", "n": reports, "cpu_us": round(per)}


def received(who: dict[str, Any], tokens: list[dict[str, Any]]) -> tuple[str, Any]:
    """A `report.received` event as intake publishes it (its sealed report a stand-in)."""
    report_id = str(uuid.uuid4())
    data = {
        "report_id": report_id, "partner_id": who["ngo"]["org"], "client_report_id": report_id,
        "incident_type": "detention", "legal_basis": "cis_interstate_search", "country": "KG",
        "facility_kind": "airport", "occurred_at": "2026-11-20T06:40:00+06:00",
        "received_at": datetime.now(UTC).isoformat(), "tlp": "AMBER",
        "tokens": tokens, "sealed": "c2VhbGVk",
    }  # fmt: skip
    at = datetime.now(UTC)
    return report_id, new_event(ReportReceived.model_validate(data), "intake", report_id, at=at)


async def measure(
    tmp: Path, entries: int, n: int, rate: float, code: Path | None, env: dict[str, str]
) -> list[Row]:
    """Start the network, load the watchlist, run every measurement; the rows."""
    proc, urls = start_network(tmp, code=code, env=env)
    receiver = Receiver()
    server = await receiver.serve()
    rows: list[Row] = []
    try:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64)) as http:
            who = await register(http, urls["sharing"], tmp / "data")
            lawyer = who["lawyer"]
            profile = await http.put(
                urls["alerts"] + "/v1/lawyer/profile",
                json={"webhook": {"url": f"http://127.0.0.1:{receiver.port}/hook"}},
                headers=await bearer(lawyer),
            )
            profile.raise_for_status()
            receiver.secret = next(iter(profile.json()["new_secrets"].values()))
            first = await http.post(
                urls["alerts"] + "/v1/watchlist/entries",
                json={"label": "via api", "tokens": token_set()},
                headers=await bearer(lawyer),
            )
            first.raise_for_status()
            started = time.perf_counter()
            db = env.get("LIFELINE_ALERTS_DATABASE_URL") or str(tmp / "data" / "alerts.db")
            sets = alerts_load.load(
                db, lawyer["client_id"], lawyer["org"], entries - 1, keep=2 * n + 21
            )
            print(
                f"watchlist: {entries} entries ({7 * entries} tokens) loaded in"
                f" {time.perf_counter() - started:.1f} s"
            )
            pids = intake_network.processes(proc.pid)
            bus = alerts_load.bench_bus(tmp / "data", pids["nats"])
            await asyncio.sleep(1)  # nats-server reloads its users

            # 1. The whole path from intake.
            sent: dict[str, float] = {}

            async def submit(i: int) -> None:
                headers = await bearer(who["ngo"])
                t0 = time.perf_counter()
                resp = await http.post(
                    urls["intake"] + "/v1/reports", json=report_body(sets[i]), headers=headers
                )
                if resp.is_error:  # the problem's code says which dependency was away
                    raise RuntimeError(f"intake answered {resp.status_code}: {resp.text}")
                sent[resp.json()["report_id"]] = t0

            for i in range(20):  # warm-up: connections, caches
                await submit(len(sets) - 1 - i)
            await wait_for(receiver, list(sent), 30)
            sent.clear()
            seen: dict[str, float] = {}
            watcher = await natsx.connect(urls["nats"], "bench-watch", tls=bus.tls)

            async def on_event(msg: Any) -> None:
                seen.setdefault(json.loads(msg.data)["data"]["report_id"], time.perf_counter())

            watch = await watcher.jetstream().subscribe(
                REPORT_RECEIVED,
                cb=on_event,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.NEW,
            )
            cpu0 = intake_network.cpu_seconds(pids)
            await steady(n, rate, submit)
            await wait_for(receiver, list(sent), 60)
            cpu1 = intake_network.cpu_seconds(pids)
            await watch.unsubscribe()
            await watcher.close()
            rows.append(stats("intake POST → webhook received", _since(sent, receiver.arrived), n))
            rows.append(
                stats("  of which: intake POST → event in JetStream", _since(sent, seen), n)
            )
            # Per report that got through: a saturated run ends its wait with some still queued.
            done = sum(r in receiver.arrived for r in sent)
            rows += [cpu(f"via intake: {p}", cpu0, cpu1, done) for p in sorted(pids)]

            # 2. Alerts only: report.received straight to JetStream, then 3. one that hits nobody.
            nc = await natsx.connect(urls["nats"], "bench-publisher", tls=bus.tls)
            js = nc.jetstream()
            direct: dict[str, float] = {}

            def publisher(first: int, times: dict[str, float]) -> Callable[[int], Awaitable[None]]:
                async def publish(i: int) -> None:
                    report_id, event = received(who, sets[first + i] if first >= 0 else token_set())
                    times[report_id] = time.perf_counter()
                    await natsx.publish(js, event, signer=bus.signer)

                return publish

            cpu0 = intake_network.cpu_seconds(pids)
            await steady(n, rate, publisher(n, direct))
            await wait_for(receiver, list(direct), 60)
            cpu1 = intake_network.cpu_seconds(pids)
            matched = stats(
                "report.received published → webhook received", _since(direct, receiver.arrived), n
            )
            done = sum(r in receiver.arrived for r in direct)
            rows += [matched, cpu("matched report: alerts", cpu0, cpu1, done)]
            cpu0 = intake_network.cpu_seconds(pids)
            await steady(n, rate, publisher(-1, {}))
            # Then one that matches: the consumer takes events in order, so once its webhook
            # arrives every report before it was handled (it adds 1/n of a match's CPU).
            sentinel: dict[str, float] = {}
            await publisher(2 * n, sentinel)(0)
            await wait_for(receiver, list(sentinel), 60)
            rows.append(
                cpu("report matching nobody: alerts", cpu0, intake_network.cpu_seconds(pids), n)
            )
            await nc.close()

            # 4. The floor: JetStream alone.
            bare = stats(
                "bare JetStream publish → fetch → ack",
                await bare_jetstream(urls["nats"], bus.tls, n, rate),
                n,
            )
            rows.append(bare)
    finally:
        server.should_exit = True
        if receiver.task is not None:
            await asyncio.wait_for(receiver.task, timeout=10)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    _ratios(rows)
    print(f"signatures rejected by the receiver: {receiver.rejected}")
    return rows


def _since(start: dict[str, float], end: dict[str, float]) -> list[float]:
    return [(end[r] - t) * 1000 for r, t in start.items() if r in end]


def _ratios(rows: list[Row]) -> None:
    """Matched against the limits measured in the same run."""
    by = {r["what"]: r for r in rows}
    hit = by["CPU/report matched report: alerts"]["cpu_us"]
    idle = by["CPU/report report matching nobody: alerts"]["cpu_us"]
    print(f"alerts CPU per matched report / per report matching nobody: {hit / max(idle, 1):.1f}x")
    alerts, bare = (
        by["report.received published → webhook received"],
        by["bare JetStream publish → fetch → ack"],
    )
    if alerts["p50_ms"] is not None and bare["p50_ms"]:
        print(
            f"report.received → webhook / bare JetStream: p50 {alerts['p50_ms'] / bare['p50_ms']:.1f}x,"
            f" p99 {alerts['p99_ms'] / max(bare['p99_ms'], 0.1):.1f}x"
        )


def emit(rows: list[Row]) -> None:
    """The issue's alerts figures for `make bench`, beside the limits of the same run."""
    from bench import results  # not in a baseline's tree, and needed only here

    by = {r["what"]: r for r in rows}
    bare = by["bare JetStream publish → fetch → ack"]["p99_ms"]
    figures = []
    for name, row in (
        ("report.received → webhook p99", "report.received published → webhook received"),
        ("intake POST → webhook p99", "intake POST → webhook received"),
    ):
        if by[row]["p99_ms"] is not None:
            limit = bare if name.startswith("report.received") else None
            figures.append(results.figure(name, by[row]["p99_ms"], limit=limit))
    nobody = by["CPU/report report matching nobody: alerts"]["cpu_us"] / 1000
    hit = by["CPU/report matched report: alerts"]["cpu_us"] / 1000
    figures.append(results.figure("alerts CPU per matched report", hit, limit=nobody))
    results.emit("alerts", figures)


async def run(
    entries: int, n: int, rate: float, code: Path | None, postgres: str | None
) -> list[Row]:
    """One measurement on SQLite, or on three scratch PostgreSQL databases (dropped after)."""
    backend = "PostgreSQL" if postgres else "SQLite"
    print(f"{n} reports per measurement at {rate:.0f}/s against {entries} entries ({backend})")
    allow = {"LIFELINE_ALERTS_WEBHOOK_ALLOW_PRIVATE": "true"}  # the receiver is on loopback
    with tempfile.TemporaryDirectory() as tmp:
        if not postgres:
            return await measure(Path(tmp), entries, n, rate, code, allow)
        scratch = PgScratch(postgres, ahead=0)
        urls = {s: scratch.take() for s in ("intake", "sharing", "alerts")}
        try:
            env = {f"LIFELINE_{s.upper()}_DATABASE_URL": url for s, url in urls.items()} | allow
            return await measure(Path(tmp), entries, n, rate, code, env)
        finally:
            for url in urls.values():
                scratch.give_back(url)
            scratch.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="run the services on scratch databases of this PostgreSQL server (default: SQLite)",
    )
    parser.add_argument("--baseline", metavar="REV", help="measure this revision first, compare")
    parser.add_argument("--rounds", type=int, default=1, help="before/after pairs, alternated")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    common = [
        "--entries",
        str(args.entries),
        "--reports",
        str(args.reports),
        "--rate",
        str(args.rate),
    ]
    common += ["--postgres", args.postgres] if args.postgres else []
    pairs = []
    for _ in range(args.rounds):
        before = None
        if args.baseline:
            from bench import compare  # not in a baseline's tree, and needed only here

            before = compare.baseline(__file__, args.baseline, common)
        out = asyncio.run(run(args.entries, args.reports, args.rate, args.code, args.postgres))
        if before is not None:
            compare.side_by_side(before, out)
            pairs.append((before, out))
    if len(pairs) > 1:
        compare.ranges(pairs)
    emit(out)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
