"""Real sharing (and intake, alerts) on real NATS and a real database, with a bootstrapped admin.

The services run in process (`tests.support.inproc`) unless a test is about the wire, a restart
or a fault; those build their settings with `wire=True` and get uvicorn on a port. The attack
and bad-input tables share one stack per module and backend (`module_sharing`,
`module_network`): each of their tests registers fresh clients and partners of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import db
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.access import Client, admin_call, bootstrap_admin, register_client
from tests.support.inproc import is_in_process
from tests.support.natsd import NatsServer
from tests.support.servers import in_process_settings, serve, service_settings


@dataclass
class Sharing:
    """A running sharing, an HTTP client, the first admin and a way into its database."""

    url: str
    app: FastAPI
    http: httpx.AsyncClient
    admin: Client
    settings: SharingSettings
    engine: AsyncEngine
    extra: dict[str, Any] = field(default_factory=dict)

    async def admin_call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One admin API call with a fresh admin token."""
        return await admin_call(self.http, self.admin, method, path, **kwargs)

    async def client(self, *scopes: str, **kwargs: Any) -> Client:
        """A new registered client (of a new partner unless `partner_id` is given)."""
        return await register_client(self.http, self.admin, scopes, **kwargs)

    async def sql(self, statement: str, **params: Any) -> None:
        """Change the database behind the service's back (tamper, delete)."""
        async with self.engine.begin() as conn:
            await conn.execute(text(statement), params)


def sharing_settings(
    tmp_path: Path, nats_url: str, db_url: str, *, wire: bool = True, **extra: Any
) -> SharingSettings:
    """Settings of a sharing whose data dir and URL survive a restart of the test's sharing.

    uvicorn serves it on a reserved port; with `wire=False` it runs in process.
    """
    make = service_settings if wire else in_process_settings
    settings: SharingSettings = make(
        SharingSettings, tmp_path / "sharing", nats_url, db_url, **extra
    )
    return settings


@asynccontextmanager
async def running_sharing(
    settings: SharingSettings, http: httpx.AsyncClient, admin: Client | None = None
) -> AsyncIterator[Sharing]:
    """Serve sharing; bootstrap its first admin unless one is given (a restart)."""
    engine = db.create_engine(settings.resolved_database_url())
    try:
        async with serve(sharing_app, settings) as (url, app):
            if admin is None:
                admin = await bootstrap_admin(http, url, settings.data_dir)
            yield Sharing(url, app, http, admin, settings, engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def sharing(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Sharing]:
    """A sharing of this test alone with its first admin, on the session's NATS."""
    settings = sharing_settings(tmp_path, nats_server.url, db_url_factory("sharing"), wire=False)
    async with httpx.AsyncClient(timeout=10) as http, running_sharing(settings, http) as s:
        yield s


@pytest.fixture
async def wire_sharing(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Sharing]:
    """The same under uvicorn, for a client that runs outside this event loop (the CLI)."""
    settings = sharing_settings(tmp_path, nats_server.url, db_url_factory("sharing"), wire=True)
    async with httpx.AsyncClient(timeout=10) as http, running_sharing(settings, http) as s:
        yield s


@pytest.fixture(scope="module")
async def module_sharing(
    module_nats: NatsServer,
    module_db_url_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Sharing]:
    """One sharing for all of a module's tests of a backend (isolated by fresh clients)."""
    tmp_path = tmp_path_factory.mktemp("sharing")
    settings = sharing_settings(
        tmp_path, module_nats.url, module_db_url_factory("sharing"), wire=False
    )
    async with httpx.AsyncClient(timeout=10) as http, running_sharing(settings, http) as s:
        yield s


@dataclass
class Network:
    """Sharing plus intake and alerts verifying its tokens."""

    sharing: Sharing
    urls: dict[str, str]
    apps: dict[str, FastAPI]


def sharing_fingerprint(settings: SharingSettings) -> str:
    """The fingerprint of sharing's active report-sealing key, as an operator pins it."""
    store = HpkeKeyStore.open(settings.resolved_hpke_key_file())
    return str(store.active().public_view()["fingerprint"])


@asynccontextmanager
async def services_for(
    sharing: Sharing,
    nats_url: str,
    db_url_factory: Callable[[str], str],
    tmp_path: Path,
    tag: str = "",
    extra: Callable[[str], dict[str, Any]] = lambda service: {},
) -> AsyncIterator[tuple[dict[str, str], dict[str, FastAPI]]]:
    """An intake and an alerts trusting `sharing`'s tokens (a fresh pair per `tag`).

    They run the way `sharing` runs: in process, or under uvicorn; `extra(service)` gives each
    more settings (an authenticated bus, other limits).
    """
    make = in_process_settings if is_in_process(sharing.settings) else service_settings
    i_set = make(
        IntakeSettings,
        tmp_path / f"intake{tag}",
        nats_url,
        db_url_factory(f"intake{tag}"),
        sharing_url=sharing.url,
        sharing_hpke_fingerprints=sharing_fingerprint(sharing.settings),
        **extra("intake"),
    )
    a_set = make(
        AlertsSettings,
        tmp_path / f"alerts{tag}",
        nats_url,
        db_url_factory(f"alerts{tag}"),
        sharing_url=sharing.url,
        **extra("alerts"),
    )
    async with (
        serve(intake_app, i_set) as (intake, i_app),
        serve(alerts_app, a_set) as (alerts, a_app),
    ):
        yield (
            {"sharing": sharing.url, "intake": intake, "alerts": alerts},
            {"sharing": sharing.app, "intake": i_app, "alerts": a_app},
        )


@pytest.fixture
async def network(
    sharing: Sharing, nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Network]:
    """Sharing, intake and alerts of this test alone, on one NATS."""
    async with services_for(sharing, nats_server.url, db_url_factory, tmp_path) as (urls, apps):
        yield Network(sharing, urls, apps)


@pytest.fixture(scope="module")
async def module_network(
    module_sharing: Sharing,
    module_nats: NatsServer,
    module_db_url_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Network]:
    """One network for all of a module's tests of a backend (isolated by fresh clients)."""
    tmp_path = tmp_path_factory.mktemp("network")
    async with services_for(module_sharing, module_nats.url, module_db_url_factory, tmp_path) as (
        urls,
        apps,
    ):
        yield Network(module_sharing, urls, apps)
