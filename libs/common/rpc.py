"""Core NATS request/reply between services: one subject per question, signed answers.

For a question whose answer is needed now and is worth nothing later (no stream keeps it):
the bus's permissions say who may ask (`BusRole.asks`) and who may answer (`answers`, one reply
per request received). Where the bus is authenticated the answer is signed like an event, over
the request's subject, and the asker checks it before believing it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from libs.common.provenance import EventRejected, EventSigner, EventVerifier

log = logging.getLogger(__name__)
Answerer = Callable[[bytes], Awaitable[bytes]]


async def serve(
    nc: Client, subject: str, answer: Answerer, *, signer: EventSigner | None, queue: str
) -> Subscription:
    """Answer every request on `subject` (replicas share the load as one queue group)."""

    async def on_request(msg: Msg) -> None:
        try:
            body = await answer(msg.data)
        except Exception as exc:
            # No answer is an answer too: the asker times out and takes its safe default.
            log.warning(
                "request not answered", extra={"subject": subject, "reason": type(exc).__name__}
            )
            return
        headers = signer.headers(subject, body) if signer is not None else None
        try:
            await nc.publish(msg.reply, body, headers=headers)
        except NatsError as exc:
            log.warning("answer not sent", extra={"subject": subject, "reason": type(exc).__name__})

    return await nc.subscribe(subject, queue=queue, cb=on_request)


async def ask(
    nc: Client | None,
    subject: str,
    body: bytes,
    *,
    timeout: float,
    verifier: EventVerifier | None,
) -> bytes | None:
    """The answer to one request, or None (no bus, no answer in time, or not genuine)."""
    if nc is None or not nc.is_connected:
        return None
    try:
        reply = await nc.request(subject, body, timeout=timeout)
    except (NatsError, TimeoutError) as exc:
        log.warning("request unanswered", extra={"subject": subject, "reason": type(exc).__name__})
        return None
    if verifier is not None:
        try:
            verifier.verify(subject, reply.data, reply.headers, answer=True)
        except EventRejected as exc:
            verifier.refuse(exc.code, subject=subject, consumer="rpc")
            return None
    return reply.data
