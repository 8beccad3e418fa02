"""`lifeline up --sealed` as an operator runs it: sealed at start, unsealed by passphrase or by
3 of 5 trustees' shares, sealed again after a restart, and a seized copy of its disk opens no key.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from libs.common.crypto.kek_file import LocalFileKekProvider
from libs.common.errors import LifelineError
from libs.common.keyfile import KeyFileError
from libs.common.seal import root as seal_root
from libs.common.seal import sealfile
from libs.common.seal.domain import split_shares, unwrap_with_passphrase
from libs.common.secretfile import read_private
from libs.common.secretkey import load_or_create_secret_key
from services.alerts.alerts.link_keys import LinkKeys
from services.sharing.access.tokens.keystore import SigningKeystore
from services.sharing.identity.keystore import PrfKeyStore
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.access import bootstrap_admin, register_client
from tests.support.network import LIFELINE, RunningNetwork, lifeline_up
from tests.support.reports import report_body
from tests.support.seizure import opened, store_bytes

PASSPHRASE = "a long passphrase for the seal"
CANARY = "Narrative canary 7f3c: detained at gate B12"
ERASED = "Erased canary 51d0: held in the transit zone"
SERVICES = ("intake", "sharing", "alerts")


def test_sealed_network_unseals_restarts_sealed_and_its_disk_opens_nothing(tmp_path: Path) -> None:
    with lifeline_up(tmp_path, args=("--sealed",), stdin=PASSPHRASE + "\n") as net:
        shares = [
            line.split(": ", 1)[1]
            for line in net.output().splitlines()
            if line.startswith("share ")
        ]
        assert len(shares) == 5
        _assert_sealed(net)
        # A wrong passphrase: a clear error, and every service stays sealed.
        wrong = _unseal(net, "not the passphrase at all\n")
        assert wrong.returncode == 65 and "wrong passphrase" in wrong.stderr, wrong.stderr
        _assert_sealed(net)
        right = _unseal(net, PASSPHRASE + "\n")
        assert right.returncode == 0, right.stderr
        _wait_ready(net)
        report_ids, erased = asyncio.run(_submit_reports(net))
        _wait_stored(net.data_dir / "sharing.db", report_ids)
        _wait_bus_copies_erased(net.data_dir / "sharing.db")
        net.proc.send_signal(signal.SIGTERM)
        assert net.proc.wait(timeout=20) == 0
    seized = tmp_path / "seized"
    shutil.copytree(net.data_dir, seized)
    _attack_offline(seized, report_ids)
    _attack_with_the_passphrase(seized, erased)

    # Restarted, it comes back sealed; 3 of the 5 shares unseal it, a stranger's share does not.
    with lifeline_up(tmp_path, args=("--sealed",)) as net:
        _assert_sealed(net)
        stranger = split_shares(secrets.token_bytes(32), 3, 5)[1][0]
        refused = _unseal(net, stranger + "\n", "--shares")
        assert refused.returncode == 65 and "another share set" in refused.stderr
        _assert_sealed(net)
        typo = " ".join([*shares[0].split()[:-1], "academic"])
        assert "not a valid share" in _unseal(net, typo + "\n", "--shares").stderr
        status = httpx.get(f"{net.urls['alerts']}/v1/sys/seal-status").json()
        assert status == {
            "sealed": True,
            "methods": ["passphrase", "shares"],
            "threshold": 3,
            "progress": 0,
        }
        done = _unseal(net, "\n".join([shares[4], shares[0], shares[2]]) + "\n", "--shares")
        assert done.returncode == 0, done.stderr
        assert "sharing: 1/3 shares" in done.stdout and "sharing: unsealed" in done.stdout
        _wait_ready(net)


def _unseal(net: RunningNetwork, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [LIFELINE, "unseal", "--data-dir", str(net.data_dir), *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)


def _assert_sealed(net: RunningNetwork) -> None:
    for name in SERVICES:
        ready = httpx.get(f"{net.urls[name]}/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["code"] == "sealed", (name, ready.text)
        assert ready.json()["checks"]["seal"] == "sealed"
        # The metrics listener answers while sealed, and says so.
        assert _sealed_gauge(net, name) == 1
    # Nothing but health and the seal answers: not even the public key documents.
    jwks = httpx.get(f"{net.urls['sharing']}/.well-known/jwks.json", timeout=5)
    assert jwks.status_code == 503 and jwks.json()["code"] == "sealed"


def _wait_ready(net: RunningNetwork) -> None:
    deadline = time.monotonic() + 20
    for name in SERVICES:
        while httpx.get(f"{net.urls[name]}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, f"{name} not ready after unseal"
            time.sleep(0.1)
        assert _sealed_gauge(net, name) == 0


def _sealed_gauge(net: RunningNetwork, name: str) -> float:
    """`lifeline_sealed` as Prometheus reads it from the service's metrics listener."""
    scraped = httpx.get(net.metrics[name], timeout=5)
    assert scraped.status_code == 200, scraped.text
    families = {f.name: f for f in text_string_to_metric_families(scraped.text)}
    (sample,) = families["lifeline_sealed"].samples
    return float(sample.value)


