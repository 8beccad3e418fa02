"""Sharing's side of release requests on the bus: the disclosure question and the requests."""

from __future__ import annotations

from pydantic import ValidationError

from libs.common import rpc
from libs.common.contracts import DisclosureAnswer, DisclosureQuery
from libs.common.nats import ConsumerSpec
from libs.common.runtime import Runtime
from libs.common.subjects import DISCLOSURE_RPC
from libs.common.system import dead_letter_sink
from services.sharing.models import DEAD_LETTERS
from services.sharing.vault.releases.service import Releases

CONSUMER = ConsumerSpec.granted("sharing", "sharing-releases")


async def serve_releases(runtime: Runtime, releases: Releases) -> None:
    """Answer alerts' disclosure questions and consume its release requests."""

    async def answer(body: bytes) -> bytes:
        try:
            query = DisclosureQuery.model_validate_json(body)
        except ValidationError:
            return DisclosureAnswer(visible={}).model_dump_json().encode()
        return (await releases.disclose(query)).model_dump_json().encode()

    assert runtime.nc is not None
    await rpc.serve(runtime.nc, DISCLOSURE_RPC, answer, signer=runtime.signer, queue="sharing")
    await runtime.consume(CONSUMER, releases.on_requested, dead_letter_sink(runtime, DEAD_LETTERS))
