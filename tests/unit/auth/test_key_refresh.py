"""The periodic JWKS refresh: quiet while the issuer starts, loud once it should be up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest

from libs.common.auth.wiring import ServiceAuth
from tests.unit.auth.helpers import ISSUER, make_env


class StartingIssuer:
    """A JWKS source whose service refuses connections for its first `down` fetches."""

    def __init__(self, document: Mapping[str, Any], down: int) -> None:
        self.document, self.down, self.calls = document, down, 0

    async def __call__(self) -> Mapping[str, Any]:
        self.calls += 1
        if self.calls <= self.down:
            raise ConnectionRefusedError("issuer not listening yet")
        return self.document


@contextlib.asynccontextmanager
async def _refreshing(auth: ServiceAuth) -> AsyncIterator[None]:
    """The service's refresh loop running for the block (at most 10 s)."""
    stop = asyncio.Event()
    task = asyncio.create_task(auth._refresh(stop))
    try:
        async with asyncio.timeout(10):
            yield
    finally:
        stop.set()
        await task


async def _until(done: Callable[[], bool]) -> None:
    while not done():
        await asyncio.sleep(0.01)


def _failures(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [r.levelno for r in caplog.records if r.getMessage() == "jwks refresh failed"]


@pytest.mark.parametrize(("grace", "level"), [(30.0, logging.INFO), (0.0, logging.WARNING)])
async def test_an_issuer_still_starting_is_no_warning_until_the_grace_is_over(
    caplog: pytest.LogCaptureFixture, grace: float, level: int
) -> None:
    env = make_env()
    source = StartingIssuer(env.fetch.document, down=2)
    env.verifier.jwks._issuers[ISSUER].fetch = source
    auth = ServiceAuth(env.verifier, ISSUER, refresh_every=60, startup_grace_s=grace)
    caplog.set_level(logging.DEBUG, logger="libs.common.auth")
    async with _refreshing(auth):
        await _until(lambda: source.calls > source.down)
    assert _failures(caplog) == [level, level]  # both failed fetches, at the expected level
    assert auth._keys_loaded


async def test_once_keys_are_loaded_a_failed_refresh_is_a_warning_even_within_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = make_env()
    source = StartingIssuer(env.fetch.document, down=0)
    env.verifier.jwks._issuers[ISSUER].fetch = source
    auth = ServiceAuth(env.verifier, ISSUER, refresh_every=0.01, startup_grace_s=30)
    caplog.set_level(logging.DEBUG, logger="libs.common.auth")
    async with _refreshing(auth):
        await _until(lambda: auth._keys_loaded)
        source.down = source.calls + 1  # the issuer goes away after the first keys
        await _until(lambda: bool(_failures(caplog)))
    assert _failures(caplog)[0] == logging.WARNING