async def _submit_reports(net: RunningNetwork) -> tuple[list[str], tuple[str, str]]:
    """Two reports kept and one erased through the API: their ids, and (id, partner) of the
    erased one."""
    async with httpx.AsyncClient(timeout=10) as http:
        admin = await bootstrap_admin(http, net.urls["sharing"], net.data_dir)
        submitter = await register_client(http, admin, ["reports:submit"])
        ids = []
        for tlp, narrative in (("RED", CANARY), ("AMBER", CANARY), ("RED", ERASED)):
            resp = await http.post(
                f"{net.urls['intake']}/v1/reports",
                json=report_body(narrative=narrative, tlp=tlp),
                headers=await submitter.headers(http),
            )
            assert resp.status_code in (201, 202), resp.text
            ids.append(resp.json()["report_id"])
        _wait_stored(net.data_dir / "sharing.db", ids)
        gone = await http.delete(
            f"{net.urls['sharing']}/v1/reports/{ids[-1]}", headers=await admin.headers(http)
        )
        assert gone.status_code == 200, gone.text
        return ids[:-1], (ids[-1], submitter.partner_id)


def _wait_stored(db: Path, report_ids: list[str]) -> None:
    deadline = time.monotonic() + 15
    while True:
        stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
        if all(i.encode() in stored for i in report_ids):
            return
        assert time.monotonic() < deadline, "sharing never stored the reports"
        time.sleep(0.2)


def _wait_bus_copies_erased(db: Path) -> None:
    """Until sharing's janitor has erased every report's copy from the stream (docs/bus.md)."""
    deadline = time.monotonic() + 15
    while True:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            left = conn.execute("SELECT count(*) FROM vault_bus_copies").fetchone()[0]
        if left == 0:
            return
        assert time.monotonic() < deadline, f"{left} copies still on the bus"
        time.sleep(0.2)


def _attack_offline(seized: Path, report_ids: list[str]) -> None:
    """What the project's own code gets from the copy without the passphrase: no key at all."""
    assert not (seized / "dev-root-key").exists()
    keys = seized / "keys"
    opens = {
        "sharing-kek.json": lambda p: LocalFileKekProvider(p, create=False).versions(),
        "sharing-prf.json": PrfKeyStore.open,
        "sharing-hpke.json": HpkeKeyStore.open,
        "sharing-signing.json": lambda p: SigningKeystore(p, rotate_every=86400).jwks(),
        "alerts-secrets.key": load_or_create_secret_key,
        "alerts-ack-link-keys.key": lambda p: LinkKeys(p, rotate_s=86400, now=time.time()).ring(),
        "intake-content-mac.key": load_or_create_secret_key,
    }
    for name, open_store in opens.items():
        assert (keys / name).exists(), name
        with pytest.raises((KeyFileError, LifelineError)):
            open_store(keys / name)
    for path in [*keys.iterdir(), *(seized / "bus").glob("*-key.pem")]:
        if path.name in ("server-key.pem",) or path.name.endswith(".lock"):
            continue
        with pytest.raises(LifelineError, match="sealed"):
            read_private(path)
    everything = b"".join(p.read_bytes() for p in seized.rglob("*") if p.is_file())
    assert CANARY.encode() not in everything
    assert report_ids[0].encode() in everything  # the reports are there, only as ciphertext
    # No private key in the clear but nats-server's own (docs/sealing.md).
    plain = [
        p.name for p in seized.rglob("*") if p.is_file() and b"PRIVATE KEY-----" in p.read_bytes()
    ]
    assert plain == ["server-key.pem"]
    assert os.stat(seized / "seal.json").st_size > 0


def _attack_with_the_passphrase(seized: Path, erased: tuple[str, str]) -> None:
    """Even with the passphrase (every key opens), the erased report is in no file of the copy:
    not in the NATS store, not in intake's or sharing's files, not in any log."""
    document = sealfile.load(seized / "seal.json")
    assert document is not None and document.passphrase is not None
    seal_root.activate(unwrap_with_passphrase(document.passphrase, PASSPHRASE))
    try:
        keys = HpkeKeyStore.open(seized / "keys" / "sharing-hpke.json")
        everything = store_bytes(seized)
        assert ERASED.encode() not in everything
        assert opened(everything, keys, *erased) == []
    finally:
        seal_root.forget()
