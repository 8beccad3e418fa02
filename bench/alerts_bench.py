"""Alert latency: report submitted → signed webhook received, against 100,000 watchlist entries.

Starts `lifeline up` in a temporary directory (SQLite, local nats-server), registers an NGO
submitter and a lawyer the way an administrator would, sets the lawyer's webhook (a receiver in
this process that verifies every signature with `standardwebhooks`), loads the watchlist (one
entry through the API, the rest written straight into alerts' SQLite file: 7 tokens each, kinds
as the canonicaliser makes them, random values), then measures in one run:

1. intake: `POST /v1/reports` → webhook received (the whole path: intake, outbox relay,
   JetStream, matching, delivery) — `--reports` reports at `--rate` per second, each matching
   one entry;
2. alerts only: `lifeline.report.received.v1` published straight to JetStream → webhook;
3. bare JetStream: publish → pull fetch → ack of a small message at the same rate.

    .venv/bin/python bench/alerts_bench.py [--entries 100000] [--reports 1000] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
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

from bench.intake_bench import start_network
from libs.common import nats as natsx
from libs.common.auth.scopes import TOKEN_PATH
from libs.common.contracts import ReportReceived, new_event
from libs.common.events import REPORT_RECEIVED
from libs.sdk import TokenSource, generate_private_key, public_jwk
from tests.support.natsd import free_port

KINDS = (
    "name_dob",
    "name_year",
    "name",
    "part_dob_head",
    "part_dob_tail",
    "part_dob_head",
    "part_dob_tail",
)


def token_set() -> list[dict[str, Any]]:
    """Seven tokens as one identity with a full date of birth yields (random values)."""
    return [
        {
            "kind": k,
            "version": 1,
            "value": base64.urlsafe_b64encode(os.urandom(64)).rstrip(b"=").decode(),
        }
        for k in KINDS
    ]


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
        out[who] = {
            "client_id": client["id"],
            "org": partner["id"],
            "headers": {"Authorization": f"Bearer {await source.token()}"},
        }
    return out


def bulk_entries(db: Path, lawyer: str, org: str, count: int) -> list[list[dict[str, Any]]]:
    """Write `count` entries straight into alerts' database; returns their token sets."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    sets = [token_set() for _ in range(count)]
    conn = sqlite3.connect(db, timeout=60)
    try:
        with conn:
            entries, tokens = [], []
            for i, tokens_of in enumerate(sets):
                entry_id = str(uuid.uuid4())
                entries.append(
                    (
                        entry_id,
                        lawyer,
                        org,
                        f"bulk {i}",
                        "abduction,deportation,detention,extradition_decision,extradition_request",
                        "",
                        "",
                        7,
                        now,
                        now,
                    )
                )
                tokens += [(entry_id, t["kind"], 1, t["value"]) for t in tokens_of]
            conn.executemany(
                "INSERT INTO watchlist_entries (id, lawyer_id, org_id, label, incident_types, legal_bases,"
                " countries, token_count, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                entries,
            )
            # Two tokens of one kind can share a kind: dedupe on the key like the service does.
            conn.executemany(
                "INSERT OR IGNORE INTO entry_tokens (entry_id, kind, version, value) VALUES (?,?,?,?)",
                tokens,
            )
        # Fold the bulk load into the database file now, not during the measurement.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sets


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


async def bare_jetstream(nats_url: str, count: int, rate: float) -> list[float]:
    """Publish → pull fetch → ack latencies (ms) on the same nats-server, same rate."""
    nc = await natsx.connect(nats_url, "bench-bare")
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


