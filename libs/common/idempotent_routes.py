"""Idempotency-Key on FastAPI routes: a dependency claims the key, a middleware keeps the answer.

A create route takes `Annotated[None, idempotent(Caller)]` beside its caller: after the caller is
authenticated the dependency claims the key (or answers the first answer again, with
`Idempotent-Replayed: true`); the middleware then stores the route's 2xx answer before the client
sees it, or releases the key when the route refused or failed.
"""

# No `from __future__ import annotations`: FastAPI reads the dependency's annotations at runtime.

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.idempotency import (
    DEFAULT_TTL_S,
    HEADER,
    REPLAYED_HEADER,
    IdempotencyStore,
    Replay,
    fingerprint,
    key_digest,
    parse_key,
)

log = logging.getLogger(__name__)

_TICKET = "lifeline_idempotency"
_KEY_DESCRIPTION = (
    "A unique string per operation (a UUID, 16 to 255 characters), sent again unchanged on a retry:"
    " the retry gets the first answer back instead of creating twice. Kept for 24 hours."
)


class Replayed(Exception):
    """The first answer of this key, to send again instead of running the route."""

    def __init__(self, replay: Replay) -> None:
        super().__init__("replayed")
        self.replay = replay


@dataclass(frozen=True, slots=True)
class _Ticket:
    store: IdempotencyStore
    sessions: Any
    digest: str


def idempotent(caller: Any, *, secret: bool = False) -> Any:
    """A dependency honouring Idempotency-Key for `caller` (an `Annotated` principal alias).

    `secret`: the answer holds a one-time secret, so only that the key was used is kept; a
    retry gets 409 `idempotency_replay_withheld` and never a second secret.
    """

    async def claim(
        request: Request,
        principal: caller,
        key: Annotated[str | None, Header(alias=HEADER, description=_KEY_DESCRIPTION)] = None,
    ) -> None:
        if key is None:
            return
        parsed = parse_key(key)
        store: IdempotencyStore = request.app.state.idempotency
        sessions = request.app.state.container.runtime.sessions
        client = principal.client_id
        route = str(getattr(request.scope.get("route"), "path", request.url.path))
        digest = key_digest(client, parsed)
        print_ = fingerprint(parsed, request.method, route, await request.body())
        replay = await store.claim(sessions, client, digest, print_, replayable=not secret)
        if replay is not None:
            raise Replayed(replay)
        setattr(request.state, _TICKET, _Ticket(store, sessions, digest))

    return Depends(claim)


def install_idempotency(
    app: FastAPI, *, ttl_s: int = DEFAULT_TTL_S, table: Any, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Give `app` its key table, the replay handler and the middleware that keeps answers."""
    app.state.idempotency = IdempotencyStore(table, ttl_s, clock)

    @app.exception_handler(Replayed)
    async def _replay(_: Request, exc: Replayed) -> Response:
        return Response(
            exc.replay.body,
            status_code=exc.replay.status,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )

    app.add_middleware(IdempotencyMiddleware)


class IdempotencyMiddleware:
    """Stores a claimed key's 2xx answer before sending it; releases the key otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold back a claimed request's answer until it is stored."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        held: list[Message] = []
        body = bytearray()
        done = False

        async def keeping_send(message: Message) -> None:
            nonlocal done
            ticket: _Ticket | None = state.get(_TICKET)
            if ticket is None or done:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
            else:
                return
            done = True
            status = int(held[0]["status"])
            state.pop(_TICKET, None)
            try:
                if 200 <= status < 300:
                    await ticket.store.complete(ticket.sessions, ticket.digest, status, bytes(body))
                else:
                    await ticket.store.release(ticket.sessions, ticket.digest)
            except Exception as exc:
                # What was created stays created: the client still gets its answer, and the
                # key, left "in progress", frees itself after STALE_AFTER_S.
                log.warning("idempotency key not recorded", extra={"reason": type(exc).__name__})
            for item in held:
                await send(item)

        try:
            await self.app(scope, receive, keeping_send)
        finally:
            ticket = state.pop(_TICKET, None)
            if ticket is not None:  # the route raised past every handler: nothing was kept
                await ticket.store.release(ticket.sessions, ticket.digest)
