"""A real sharing (registry, vault) on real NATS and a real database, and ways to feed it reports.

Reports reach the vault as intake sends them: a `lifeline.report.received.v1` event carrying the
report sealed to sharing's HPKE key. `publish` builds that event the way intake does (and lets a
test break it); the journey test goes through a real intake instead.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as Nats
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import db
from libs.common import nats as natsx
from libs.common.contracts import ReportReceived
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_encode, canonical_json
from libs.common.events import Envelope, new_event
from libs.common.reports import ReportCore, ReportIn
from libs.common.subjects import REPORT_RECEIVED
from libs.sdk import TokenSource, save_private_key
from services.sharing.app import create_app as sharing_app
from services.sharing.models import DeadLetter
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from services.sharing.vault.models import REPORTS
from tests.support.access import Client, bootstrap_admin, register_client
from tests.support.natsd import NatsServer, free_port
from tests.support.reports import report_body
from tests.support.servers import serve_app

DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]
ANALYST = ("reports:read",)


@dataclass
class Vault:
    """A running sharing, its admin, a NATS connection and a way into its database."""

    url: str
    app: FastAPI
    http: httpx.AsyncClient
    admin: Client
    settings: SharingSettings
    engine: AsyncEngine
    nc: Nats
    sources: dict[tuple[str, tuple[str, ...]], TokenSource] = field(default_factory=dict)

    @property
    def keys(self) -> HpkeKeyStore:
        """Sharing's intake-sealing keys."""
        store: HpkeKeyStore = self.app.state.container.hpke_keys
        return store

    async def client(self, *scopes: str, partner_id: str | None = None) -> Client:
        """A registered client of a new partner (or of `partner_id`)."""
        return await register_client(self.http, self.admin, scopes, partner_id=partner_id)

    async def headers(
        self, client: Client, scopes: tuple[str, ...] | None = None
    ) -> dict[str, str]:
        """A bearer header for `client` (tokens cached per client and scope set)."""
        wanted = scopes or client.scopes
        key = (client.client_id, tuple(sorted(wanted)))
        if key not in self.sources:
            self.sources[key] = client.source(self.http, scopes=list(wanted))
        return {"Authorization": f"Bearer {await self.sources[key].token()}"}

    async def call(self, client: Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call as `client`."""
        headers = await self.headers(client) | kwargs.pop("headers", {})
        return await self.http.request(method, self.url + path, headers=headers, **kwargs)

    async def admin_call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One admin API call."""
        return await self.call(self.admin, method, path, **kwargs)

    async def set_policy(
        self, partner_id: str, *grants: dict[str, Any], role: str | None = None
    ) -> None:
        """Store a policy for a reading partner (grant dicts without defaults filled)."""
        doc = {"partner": partner_id, "role": role, "grants": [grant(**g) for g in grants]}
        resp = await self.admin_call("PUT", f"/v1/admin/policies/{partner_id}", json=doc)
        assert resp.status_code == 200, resp.text

    def event(
        self,
        partner_id: str,
        body: dict[str, Any] | None = None,
        *,
        model: type[ReportCore] = ReportIn,
        **tamper: Any,
    ) -> tuple[str, Envelope]:
        """A received event for `body` sealed to sharing, exactly as intake builds it.

        `model` validates the body first (the `ReportIn` of a grown catalogue, say).
        """
        report = model.model_validate(body or report_body())
        report_id = tamper.pop("report_id", str(uuid.uuid4()))
        received_at = tamper.pop("received_at", None) or datetime.now(UTC)
        inner = {
            "report_id": tamper.pop("inner_report_id", report_id),
            "partner_id": tamper.pop("inner_partner_id", partner_id),
            "client_id": "cli_test",
            "received_at": received_at.isoformat(),
            "report": report.model_dump(mode="json"),
        }
        info = hpke.report_seal_info(
            report_id=tamper.pop("info_report_id", report_id),
            partner_id=tamper.pop("info_partner_id", partner_id),
        )
        key = tamper.pop("seal_key", self.keys.active().key.public_key)
        sealed = hpke.seal(key, canonical_json(inner), info)
        data = ReportReceived.of(
            report,
            report_id=report_id,
            partner_id=partner_id,
            received_at=received_at,
            sealed=b64u_encode(sealed),
        ).model_dump(mode="json")
        data.update(tamper)
        return report_id, new_event(REPORT_RECEIVED, "intake", data, report_id)

    async def publish(self, event: Envelope, msg_id: str | None = None) -> None:
        """Publish an event (a distinct `msg_id` gets past JetStream's duplicate window)."""
        await self.nc.jetstream().publish(
            event.type,
            natsx.envelope_bytes(event),
            headers={"Nats-Msg-Id": msg_id or event.id},
        )

    async def submit(
        self, partner_id: str, *, received_at: datetime | None = None, **fields: Any
    ) -> str:
        """Publish a sealed report of `partner_id` and wait until the vault stored it."""
        report_id, event = self.event(partner_id, report_body(**fields), received_at=received_at)
        await self.publish(event)
        await self.stored(report_id)
        return report_id

    async def stored(self, report_id: str, timeout: float = 15.0) -> None:
        """Wait until the report row exists."""
        await self.until(
            lambda c: c.execute(
                select(REPORTS.c.report_id).where(REPORTS.c.report_id == report_id)
            ),
            timeout,
        )

    async def dead_letter(self, event_id: str, timeout: float = 15.0) -> str:
        """Wait until the event is dead-lettered; its reason."""
        row = await self.until(
            lambda c: c.execute(
                select(DEAD_LETTERS.c.reason).where(DEAD_LETTERS.c.event_id == event_id)
            ),
            timeout,
        )
        return str(row.reason)

    async def until(self, query: Callable[[Any], Any], timeout: float) -> Any:
        """Poll a query until it returns a row."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                async with self.engine.connect() as conn:
                    row = (await query(conn)).first()
            except OperationalError:  # a server slow to accept (a loaded CI machine): poll on
                row = None
            if row is not None:
                return row
            if loop.time() > deadline:
                raise AssertionError("timed out waiting for the database")
            await asyncio.sleep(0.02)

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run SQL behind the service's back (tamper, inspect)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


def grant(**overrides: Any) -> dict[str, Any]:
    """A policy grant with every key present (defaults: any source, type, country, basis)."""
    doc: dict[str, Any] = {
        "id": "g1",
        "from": ["*"],
        "fields": ["incident_type", "place.country"],
        "incident_types": ["*"],
        "countries": ["*"],
        "legal_bases": ["*"],
        "max_tlp": "AMBER",
    }
    doc.update(overrides)
    return doc


def vault_settings(tmp_path: Path, nats_url: str, db_url: str, **extra: Any) -> SharingSettings:
    """Settings of a sharing whose data dir and port survive a restart within the test."""
    return SharingSettings(
        data_dir=tmp_path / "sharing",
        nats_url=nats_url,
        database_url=db_url,
        port=free_port(),
        **extra,
    )


@asynccontextmanager
async def running_vault(
    settings: SharingSettings,
    http: httpx.AsyncClient,
    admin: Client | None = None,
    **app_options: Any,
) -> AsyncIterator[Vault]:
    """Serve sharing; bootstrap its first admin unless one is given (a restart).

    `app_options` go to `create_app` (a `clock`, a grown `catalogue`).
    """
    engine = db.create_engine(settings.resolved_database_url())
    nc = await natsx.connect(settings.nats_url, "vault-test")
    try:
        async with serve_app(functools.partial(sharing_app, **app_options), settings) as (
            url,
            app,
        ):
            if admin is None:
                admin = await bootstrap_admin(http, url, settings.data_dir)
            yield Vault(url, app, http, admin, settings, engine, nc)
    finally:
        await nc.close()
        await engine.dispose()


@pytest.fixture
async def vault(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Vault]:
    """A sharing with its first admin, on the session's NATS and the parametrised database."""
    settings = vault_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as v:
        yield v


LIFELINE = str(Path(sys.executable).parent / "lifeline")


async def cli(
    vault: Vault, client: Client, home: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the `lifeline` command as `client` (its own profile and config dir under `home`)."""
    home.mkdir(parents=True, exist_ok=True)
    key_path = home / "client-key.pem"
    if not key_path.exists():
        save_private_key(client.key, key_path)
    profile = home / "profile.json"
    profile.write_text(
        json.dumps(
            {"sharing_url": vault.url, "client_id": client.client_id, "key_path": str(key_path)}
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    env |= {"LIFELINE_PROFILE": str(profile), "XDG_CONFIG_HOME": str(home / "config")}
    # In a thread: the service under test runs on this event loop and must keep answering.
    return await asyncio.to_thread(
        subprocess.run,
        [LIFELINE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


async def cli_json(vault: Vault, client: Client, home: Path, *args: str) -> Any:
    """Run a command with `--json`; its parsed output (the command must succeed)."""
    result = await cli(vault, client, home, *args, "--json")
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)