async def main(entries: int, reports: int, rate: float) -> None:
    """Set up, run the three measurements, print them side by side."""
    os.environ["LIFELINE_ALERTS_WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver is on loopback
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        proc, urls = start_network(tmp)
        receiver = Receiver()
        server = await receiver.serve()
        try:
            async with httpx.AsyncClient(
                timeout=30, limits=httpx.Limits(max_connections=64)
            ) as http:
                who = await register(http, urls["sharing"], tmp / "data")
                lawyer = who["lawyer"]
                profile = await http.put(
                    urls["alerts"] + "/v1/lawyer/profile",
                    json={"webhook": {"url": f"http://127.0.0.1:{receiver.port}/hook"}},
                    headers=lawyer["headers"],
                )
                profile.raise_for_status()
                receiver.secret = next(iter(profile.json()["new_secrets"].values()))
                first = await http.post(
                    urls["alerts"] + "/v1/watchlist/entries",
                    json={"label": "via api", "tokens": token_set()},
                    headers=lawyer["headers"],
                )
                first.raise_for_status()
                started = time.perf_counter()
                sets = bulk_entries(
                    tmp / "data" / "alerts.db", lawyer["client_id"], lawyer["org"], entries - 1
                )
                print(
                    f"watchlist: {entries} entries ({7 * entries} tokens) loaded in {time.perf_counter() - started:.1f} s"
                )
                n = reports

                # 1. The whole path from intake.
                sent: dict[str, float] = {}
                ngo = who["ngo"]["headers"]

                async def submit(i: int) -> None:
                    t0 = time.perf_counter()
                    resp = await http.post(
                        urls["intake"] + "/v1/reports", json=report_body(sets[i]), headers=ngo
                    )
                    resp.raise_for_status()
                    sent[resp.json()["report_id"]] = t0

                for i in range(20):  # warm-up: connections, caches
                    await submit(len(sets) - 1 - i)
                await wait_for(receiver, list(sent), 30)
                sent.clear()
                seen: dict[str, float] = {}
                watcher = await natsx.connect(urls["nats"], "bench-watch")

                async def on_event(msg: Any) -> None:
                    report_id = json.loads(msg.data)["data"]["report_id"]
                    seen.setdefault(report_id, time.perf_counter())

                watch = await watcher.jetstream().subscribe(
                    REPORT_RECEIVED,
                    cb=on_event,
                    ordered_consumer=True,
                    deliver_policy=DeliverPolicy.NEW,
                )
                await steady(n, rate, submit)
                await wait_for(receiver, list(sent), 60)
                await watch.unsubscribe()
                await watcher.close()
                published = [(seen[r] - t) * 1000 for r, t in sent.items() if r in seen]
                via_intake = [
                    (receiver.arrived[r] - t) * 1000
                    for r, t in sent.items()
                    if r in receiver.arrived
                ]

                # 2. Alerts only: report.received straight to JetStream.
                nc = await natsx.connect(urls["nats"], "bench-publisher")
                js = nc.jetstream()
                direct: dict[str, float] = {}

                async def publish(i: int) -> None:
                    report_id = str(uuid.uuid4())
                    data = {
                        "report_id": report_id, "partner_id": who["ngo"]["org"], "client_report_id": report_id,
                        "incident_type": "detention", "legal_basis": "cis_interstate_search", "country": "KG",
                        "facility_kind": "airport", "occurred_at": "2026-11-20T06:40:00+06:00",
                        "received_at": datetime.now(UTC).isoformat(), "tlp": "AMBER",
                        "tokens": sets[n + i], "sealed": "c2VhbGVk",
                    }  # fmt: skip
                    event = new_event(
                        ReportReceived.model_validate(data),
                        "bench",
                        report_id,
                        at=datetime.now(UTC),
                    )
                    direct[report_id] = time.perf_counter()
                    await natsx.publish(js, event)

                await steady(n, rate, publish)
                await wait_for(receiver, list(direct), 60)
                await nc.close()
                via_nats = [
                    (receiver.arrived[r] - t) * 1000
                    for r, t in direct.items()
                    if r in receiver.arrived
                ]

                # 3. The floor: JetStream alone.
                bare = await bare_jetstream(urls["nats"], n, rate)
        finally:
            server.should_exit = True
            if receiver.task is not None:
                await asyncio.wait_for(receiver.task, timeout=10)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    print(
        f"{n} reports per measurement at {rate:.0f}/s against {entries} entries (SQLite, embedded stack)"
    )
    print(line("intake POST → webhook received", via_intake, n))
    print(line("  of which: intake POST → event in JetStream", published, n))
    print(line("report.received published → webhook received", via_nats, n))
    print(line("bare JetStream publish → fetch → ack", bare, n))
    print(f"signatures rejected by the receiver: {receiver.rejected}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    options = parser.parse_args()
    asyncio.run(main(options.entries, options.reports, options.rate))
