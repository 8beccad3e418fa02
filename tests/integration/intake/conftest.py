"""An intake wired to a real sharing (for its sealing key), real NATS and a real database.

Both run in process unless `wire=True` (NATS faults keep uvicorn); the bad-input tables share one
stack per module and backend (`intake_module_stack`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.common.clock import SYSTEM_CLOCK, Clock
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.auth import TestIssuer
from tests.support.natsd import NatsServer
from tests.support.servers import in_process_settings, serve, service_settings


@dataclass
class IntakeStack:
    """What an intake test touches."""

    url: str
    app: FastAPI
    http: httpx.AsyncClient
    issuer: TestIssuer
    keys: HpkeKeyStore

    def headers(
        self, org: str = "partner-a", scopes: tuple[str, ...] = ("reports:submit",)
    ) -> dict[str, str]:
        """Authorization for a client of `org`."""
        token = self.issuer.token(scopes, ["lifeline-intake"], org=org)
        return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def intake_stack_on(
    nats_url: str,
    db_url_factory,
    tmp_path: Path,
    *,
    wire: bool = False,
    clock: Clock = SYSTEM_CLOCK,
    **intake_settings: Any,
) -> AsyncIterator[IntakeStack]:  # type: ignore[no-untyped-def]
    """A sharing (for its sealing key) and an intake (`intake_settings` on top) on this NATS."""
    key_file = tmp_path / "sharing-keys" / "hpke.json"
    keys = HpkeKeyStore.open(key_file)
    make = service_settings if wire else in_process_settings
    s_set = make(
        SharingSettings, tmp_path / "s", nats_url, db_url_factory("sharing"), hpke_key_file=key_file
    )
    issuer = TestIssuer()
    async with serve(sharing_app, s_set) as (sharing_url, _):
        i_set = make(
            IntakeSettings,
            tmp_path / "i",
            nats_url,
            db_url_factory("intake"),
            sharing_url=sharing_url,
            sharing_hpke_fingerprints=keys.active().public_view()["fingerprint"],
            rate_burst=50,
            rate_per_second=0.05,
            max_body_bytes=65536,
            **intake_settings,
        )
        async with (
            serve(lambda s: intake_app(s, clock), i_set) as (url, app),
            httpx.AsyncClient(base_url=url) as http,
        ):
            issuer.install(app, "lifeline-intake")
            yield IntakeStack(url, app, http, issuer, keys)


@pytest.fixture
async def intake_stack(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> AsyncIterator[IntakeStack]:  # type: ignore[no-untyped-def]
    """The stack of this test alone, on the session's nats-server."""
    async with intake_stack_on(nats_server.url, db_url_factory, tmp_path) as stack:
        yield stack


@pytest.fixture(scope="module")
async def intake_module_stack(
    module_nats: NatsServer, module_db_url_factory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[IntakeStack]:  # type: ignore[no-untyped-def]
    """One stack for all of a module's tests of a backend; each test's token is a new client."""
    tmp_path = tmp_path_factory.mktemp("intake")
    async with intake_stack_on(module_nats.url, module_db_url_factory, tmp_path) as stack:
        yield stack
