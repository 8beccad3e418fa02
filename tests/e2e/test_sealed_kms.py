"""`lifeline up --sealed` with a KMS, as an operator runs it against a transit server: the
services unseal themselves at every start, wait while the KMS is down, and the shares are
still printed once."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.network import RunningNetwork, lifeline_up
from tests.support.transit import ROOT, TransitServer

PASSPHRASE = "a long passphrase for the seal"
KEY = "lifeline-seal"
SERVICES = ("intake", "sharing", "alerts")


def test_a_kms_sealed_network_unseals_itself_at_every_start(tmp_path: Path) -> None:
    operator, service = tmp_path / "operator-token", tmp_path / "service-token"
    operator.write_text("hvs.operator\n")
    service.write_text("hvs.service\n")
    tokens = {"hvs.operator": ROOT, "hvs.service": frozenset({"decrypt"})}
    with TransitServer(tokens) as transit:
        transit.handle("POST", "hvs.operator", "keys", KEY, {})
        kms = ("--kms-url", transit.url, "--kms-key", KEY)
        first = ("--sealed", *kms, "--kms-token-file", str(operator))
        with lifeline_up(tmp_path, args=first, stdin=PASSPHRASE + "\n") as net:
            assert sum(line.startswith("share ") for line in net.output().splitlines()) == 5
            _wait_ready(net)
            assert "hvs." not in net.output()

        # Restarted with the services' decrypt-only token: ready with nobody at a keyboard.
        again = ("--sealed", "--kms-token-file", str(service))
        with lifeline_up(tmp_path, args=again) as net:
            _wait_ready(net)
            status = httpx.get(f"{net.urls['sharing']}/v1/sys/seal-status", timeout=5).json()
            assert status["methods"] == ["passphrase", "shares", "kms"]

        # The KMS down at start: sealed, then unsealed by itself once it is back.
        transit.stop()
        with lifeline_up(tmp_path, args=again) as net:
            for name in SERVICES:
                ready = httpx.get(f"{net.urls[name]}/readyz", timeout=5)
                assert ready.status_code == 503 and ready.json()["code"] == "sealed"
            transit.start()
            _wait_ready(net, timeout=30)
            assert "KMS unreachable" in net.output() and "hvs." not in net.output()


def _wait_ready(net: RunningNetwork, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    for name in SERVICES:
        while httpx.get(f"{net.urls[name]}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, f"{name} not ready:\n{net.output()}"
            time.sleep(0.1)
