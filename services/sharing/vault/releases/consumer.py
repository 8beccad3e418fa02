"""Sharing's side of release requests on the bus: the disclosure question and the requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from libs.common import rpc
from libs.common.consumer import Handler
from libs.common.contracts import DisclosureAnswer, DisclosureQuery
from libs.common.events import Envelope, NotYet, PermanentError
from libs.common.nats import ConsumerSpec
from libs.common.runtime import Runtime
from libs.common.subjects import DISCLOSURE_RPC
from libs.common.system import dead_letter_sink
from services.sharing.models import DEAD_LETTERS
from services.sharing.vault.consumer import received_backlog
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
    handler = requested_handler(releases, received_backlog(runtime))
    await runtime.consume(CONSUMER, handler, dead_letter_sink(runtime, DEAD_LETTERS))


def requested_handler(releases: Releases, backlog: Callable[[], Awaitable[int | None]]) -> Handler:
    """A request about a report not stored yet waits for it (`NotYet`) only while that report can
    still come: alerts asks after reading its `report.received`, so once this service's reader
    has acknowledged everything on its stream, a report still missing never will be (refused,
    dead-lettered) and the request is dead-lettered beside it, not retried for the stream's
    lifetime."""

    async def handle(event: Envelope) -> None:
        try:
            await releases.on_requested(event)
            return
        except NotYet:
            if await backlog() != 0:  # still on its way (or the backlog is unknown): wait
                raise
        # The reader acknowledges after its commit: this second read of the report is final.
        try:
            await releases.on_requested(event)
        except NotYet:
            raise PermanentError("report never stored") from None

    return handle
