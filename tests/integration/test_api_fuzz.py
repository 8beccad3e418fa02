"""Schemathesis over every operation of the three services: no input gets a server error.

The operations come from each app's own OpenAPI document, so a new route is fuzzed without any
change here. Each request carries a real token (from sharing's token endpoint) of the narrowest
role holding the scopes the route declares (`route_scopes`): the operator for admin routes, a
lawyer for watchlist and alerts routes, a submitter for intake. The services run in process on an
event loop of their own thread; Hypothesis drives them from the test's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from libs.common.auth.fastapi import route_scopes
from libs.common.auth.roles import ROLE_SCOPES, Role
from libs.sdk import TokenSource
from tests.integration.auth.conftest import Network, running_sharing, services_for
from tests.integration.auth.conftest import sharing_settings as make_sharing_settings
from tests.support.access import register_client
from tests.support.auth import role_for
from tests.support.databases import Databases
from tests.support.natsd import NatsServer
from tests.support.openapi import service_document

# Per operation, on top of Schemathesis' explicit and coverage cases. Derandomized, so every run
# sends the same requests; the whole module stays well under a minute and a half on two cores.
MAX_EXAMPLES = 25
DOCUMENTS: dict[str, dict[str, Any]] = {}


class LoopThread:
    """An event loop running in a thread of its own, for coroutines sent from other threads."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        """Run `coro` on the loop; its result (or its exception) here."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@dataclass
class FuzzTarget:
    """The running network, and a token source per scope set its routes declare."""

    loop: LoopThread
    network: Network
    scopes: dict[str, dict[str, frozenset[str]]]
    sources: dict[frozenset[str], TokenSource] = field(default_factory=dict)

    def send(self, service: str, case: schemathesis.Case) -> httpx.Response:
        """Send the case to `service` as a client allowed to call its route."""
        response: httpx.Response = self.loop.run(self._send(service, case))
        return response

    async def _send(self, service: str, case: schemathesis.Case) -> httpx.Response:
        route = f"{case.method.upper()} {case.operation.path}"
        # A method the path does not declare (405 expected) goes with the operator's token.
        token = await self._token(self.scopes[service].get(route, frozenset()))
        kwargs = case.as_transport_kwargs(
            base_url=self.network.urls[service], headers={"Authorization": f"Bearer {token}"}
        )
        if kwargs.pop("cookies", None):
            # No route reads a cookie today; one that does needs them sent here, not dropped.
            raise AssertionError(f"{route}: cookie parameters are not supported by this test")
        # requests' `data` is raw bytes or a form; httpx names the first `content`.
        if isinstance(kwargs.get("data"), bytes | str):
            kwargs["content"] = kwargs.pop("data")
        http = self.network.sharing.http
        return await http.request(kwargs.pop("method"), kwargs.pop("url"), **kwargs)

    async def _token(self, scopes: frozenset[str]) -> str:
        """A token of the narrowest role allowed the route (the operator for admin routes)."""
        if scopes not in self.sources:
            role = role_for(scopes) if scopes else Role.OPERATOR
            sharing = self.network.sharing
            if role is Role.OPERATOR:
                client = sharing.admin
            else:
                wanted = scopes & ROLE_SCOPES[role]
                client = await register_client(sharing.http, sharing.admin, sorted(wanted))
            self.sources[scopes] = client.source(sharing.http)
        return await self.sources[scopes].token()


async def _serve(
    nats_url: str, databases: Databases, tmp_path: Path, started: concurrent.futures.Future[Any]
) -> None:
    """Run the network until `started`'s result (an event) is set; one task enters and exits it."""
    stop = asyncio.Event()
    config = make_sharing_settings(tmp_path, nats_url, databases("sharing"), wire=False)
    try:
        async with (
            httpx.AsyncClient(timeout=30) as http,
            running_sharing(config, http) as sharing,
            services_for(sharing, nats_url, databases, tmp_path) as (urls, apps),
        ):
            started.set_result((Network(sharing, urls, apps), stop))
            await stop.wait()
    except BaseException as exc:
        if not started.done():
            started.set_exception(exc)
        raise


# SQLite only: PostgreSQL too would double the run, and what is fuzzed here is the input. As a
# parameter, it also gives each operation's item an id of its own under pytest 9.
@pytest.fixture(scope="module", params=["sqlite"])
def fuzz_target(
    request: pytest.FixtureRequest,
    module_nats: NatsServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FuzzTarget]:
    """Sharing, intake and alerts on a database of the backend and the session's NATS, served
    from a loop thread."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    databases = Databases(request.param, tmp_path / "db")
    loop = LoopThread()
    started: concurrent.futures.Future[Any] = concurrent.futures.Future()
    serving = asyncio.run_coroutine_threadsafe(
        _serve(module_nats.url, databases, tmp_path, started), loop.loop
    )
    try:
        network, stop = started.result(timeout=60)
        # The documents fuzzed (read at collection) are the ones the running services serve.
        assert {name: app.openapi() for name, app in network.apps.items()} == DOCUMENTS
        scopes = {
            name: {route: declared or frozenset() for route, declared in route_scopes(app).items()}
            for name, app in network.apps.items()
        }
        yield FuzzTarget(loop, network, scopes)
        loop.loop.call_soon_threadsafe(stop.set)
        serving.result(timeout=60)
    finally:
        loop.close()
        databases.close()


def _fuzz(service: str) -> Any:
    """A test over every operation of `service`'s OpenAPI document (one pytest item each)."""
    DOCUMENTS[service] = service_document(service)
    schema = schemathesis.openapi.from_dict(DOCUMENTS[service])

    @schema.parametrize()
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def test(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
        """Whatever the input, the service answers below 500."""
        response = fuzz_target.send(service, case)
        case.validate_response(response, checks=[not_a_server_error])

    return test


# Intake first: its documented example is a valid report, which intake seals to sharing's key,
# and sharing's own fuzzing rotates that key to one intake has not pinned (503 by design).
test_intake = _fuzz("intake")
test_sharing = _fuzz("sharing")
test_alerts = _fuzz("alerts")
