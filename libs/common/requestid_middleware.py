"""The ASGI side of request ids: accept or make one per request, answer with it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.requestid import (
    HEADER,
    SCOPE_KEY,
    accepted_request_id,
    bind_request_id,
    unbind_request_id,
)


def request_id_of(scope: Scope) -> str | None:
    """The id this middleware gave the request of `scope`."""
    value = scope.get(SCOPE_KEY)
    return value if isinstance(value, str) else None


class RequestIdMiddleware:
    """Give each request an id, set it for the logs, and return it on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Accept or make the id, answer with it in `X-Request-ID`."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = accepted_request_id(given)
        scope[SCOPE_KEY] = rid
        header = (HEADER.lower().encode(), rid.encode())

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        token = bind_request_id(rid)
        try:
            await self.app(scope, receive, with_id)
        finally:
            unbind_request_id(token)
