"""`lifeline up` as a user runs it: ready, wired end to end, clean stop, clear failures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.access import bootstrap_admin
from tests.support.natsd import free_port
from tests.support.network import PORT_NAMES, lifeline_up, up_command


def test_network_comes_up_wires_ping_and_stops_cleanly(tmp_path: Path) -> None:
    # How fast it is ready is a figure of bench/startup_bench.py: start-up is CPU-bound, and
    # beside the gate's other workers a wall-clock bound here measured the machine's load.
    # `lifeline_up` still fails a start that is not ready within 30 s.
    with lifeline_up(tmp_path) as net:
        for name in ("intake", "sharing", "alerts", "console"):
            resp = httpx.get(f"{net.urls[name]}/readyz", timeout=2)
            assert resp.status_code == 200, (name, resp.text)
        # `lifeline up` made the seal and the bus's certificates, then became the supervisor
        # (same pid): no key library stays mapped in it for the network's life.
        assert "lifeline.supervisor" in Path(f"/proc/{net.proc.pid}/cmdline").read_text()
        assert "/cryptography/" not in Path(f"/proc/{net.proc.pid}/maps").read_text()
        # The console serves its page and reaches sharing's metadata through its proxy.
        page = httpx.get(f"{net.urls['console']}/", timeout=2)
        assert (
            page.status_code == 200
            and "script-src 'self'" in page.headers["content-security-policy"]
        )
        meta = httpx.get(
            f"{net.urls['console']}/api/sharing/.well-known/oauth-authorization-server", timeout=2
        ).json()
        assert meta["token_endpoint"] == f"{net.urls['sharing']}/v1/auth/token"
        # The system routes are admin-only: bootstrap the first admin as `admin init` would.
        headers = asyncio.run(_admin_headers(net.urls["sharing"], net.data_dir))
        ping = httpx.post(f"{net.urls['intake']}/v1/system/ping", timeout=2, headers=headers)
        event_id = ping.json()["event_id"]
        for name in ("sharing", "alerts"):
            deadline = time.monotonic() + 5
            url = f"{net.urls[name]}/v1/system/events/{event_id}"
            while httpx.get(url, headers=headers).status_code != 200:
                assert time.monotonic() < deadline, f"{name} never saw the ping"
                time.sleep(0.05)
        # Each part's /metrics is on a loopback listener of its own, not on its public port.
        for name in ("intake", "sharing", "alerts", "console"):
            assert net.metrics[name].startswith("http://127.0.0.1:")
            scraped = httpx.get(net.metrics[name], timeout=2)
            assert scraped.status_code == 200, (name, scraped.text)
            names = {f.name for f in text_string_to_metric_families(scraped.text)}
            assert "lifeline_http_request_duration_seconds" in names
            # The console has no bus, outbox or seal: only its requests and its process.
            assert ("lifeline_sealed" in names) == ("lifeline_events_consumed" in names)
            assert ("lifeline_sealed" in names) == (name != "console")
            assert httpx.get(f"{net.urls[name]}/metrics", timeout=2).status_code == 404
        assert (net.data_dir / "sharing.db").exists() and (net.data_dir / "nats").is_dir()
        # Waiting for nats-server leaves no error in its log (a bare TCP probe of the TLS-only
        # port did: "TLS handshake error ... connection reset by peer").
        assert "[ERR]" not in net.output(), net.output()
        # A copy of the disk by another account reads nothing: 0700 directory, owner-only files.
        assert net.data_dir.stat().st_mode & 0o777 == 0o700
        shared = [p for p in net.data_dir.rglob("*") if p.stat().st_mode & 0o077]
        assert not shared, f"readable by others: {shared[:5]}"
        net.proc.send_signal(signal.SIGTERM)
        assert net.proc.wait(timeout=20) == 0
        # Every child is gone: the ports are free again. A listener still open would refuse
        # the bind even so; SO_REUSEADDR (as the servers bind) only passes over connections in
        # TIME_WAIT, which nats-server leaves when it closes its TLS connections first.
        for port in net.ports.values():
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))


async def _admin_headers(sharing: str, data_dir: Path) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=5) as http:
        admin = await bootstrap_admin(http, sharing, data_dir)
        return await admin.headers(http)


def test_taken_port_gives_one_clear_line_and_nonzero_exit(tmp_path: Path) -> None:
    ports = {name: free_port() for name in PORT_NAMES}
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", ports["sharing"]))
        blocker.listen()
        result = subprocess.run(
            up_command(tmp_path / "data", ports), capture_output=True, text=True, timeout=30
        )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [
        f"lifeline: error: port {ports['sharing']} on 127.0.0.1 is taken (sharing): Address already in use"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_metrics_port_that_is_also_an_api_port_is_refused(tmp_path: Path) -> None:
    ports = {name: free_port() for name in PORT_NAMES}
    ports["sharing-metrics"] = ports["intake"]
    result = subprocess.run(
        up_command(tmp_path / "data", ports), capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("lifeline: error: two parts of the network were given the same port")


def test_nats_that_cannot_start_is_reported(tmp_path: Path) -> None:
    ports = {name: free_port() for name in PORT_NAMES}
    store_blocker = tmp_path / "data" / "nats"
    store_blocker.parent.mkdir(parents=True)
    store_blocker.write_text("a file where the JetStream store directory should be")
    result = subprocess.run(
        up_command(tmp_path / "data", ports), capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("lifeline: error: nats-server could not start")
    assert "Traceback" not in result.stderr


def _children(pid: int) -> dict[int, str]:
    """The command lines of `pid`'s child processes, by pid (Linux /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().decode()
        except (OSError, ValueError, IndexError):
            continue  # a process that just went away
    return found


