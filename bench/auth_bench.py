"""p50/p99 of minting, cold and cached verification (and references), 1,000 calls each.

Run: .venv/bin/python bench/auth_bench.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import jwt

from libs.common.auth import (
    JwksCache,
    SigningKeyring,
    TokenVerifier,
    mint_access_token,
    verify_client_assertion,
)
from libs.sdk.auth import make_client_assertion
from libs.sdk.credentials import generate_private_key, key_id

N = 1_000
ISSUER = "https://sharing.lifeline.test"
ENDPOINT = f"{ISSUER}/oauth/token"


def _stats(name: str, samples_ns: list[int]) -> None:
    ordered = sorted(samples_ns)
    p50 = statistics.median(ordered) / 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] / 1000
    print(f"{name:<34} p50 {p50:8.1f} µs   p99 {p99:8.1f} µs")


def _time_sync(fn: Callable[[int], object]) -> list[int]:
    samples = []
    for i in range(N):
        start = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - start)
    return samples


async def _time_async(fn: Callable[[int], Awaitable[object]]) -> list[int]:
    samples = []
    for i in range(N):
        start = time.perf_counter_ns()
        await fn(i)
        samples.append(time.perf_counter_ns() - start)
    return samples


async def main() -> None:
    """Run every measurement once and print the table."""
    now = time.time()
    keyring = SigningKeyring.bootstrap(now)
    key = keyring.active()

    def mint(i: int) -> str:
        return mint_access_token(
            key.private_key,
            key.kid,
            issuer=ISSUER,
            subject="client-1",
            audiences=["lifeline-intake"],
            scopes=["reports:submit"],
            lifetime=600,
            now=now,
            org="org-a",
            role="submitter",
            client_kid="ck1",
        )

    async def fetch() -> dict[str, object]:
        return keyring.jwks()

    jwks = JwksCache({ISSUER: fetch})
    await jwks.refresh(ISSUER)
    verifier = TokenVerifier(audience="lifeline-intake", jwks=jwks, cache_size=10 * N)
    tokens = [mint(i) for i in range(N)]  # distinct jtis, so every cold call is a cache miss
    public = key.private_key.public_key()

    print(f"{N} calls each, Python {'.'.join(map(str, __import__('sys').version_info[:3]))}")
    _stats("mint_access_token", _time_sync(mint))
    _stats("verify, cold (full checks)", await _time_async(lambda i: verifier.verify(tokens[i])))
    _stats("verify, cached (same tokens)", await _time_async(lambda i: verifier.verify(tokens[i])))
    _stats(
        "ref: jwt.decode EdDSA (no checks)",
        _time_sync(
            lambda i: jwt.decode(
                tokens[i], public, algorithms=["EdDSA"], audience="lifeline-intake"
            )
        ),
    )
    signing_input, _, _ = tokens[0].rpartition(".")
    signature = jwt.utils.base64url_decode(tokens[0].rpartition(".")[2])
    _stats(
        "ref: raw Ed25519 verify",
        _time_sync(lambda i: public.verify(signature, signing_input.encode())),
    )
    client_key = generate_private_key()
    kid = key_id(client_key)
    assertions = [make_client_assertion(client_key, kid, "client-1", ENDPOINT) for _ in range(N)]
    client_public = client_key.public_key()
    _stats(
        "verify_client_assertion",
        _time_sync(
            lambda i: verify_client_assertion(
                assertions[i], ENDPOINT, lambda c, k: client_public, time.time()
            )
        ),
    )


if __name__ == "__main__":
    asyncio.run(main())
