"""Client-side identity tokenisation: names and dates of birth never leave this process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import httpx

from libs.common.crypto.encoding import b64u_encode
from libs.common.errors import LifelineError, Unavailable
from libs.common.identity import oprf
from libs.common.identity.canonical import CANONICAL_VERSION
from libs.common.identity.tokens import prepare
from libs.common.reports import IdentityToken
from libs.sdk.retry import Backoff


class IdentityRulesOutdated(LifelineError):
    """This client canonicalises names with another version than the network (409).

    Its tokens would never meet the network's (the version is part of every OPRF input), so it
    refuses to make any rather than miss silently.
    """

    status = 409
    code = "identity_rules_outdated"

    def __init__(self, client: int, network: int) -> None:
        self.client_version, self.network_version = client, network
        what = (
            "upgrade this client (the lifeline package / SDK) before making identity tokens"
            if client < network
            else "the network's operator must first rotate its PRF key to the new version "
            "(`lifeline admin identity rotate`, docs/identity.md)"
        )
        super().__init__(
            f"this client canonicalises names with version {client}, the network with version "
            f"{network}: {what}",
            fields=[{"field": "canonical_version", "client": client, "network": network}],
        )


async def current_prf_version(sharing: httpx.AsyncClient, backoff: Backoff | None = None) -> int:
    """The PRF key version sharing wants tokens made with now (refused if the rules differ)."""
    resp = await _send(lambda: sharing.get("/v1/identity/prf"), backoff)
    _raise_for(resp)
    info = resp.json()
    # A sharing that predates the binding tokenises with the first canonicaliser.
    network = int(info.get("canonical_version", 1))
    if network != CANONICAL_VERSION:
        raise IdentityRulesOutdated(CANONICAL_VERSION, network)
    return int(info["current_version"])


async def tokenise_identities(
    sharing: httpx.AsyncClient,
    identities: Sequence[tuple[str, str | None]],
    *,
    backoff: Backoff | None = None,
) -> list[list[IdentityToken]]:
    """Token lists of (name, dob) identities via sharing's blind evaluation.

    `sharing` is an authenticated client for the sharing service (scope reports:submit or
    watchlist:manage). Only blinded group elements are sent; the server answers evaluated
    elements that only this process can unblind. With `backoff`, outages and rate limits are
    waited out (`GaveUp` at the end of its budget); without, the first refusal raises.
    """
    if not identities:
        return []
    version = await current_prf_version(sharing, backoff)
    prepared = prepare(identities)
    evaluated: list[bytes] = []
    for batch in prepared.batches():
        body = {"version": version, "elements": oprf.encode_elements(batch)}
        resp = await _send(partial(sharing.post, "/v1/identity/evaluate", json=body), backoff)
        _raise_for(resp)
        evaluated += oprf.decode_elements(resp.json()["elements"])
    token_sets = prepared.finish(evaluated, version)
    return [
        [
            IdentityToken(kind=t.kind.value, version=t.key_version, value=b64u_encode(t.value))
            for t in sorted(tokens)
        ]
        for tokens in token_sets
    ]


async def _send(
    send: Callable[[], Awaitable[httpx.Response]], backoff: Backoff | None
) -> httpx.Response:
    return await (backoff.request(send) if backoff is not None else send())


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code >= 400:
        try:
            detail = str(resp.json().get("detail", ""))
        except ValueError:
            detail = ""
        raise Unavailable(f"identity evaluation failed ({resp.status_code}) {detail}".strip())