def test_a_nats_server_that_dies_is_started_again_and_the_services_reconnect(
    tmp_path: Path,
) -> None:
    with lifeline_up(tmp_path) as net:
        before = _children(net.proc.pid)
        services = {pid for pid, cmd in before.items() if "services." in cmd}
        assert len(services) == 4  # the three services and the console
        os.kill(next(pid for pid, cmd in before.items() if "nats-server" in cmd), signal.SIGKILL)
        not_ready: set[str] = set()
        deadline = time.monotonic() + 20
        while True:
            states = {}
            for name in ("intake", "sharing", "alerts"):
                try:
                    resp = httpx.get(f"{net.urls[name]}/readyz", timeout=2)
                except httpx.HTTPError:
                    continue
                states[name] = resp.status_code
                if resp.status_code == 503:
                    assert "nats" in resp.json()["detail"], resp.text
                    not_ready.add(name)
            if not_ready and set(states.values()) == {200} and len(states) == 3:
                break
            assert time.monotonic() < deadline, f"not back: {states}, 503 seen: {not_ready}"
            time.sleep(0.05)
        assert services <= set(_children(net.proc.pid))  # the same processes: none restarted
        assert "nats-server exited with status -9; starting it again" in net.output()
        assert net.proc.poll() is None


def test_a_crashed_service_is_started_again_and_a_second_up_is_refused(tmp_path: Path) -> None:
    with lifeline_up(tmp_path) as net:
        # Another `lifeline up` on the same data directory (free ports of its own): refused.
        ports = {name: free_port() for name in PORT_NAMES}
        second = subprocess.run(
            [*up_command(net.data_dir, ports), "--ready-timeout", "5"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode != 0
        assert second.stderr.strip().splitlines() == [
            f"lifeline: error: {net.data_dir} is in use by another `lifeline up` "
            f"(pid {net.proc.pid}) or the services it started: two on one data directory would "
            "run two nats-servers on one store and two sets of services on the same databases; "
            "stop it first"
        ]
        # A service that crashes is started again; the others and the network carry on.
        before = _children(net.proc.pid)
        alerts = next(pid for pid, cmd in before.items() if "services.alerts" in cmd)
        os.kill(alerts, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:
            now = _children(net.proc.pid)
            back = [pid for pid, cmd in now.items() if "services.alerts" in cmd and pid != alerts]
            with contextlib.suppress(httpx.HTTPError):
                if back and httpx.get(f"{net.urls['alerts']}/readyz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "alerts did not come back"
            time.sleep(0.1)
        assert "alerts exited with status -9; starting it again in 0.5 s" in net.output()
        assert set(before) - {alerts} <= set(now)  # nothing else was restarted
        assert net.proc.poll() is None
