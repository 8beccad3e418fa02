"""Token endpoint and verifier latency against a running network: p50/p99 over 1,000 calls.

Starts `lifeline up` in a temporary directory (SQLite, local nats-server), bootstraps an
administrator, registers a client, then measures one request at a time over a kept-alive
connection:

- the token endpoint (POST /v1/auth/token; assertions are signed beforehand, so this is the
  server's work plus HTTP: registry lookup, jti insert, minting);
- a protected route on intake (GET /v1/auth/whoami) with a new token each time (cold verify)
  and with the same token (cached verify), next to GET /healthz (HTTP alone);
- the verifier in this process on the same 1,000 real tokens, keys fetched from sharing's JWKS.

Run: .venv/bin/python bench/token_bench.py
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from libs.common.auth.jwks import JwksCache
from libs.common.auth.scopes import DEFAULT_ISSUER, TOKEN_PATH
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from libs.common.auth.verifier import TokenVerifier
from libs.common.auth.wiring import jwks_over_http
from libs.sdk import generate_private_key, key_id, make_client_assertion, public_jwk
from services.sharing.settings import BOOTSTRAP_SECRET_FILE

N = 1_000
LIFELINE = str(Path(sys.executable).parent / "lifeline")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def network(tmp: Path) -> Iterator[dict[str, str]]:
    """`lifeline up` on free ports until its ready line; stopped afterwards."""
    ports = {name: str(_free_port()) for name in ("nats", "intake", "sharing", "alerts")}
    argv = [
        LIFELINE,
        "up",
        "--json-logs",
        "--log-level",
        "WARNING",
        "--data-dir",
        str(tmp / "data"),
    ]
    for name, port in ports.items():
        argv += [f"--{name}-port", port]
    log = (tmp / "up.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    # The token endpoint's own limits (120 tokens per client, then 2/s) would answer slow_down
    # long before the 1000 calls this times: the cost measured is the endpoint's, not the limit's.
    env |= {"LIFELINE_SHARING_TOKEN_CLIENT_BURST": "100000",
            "LIFELINE_SHARING_TOKEN_SOURCE_BURST": "100000"}  # fmt: skip
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in (tmp / "up.log").read_text(errors="replace").splitlines():
                if line.startswith('{"event": "ready"'):
                    yield json.loads(line)["urls"]
                    return
            if proc.poll() is not None:
                raise RuntimeError("lifeline up exited")
            time.sleep(0.05)
        raise RuntimeError("lifeline up not ready in 30 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


def _stats(name: str, samples_ns: list[int]) -> None:
    ordered = sorted(samples_ns)
    p50 = statistics.median(ordered) / 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] / 1000
    print(f"{name:<46} p50 {p50:8.1f} µs   p99 {p99:8.1f} µs")


async def _timed(fn: Callable[[int], Awaitable[object]]) -> list[int]:
    samples = []
    for i in range(N):
        start = time.perf_counter_ns()
        await fn(i)
        samples.append(time.perf_counter_ns() - start)
    return samples


async def measure(urls: dict[str, str], data_dir: Path) -> None:
    """Set up a client, then time each operation N times."""
    sharing, intake = urls["sharing"], urls["intake"]
    endpoint = sharing + TOKEN_PATH
    async with httpx.AsyncClient(timeout=10) as http:
        secret = (data_dir / BOOTSTRAP_SECRET_FILE).read_text().strip()
        admin_key, key = generate_private_key(), generate_private_key()
        boot = await http.post(
            f"{sharing}/v1/admin/bootstrap",
            json={"secret": secret, "public_key": public_jwk(admin_key)},
        )
        admin_id = boot.json()["client"]["id"]
        admin_token = await _token(http, endpoint, admin_id, admin_key)
        headers = {"Authorization": f"Bearer {admin_token}"}
        partner = (
            await http.post(f"{sharing}/v1/admin/partners", json={"name": "Bench"}, headers=headers)
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
                headers=headers,
            )
        ).json()
        await http.post(
            f"{sharing}/v1/admin/clients/{client['id']}/keys",
            json={"public_key": public_jwk(key)},
            headers=headers,
        )
        kid = key_id(key)
        assertions = [make_client_assertion(key, kid, client["id"], endpoint) for _ in range(N)]
        tokens: list[str] = []

        async def token_call(i: int) -> None:
            resp = await http.post(endpoint, data=_form(assertions[i]))
            assert resp.status_code == 200, resp.text
            tokens.append(resp.json()["access_token"])

        for _ in range(50):  # warm-up: connections, SQLite pages, caches
            await http.get(f"{sharing}/healthz")
        _stats("token endpoint (HTTP round trip)", await _timed(token_call))
        _stats(
            "  for reference: sharing GET /healthz",
            await _timed(lambda _: http.get(f"{sharing}/healthz")),
        )

        async def whoami(token: str) -> None:
            resp = await http.get(
                f"{intake}/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}
            )
            assert resp.status_code == 200, resp.text

        _stats(
            "intake protected route, new token each call", await _timed(lambda i: whoami(tokens[i]))
        )
        _stats(
            "intake protected route, same token (cached)", await _timed(lambda _: whoami(tokens[0]))
        )
        _stats(
            "  for reference: intake GET /healthz",
            await _timed(lambda _: http.get(f"{intake}/healthz")),
        )

    verifier = TokenVerifier(
        audience="lifeline-intake", jwks=JwksCache({DEFAULT_ISSUER: jwks_over_http(sharing)})
    )
    await verifier.jwks.refresh_all()
    _stats(
        "TokenVerifier.verify, cold (in process)",
        await _timed(lambda i: verifier.verify(tokens[i])),
    )
    _stats(
        "TokenVerifier.verify, cached (in process)",
        await _timed(lambda i: verifier.verify(tokens[i])),
    )


async def _token(http: httpx.AsyncClient, endpoint: str, client_id: str, key: object) -> str:
    assertion = make_client_assertion(key, key_id(key), client_id, endpoint)  # type: ignore[arg-type]
    return str((await http.post(endpoint, data=_form(assertion))).json()["access_token"])


def _form(assertion: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def main() -> None:
    """Start the network, measure, stop."""
    with tempfile.TemporaryDirectory() as tmp, network(Path(tmp)) as urls:
        print(f"{N} calls each, one at a time; shared machine: compare ratios within one run")
        asyncio.run(measure(urls, Path(tmp) / "data"))


if __name__ == "__main__":
    main()
