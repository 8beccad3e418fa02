"""Intake seals only to a pinned key: a substituted key from a hijacked sharing is never used."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from libs.common.clock import FakeClock
from libs.common.crypto.hpke_keys import HpkeSuite, dump_public_key, generate_private_key
from libs.common.errors import Unavailable
from services.intake.sealing import WELL_KNOWN, SealingKey
from services.intake.settings import normalise_fingerprint

GENUINE = generate_private_key(HpkeSuite.X25519).public_key
IMPOSTOR = generate_private_key(HpkeSuite.X25519).public_key


def _sharing(*keys: tuple[str, object], calls: list[str] | None = None) -> httpx.AsyncClient:
    """A well-known endpoint answering with these (state, public key) pairs."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == WELL_KNOWN
        if calls is not None:
            calls.append(request.url.path)
        body = [{"state": state, "public_key": dump_public_key(key)} for state, key in keys]  # type: ignore[arg-type]
        return httpx.Response(200, json={"keys": body})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://sharing")


def _pin(*keys: object) -> frozenset[str]:
    # Fingerprints as an operator pastes them: grouped, upper case.
    return frozenset(normalise_fingerprint(k.fingerprint()) for k in keys)  # type: ignore[attr-defined]


async def test_the_pinned_active_key_is_used_and_cached(tmp_path: Path) -> None:
    async with _sharing(("active", GENUINE)) as http:
        key = await SealingKey(http, _pin(GENUINE), tmp_path / "key", clock=FakeClock()).current()
    assert key == GENUINE
    assert (tmp_path / "key").read_text() == dump_public_key(GENUINE)


async def test_an_unpinned_active_key_is_refused(tmp_path: Path) -> None:
    async with _sharing(("active", IMPOSTOR), ("retiring", GENUINE)) as http:
        with pytest.raises(Unavailable):
            await SealingKey(http, _pin(GENUINE), tmp_path / "key", clock=FakeClock()).current()
    assert not (tmp_path / "key").exists()


async def test_a_tampered_cache_file_is_not_trusted(tmp_path: Path) -> None:
    cache = tmp_path / "key"
    cache.write_text(dump_public_key(IMPOSTOR))
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as unreachable:
        with pytest.raises(Unavailable):
            await SealingKey(unreachable, _pin(GENUINE), cache, clock=FakeClock()).current()


async def test_the_pinned_copy_on_disk_serves_while_sharing_is_down(tmp_path: Path) -> None:
    cache = tmp_path / "key"
    cache.write_text(dump_public_key(GENUINE))
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as unreachable:
        assert (
            await SealingKey(unreachable, _pin(GENUINE), cache, clock=FakeClock()).current()
            == GENUINE
        )


async def test_the_key_is_fetched_again_once_its_cache_time_is_over(tmp_path: Path) -> None:
    calls: list[str] = []
    clock = FakeClock()
    async with _sharing(("active", GENUINE), calls=calls) as http:
        key = SealingKey(http, _pin(GENUINE), tmp_path / "key", clock=clock, ttl=300)
        await key.current()
        clock.advance(299)
        await key.current()
        assert len(calls) == 1  # served from the cache
        clock.advance(2)
        assert await key.current() == GENUINE
        assert len(calls) == 2
