"""The SDK refuses to tokenise when the network canonicalises with another version."""

from __future__ import annotations

import httpx
import pytest

from libs.common.identity.canonical import CANONICAL_VERSION
from libs.sdk.identity import IdentityRulesOutdated, current_prf_version


def _sharing(info: dict[str, int], seen: list[str]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=info)

    return httpx.AsyncClient(base_url="http://sharing", transport=httpx.MockTransport(answer))


async def test_the_same_canonicaliser_version_tokenises() -> None:
    info = {"current_version": 3, "canonical_version": CANONICAL_VERSION}
    async with _sharing(info, []) as sharing:
        assert await current_prf_version(sharing) == 3


@pytest.mark.parametrize(
    ("network", "says"),
    [
        (CANONICAL_VERSION + 1, "upgrade this client"),
        (CANONICAL_VERSION - 1, "operator must first rotate"),
        (None, "operator must first rotate"),  # a sharing from before the binding: version 1
    ],
)
async def test_another_canonicaliser_version_is_refused_loudly(
    network: int | None, says: str
) -> None:
    info = {"current_version": 3} | ({} if network is None else {"canonical_version": network})
    seen: list[str] = []
    async with _sharing(info, seen) as sharing:
        with pytest.raises(IdentityRulesOutdated, match=says) as refused:
            await current_prf_version(sharing)
    assert refused.value.code == "identity_rules_outdated"
    assert refused.value.network_version == (network or 1)
    assert seen == ["/v1/identity/prf"]
