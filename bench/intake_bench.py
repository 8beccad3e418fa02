"""Intake throughput: N concurrent submitters against the running embedded network.

Starts `lifeline up` in a temporary directory (SQLite, local nats-server), registers a
submitter the way an administrator would (bootstrap secret → partner → client → key), and
drives `POST /v1/reports` for a fixed time, twice: paced (each submitter pauses a random,
exponential time so that together they offer `--rate` reports/s: latency at a sustained rate),
then flat out (each submitter sends its next report as soon as the last is answered: the
saturation throughput). Sharing stores and alerts matches every report meanwhile, on the same
two cores. Last, the flat-out load against a bare FastAPI endpoint that only validates the same
body, in the same run.

    .venv/bin/python bench/intake_bench.py [--concurrency 16] [--seconds 10] [--rate 500]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import LoadResult, run_load, run_wrk
from libs.common.auth.scopes import TOKEN_PATH
from libs.sdk import TokenSource, generate_private_key, public_jwk
from tests.support.natsd import free_port

LUA = str(Path(__file__).with_name("report_post.lua"))


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


def start_network(
    tmp: Path, *, code: Path | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`lifeline up` on free ports; returns the process and its URLs once ready.

    `code`: run the network from another revision's tree (`bench/compare.py`) instead of this
    one; `env`: settings for its services (e.g. their database URLs).
    """
    ports = {name: free_port() for name in ("nats", "intake", "sharing", "alerts", "console")}
    ports |= {f"{name}-metrics": free_port() for name in ("intake", "sharing", "alerts", "console")}
    # `python -m` from a scratch directory: the tree on PYTHONPATH (if any) is the one imported.
    argv = [sys.executable, "-m", "lifeline", "up", "--json-logs", "--log-level", "WARNING"]
    argv += ["--ready-timeout", "120"]  # a busy machine
    argv += ["--data-dir", str(tmp / "data")]
    for name, port in ports.items():
        argv += [f"--{name}-port", str(port)]
    here = Path(__file__).resolve().parent.parent
    # A revision exported by `git archive` has no built console (it is not checked in): the
    # console, which no bench measures, serves this tree's.
    assets = {"LIFELINE_CONSOLE_ASSETS_DIR": str(here / "services/console/web/dist")}
    run_env = {
        **os.environ,
        **(assets if code else {}),
        "LIFELINE_INTAKE_RATE_BURST": "1000000",
        "LIFELINE_INTAKE_RATE_PER_SECOND": "1000000",
        "PYTHONPATH": str(code or here),
        **(env or {}),
    }
    log = (tmp / "network.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=run_env, cwd=tmp)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        for line in (tmp / "network.log").read_text(errors="replace").splitlines():
            if line.startswith('{"event": "ready"'):
                return proc, json.loads(line)["urls"]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit("network did not start:\n" + (tmp / "network.log").read_text())


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


async def main(concurrency: int, seconds: float, rate: float) -> None:
    """Run the loads and print them side by side."""
    pause_ms = concurrency / rate * 1000 if rate else 0.0
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        proc, urls = start_network(tmp)
        bare_port = free_port()
        bare = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("bare_app.py")), str(bare_port)]
        )
        try:
            token = await submitter_token(urls["sharing"], tmp / "data")
            headers = {"Authorization": f"Bearer {token}"}
            await run_load(
                "warm-up",
                urls["intake"] + "/v1/reports",
                body,
                lambda: headers,
                concurrency=4,
                seconds=2,
            )
            intake = urls["intake"] + "/v1/reports"
            bare_url = f"http://127.0.0.1:{bare_port}/v1/reports"
            # Paced first (the flat-out run leaves sharing a backlog to store). A short trial
            # calibrates the pause: a submitter's cycle is its pause plus the answer's latency.
            cycle_ms = pause_ms
            for _ in range(3):  # the latency grows with the rate: converge on the pause
                trial = await _load("trial", intake, headers, pause_ms, concurrency, 3)
                latency_ms = concurrency / max(trial.rate, 1) * 1000 - pause_ms
                pause_ms = max(0.0, cycle_ms - latency_ms)
            results = [
                await _load(
                    f"intake, paced at {rate:.0f}/s",
                    intake,
                    headers,
                    pause_ms,
                    concurrency,
                    seconds,
                ),
                await _load("intake, flat out", intake, headers, 0.0, concurrency, seconds),
                await _load("bare FastAPI, flat out", bare_url, {}, 0.0, concurrency, seconds),
            ]
        finally:
            bare.send_signal(signal.SIGTERM)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            bare.wait(timeout=10)
    generator = "wrk" if shutil.which("wrk") else "python httpx (install wrk for a lighter client)"
    print(
        f"{concurrency} submitters, {seconds:.0f} s each, load from {generator} on the same machine"
    )
    for result in results:
        print(result.line())
    print(
        f"intake / bare throughput ratio (flat out): {results[1].rate / max(results[2].rate, 1):.2f}"
    )


async def _load(
    label: str, url: str, headers: dict[str, str], pause_ms: float, concurrency: int, seconds: float
) -> LoadResult:
    if shutil.which("wrk"):  # a C load generator leaves the cores to the servers
        return run_wrk(
            label, url, headers, LUA, concurrency=concurrency, seconds=seconds, pause_ms=pause_ms
        )
    return await run_load(
        label,
        url,
        body,
        lambda: headers,
        concurrency=concurrency,
        seconds=seconds,
        pause_ms=pause_ms,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=500.0, help="offered reports/s when paced")
    options = parser.parse_args()
    asyncio.run(main(options.concurrency, options.seconds, options.rate))
