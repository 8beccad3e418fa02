"""Rotating bus credentials: one service's, or the CA with every certificate it issued."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import nats

from lifeline.bus import ensure_bus
from tests.support.bus import REFUSED, SecuredBus
from tests.support.network import LIFELINE


def _stolen(bus: SecuredBus, service: str, into: Path) -> ssl.SSLContext:
    """A copy of `service`'s current key and certificate, as a thief would keep it."""
    into.mkdir()
    for path in (bus.files.cert(service), bus.files.key(service)):
        shutil.copy(path, into / path.name)
    context = ssl.create_default_context(cafile=str(bus.files.ca))
    context.load_cert_chain(into / bus.files.cert(service).name, into / bus.files.key(service).name)
    return context


def _restart(bus: SecuredBus) -> None:
    """What `lifeline up` does at its next start: issue what is missing, start nats-server."""
    bus.server.stop()
    ensure_bus(bus.files.root, host="127.0.0.1", port=bus.server.port,
               store_dir=bus.server.store, server_name="t")  # fmt: skip
    bus.server.start()


async def _connects(bus: SecuredBus, context: ssl.SSLContext) -> bool:
    try:
        nc = await nats.connect(bus.url, tls=context, allow_reconnect=False, connect_timeout=2)
    except REFUSED:
        return False
    await nc.close()
    return True


async def test_a_new_ca_cuts_off_every_old_certificate(bus: SecuredBus, tmp_path: Path) -> None:
    stolen = _stolen(bus, "alerts", tmp_path / "stolen")
    assert await _connects(bus, stolen)
    old_key = bus.files.key("intake").read_bytes()
    done = subprocess.run(
        [LIFELINE, "bus", "rotate", "--data-dir", str(bus.files.root.parent)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "retired: ca, server, intake, sharing, alerts" in done.stdout
    _restart(bus)
    assert not await _connects(bus, stolen)
    for service in ("intake", "sharing", "alerts"):
        nc = await bus.connect_as(service)  # each with its new certificate
        await nc.close()
    assert bus.files.key("intake").read_bytes() != old_key


async def test_one_service_is_reissued_alone(bus: SecuredBus) -> None:
    ca, sharing_key = bus.files.ca.read_bytes(), bus.files.key("sharing").read_bytes()
    old_key = bus.files.key("intake").read_bytes()
    done = subprocess.run(
        [LIFELINE, "bus", "rotate", "--data-dir", str(bus.files.root.parent), "--service",
         "intake"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "retired: intake" in done.stdout, done.stderr
    _restart(bus)
    nc = await bus.connect_as("intake")
    await nc.close()
    assert bus.files.key("intake").read_bytes() != old_key
    assert bus.files.ca.read_bytes() == ca and bus.files.key("sharing").read_bytes() == sharing_key


def test_an_unknown_service_is_one_clear_line(tmp_path: Path) -> None:
    ensure_bus(tmp_path / "data" / "bus", host="127.0.0.1", port=1,
               store_dir=tmp_path / "s", server_name="t")  # fmt: skip
    done = subprocess.run(
        [LIFELINE, "bus", "rotate", "--data-dir", str(tmp_path / "data"), "--service", "nats"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "lifeline: error: no service 'nats' on the bus (one of intake, sharing, alerts)"
    )


def test_the_bus_directory_and_its_keys_are_private(bus: SecuredBus) -> None:
    assert bus.files.root.stat().st_mode & 0o777 == 0o700
    for party in ("ca", "server", "intake", "sharing", "alerts"):
        key = bus.files.ca_key if party == "ca" else bus.files.key(party)
        assert key.stat().st_mode & 0o777 == 0o600, party
