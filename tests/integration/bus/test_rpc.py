"""Requests between services: only a genuine answer of the answering service is believed."""

from __future__ import annotations

from pathlib import Path

import pytest

from libs.common import nats as natsx
from libs.common import rpc
from libs.common.provenance import EventSigner, EventVerifier
from libs.common.subjects import DISCLOSURE_RPC
from lifeline.bus import ensure_bus
from tests.support.natsd import NatsServer


@pytest.fixture
def files(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A bus PKI (CA, every producer's signing certificate); the server here is a plain one."""
    return ensure_bus(tmp_path / "bus", host="127.0.0.1", port=1, store_dir=tmp_path / "s",
                      server_name="t")  # fmt: skip


@pytest.mark.parametrize("answerer", ["sharing", "intake", None])
async def test_the_asker_believes_only_the_answering_service(
    nats_server: NatsServer,
    files,
    answerer: str | None,  # type: ignore[no-untyped-def]
) -> None:
    nc = await natsx.connect(nats_server.url, "rpc-test")
    try:
        signer = (
            None
            if answerer is None
            else EventSigner.load(files.event_key(answerer), files.event_cert(answerer))
        )

        async def answer(body: bytes) -> bytes:
            return b'{"visible": {"bar-1": ["narrative"]}}'

        sub = await rpc.serve(nc, DISCLOSURE_RPC, answer, signer=signer, queue="q")
        verifier = EventVerifier.load(files.ca)
        got = await rpc.ask(nc, DISCLOSURE_RPC, b"{}", timeout=2, verifier=verifier)
        # Signed by sharing (which answers this question): believed. Unsigned, or signed by a
        # service that may publish events but not answer this: as if nobody had answered.
        assert (got is not None) == (answerer == "sharing")
        assert verifier.rejected.total() == (0 if answerer == "sharing" else 1)
        await sub.unsubscribe()
        assert await rpc.ask(nc, DISCLOSURE_RPC, b"{}", timeout=0.5, verifier=verifier) is None
    finally:
        await nc.close()


async def test_a_failing_answerer_sends_nothing(nats_server: NatsServer) -> None:
    nc = await natsx.connect(nats_server.url, "rpc-test")
    try:

        async def broken(body: bytes) -> bytes:
            raise RuntimeError("database down")

        await rpc.serve(nc, DISCLOSURE_RPC, broken, signer=None, queue="q")
        assert await rpc.ask(nc, DISCLOSURE_RPC, b"{}", timeout=0.5, verifier=None) is None
    finally:
        await nc.close()
