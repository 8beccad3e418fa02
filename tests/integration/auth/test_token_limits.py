"""Token endpoint limits: per source (X-Forwarded-For only from trusted proxies) and per client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from libs.common.auth.scopes import TOKEN_PATH
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from tests.integration.auth.conftest import Sharing, running_sharing, sharing_settings
from tests.support.natsd import NatsServer
from tests.support.ratelimit import ratelimit_of


@pytest.fixture
async def limited(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Sharing]:
    settings = sharing_settings(
        tmp_path,
        nats_server.url,
        db_url_factory("sharing"),
        wire=False,
        token_source_burst=6,
        token_source_per_second=0.001,
        token_client_burst=4,
        token_client_per_second=0.001,
        trusted_proxies=("127.0.0.1",),
    )
    async with httpx.AsyncClient(timeout=10) as http, running_sharing(settings, http) as s:
        yield s


async def _ask(sharing: Sharing, assertion: str, source: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return await sharing.http.post(
        sharing.url + TOKEN_PATH, data=form, headers={"X-Forwarded-For": f"6.6.6.6, {source}"}
    )


async def test_a_client_gets_only_so_many_tokens_and_a_forger_cannot_spend_them(
    limited: Sharing,
) -> None:
    client = await limited.client("reports:submit")
    # Forged assertions naming the client fail authentication and cost the client nothing.
    for _ in range(3):
        forged = await _ask(limited, client.assertion()[:-4] + "AAAA", "198.51.100.1")
        assert forged.status_code == 401
    for _ in range(4):
        issued = await _ask(limited, client.assertion(), "198.51.100.2")
        assert issued.status_code == 200
    # The last answer says what is left: of this source's requests and of the client's tokens.
    limits = ratelimit_of(issued.headers)
    assert {name: (p["q"], p["w"], p["r"]) for name, p in limits.items()} == {
        "source": (6, 6000, 2),
        "client": (4, 4000, 0),
    }
    # Seconds until full again: 4 spent at 0.001 per second (less the moment that passed).
    assert 3900 <= limits["source"]["t"] <= 4000 and 3900 <= limits["client"]["t"] <= 4000
    refused = await _ask(limited, client.assertion(), "198.51.100.3")
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "slow_down" and int(refused.headers["Retry-After"]) > 0
    assert ratelimit_of(refused.headers)["client"]["r"] == 0


async def test_a_source_is_limited_and_only_a_trusted_proxy_names_it(limited: Sharing) -> None:
    junk = "not.a.jwt"
    # The peer (127.0.0.1) is a trusted proxy: the last hop it saw is the source.
    for _ in range(6):
        assert (await _ask(limited, junk, "203.0.113.7")).status_code == 401
    flooded = await _ask(limited, junk, "203.0.113.7")
    assert flooded.status_code == 429 and flooded.json()["error"] == "slow_down"
    limits = ratelimit_of(flooded.headers)
    assert limits == {"source": {"q": 6, "w": 6000, "r": 0, "t": limits["source"]["t"]}}
    assert limits["source"]["t"] >= int(flooded.headers["Retry-After"])
    assert (await _ask(limited, junk, "203.0.113.8")).status_code == 401
