"""A service whose seal has a KMS-wrapped root key unseals itself at start, against a real
transit server: at once, once the KMS comes up, or not at all when the KMS refuses."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.kek_vault import VaultTransitKekProvider
from libs.common.logging import JsonFormatter
from libs.common.seal import sealfile
from libs.common.seal.domain import Argon2Params, is_sealed
from libs.common.seal.kms import unwrap_root, wrapper
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from tests.support.natsd import NatsServer
from tests.support.servers import in_process_settings, serve
from tests.support.transit import ROOT, TransitServer

KEY = "lifeline-seal"
PASSPHRASE = "the operator's long passphrase"
SERVICE_TOKEN = "hvs.service-canary-5e1f"
OPERATOR_TOKEN = "hvs.operator-canary-77aa"
FAST = Argon2Params(memory_kib=1024, iterations=1, lanes=1)


@pytest.fixture
def transit() -> Iterator[TransitServer]:
    tokens = {OPERATOR_TOKEN: ROOT, SERVICE_TOKEN: frozenset({"decrypt"})}
    with TransitServer(tokens) as server:
        server.handle("POST", OPERATOR_TOKEN, "keys", KEY, {})
        yield server


def _token_file(tmp_path: Path, token: str) -> Path:
    path = tmp_path / f"token-{token[-4:]}"
    path.write_text(token + "\n")
    return path


def _seal(data_dir: Path, transit: TransitServer) -> sealfile.SealDocument:
    """What `lifeline seal init --kms-url … --kms-key …` makes, with the operator's token."""
    operator = VaultTransitKekProvider(transit.url, KEY, _token_file(data_dir, OPERATOR_TOKEN))
    created = sealfile.create(
        data_dir / sealfile.SEAL_FILE, passphrase=PASSPHRASE, params=FAST, kms=wrapper(operator)
    )
    operator.close()
    assert created.document.methods == ["passphrase", "shares", "kms"]
    assert sealfile.load(data_dir / sealfile.SEAL_FILE) == created.document
    return created.document


def _settings(tmp_path: Path, nats: NatsServer, token: str, **extra: object) -> object:
    # The seal is the same whatever the database: SQLite, in the data directory.
    return in_process_settings(
        SharingSettings,
        tmp_path,
        nats.url,
        "",
        seal_kms_token_file=_token_file(tmp_path, token),
        **extra,
    )


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(JsonFormatter().format(r) for r in caplog.records)


async def _readyz(http: httpx.AsyncClient, url: str) -> httpx.Response:
    return await http.get(f"{url}/readyz")


async def _until_ready(http: httpx.AsyncClient, url: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await _readyz(http, url)).status_code != 200:
        assert asyncio.get_running_loop().time() < deadline, "not ready"
        await asyncio.sleep(0.05)


async def test_a_kms_seal_unseals_itself_at_start(
    tmp_path: Path,
    transit: TransitServer,
    nats_server: NatsServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _seal(tmp_path, transit)
    settings = _settings(tmp_path, nats_server, SERVICE_TOKEN)
    async with serve(sharing_app, settings) as (url, _), httpx.AsyncClient() as http:
        status = (await http.get(f"{url}/v1/sys/seal-status")).json()
        assert status["sealed"] is False and "kms" in status["methods"]
        # It holds the root key: the keys it made on this start are sealed on disk.
        assert is_sealed((tmp_path / "keys" / "sharing-prf.json").read_bytes())
    assert ("POST", f"decrypt/{KEY}") in transit.requests
    logged = _logged(caplog)
    assert '"reason": "kms"' in logged
    assert SERVICE_TOKEN not in logged and OPERATOR_TOKEN not in logged


async def test_with_the_kms_down_it_stays_sealed_then_unseals_when_it_comes_up(
    tmp_path: Path,
    transit: TransitServer,
    nats_server: NatsServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _seal(tmp_path, transit)
    transit.stop()  # the port stays held: connections are refused
    settings = _settings(tmp_path, nats_server, SERVICE_TOKEN)
    async with (
        serve(sharing_app, settings, wait_ready=False) as (url, _),
        httpx.AsyncClient() as http,
    ):
        await asyncio.sleep(1.2)  # a few attempts
        ready = await _readyz(http, url)
        assert ready.status_code == 503 and ready.json()["checks"]["seal"] == "sealed"
        assert "KMS unreachable" in _logged(caplog)
        transit.start()
        await _until_ready(http, url, timeout=15)
    assert SERVICE_TOKEN not in _logged(caplog)


async def test_a_refused_token_leaves_it_sealed_and_the_passphrase_still_unseals(
    tmp_path: Path,
    transit: TransitServer,
    nats_server: NatsServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _seal(tmp_path, transit)
    revoked = "hvs.revoked-canary-0b0b"
    settings = _settings(tmp_path, nats_server, revoked)
    async with (
        serve(sharing_app, settings, wait_ready=False) as (url, _),
        httpx.AsyncClient() as http,
    ):
        deadline = asyncio.get_running_loop().time() + 10
        while "KMS unseal refused" not in _logged(caplog):
            assert asyncio.get_running_loop().time() < deadline, _logged(caplog)
            await asyncio.sleep(0.05)
        assert "permission denied" in _logged(caplog)
        assert (await _readyz(http, url)).json()["checks"]["seal"] == "sealed"
        asked = len(transit.requests)
        await asyncio.sleep(0.7)
        assert len(transit.requests) == asked  # a refusal is final: no hammering the KMS
        resp = await http.post(f"{url}/v1/sys/unseal", json={"passphrase": PASSPHRASE})
        assert resp.status_code == 200 and resp.json()["sealed"] is False
        await _until_ready(http, url, timeout=15)
    assert revoked not in _logged(caplog)


async def test_a_seal_naming_another_kms_gets_no_token(
    tmp_path: Path,
    transit: TransitServer,
    nats_server: NatsServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _seal(tmp_path, transit)
    asked = len(transit.requests)
    settings = _settings(
        tmp_path,
        nats_server,
        SERVICE_TOKEN,
        seal_kms_url="https://kms.example.org",
    )
    async with (
        serve(sharing_app, settings, wait_ready=False) as (url, _),
        httpx.AsyncClient() as http,
    ):
        deadline = asyncio.get_running_loop().time() + 10
        while "KMS unseal refused" not in _logged(caplog):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        assert (await _readyz(http, url)).json()["checks"]["seal"] == "sealed"
    assert len(transit.requests) == asked


def test_a_wrapped_root_key_copied_from_another_seal_does_not_open(
    tmp_path: Path, transit: TransitServer
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _seal(tmp_path / "a", transit), _seal(tmp_path / "b", transit)
    service = VaultTransitKekProvider(transit.url, KEY, _token_file(tmp_path, SERVICE_TOKEN))
    assert len(unwrap_root(service, second)) == 32
    assert first.kms is not None
    planted = dataclasses.replace(second, kms=first.kms)
    with pytest.raises(DecryptionFailed):
        unwrap_root(service, planted)
    service.close()
