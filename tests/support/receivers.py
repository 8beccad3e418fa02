"""Real receivers for alert deliveries: a webhook server verifying with `standardwebhooks`, SMTP."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.natsd import free_port


@dataclass
class Hit:
    """One verified webhook request."""

    webhook_id: str
    payload: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """A lawyer's webhook endpoint: verifies every request with the standardwebhooks library."""

    secret: str = ""
    port: int = field(default_factory=free_port)
    # What to answer: a status code, or a callable deciding per request.
    answer: Callable[[Hit], Any] | int = 200
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    hits: list[Hit] = field(default_factory=list)  # answered 2xx
    seen: list[Hit] = field(default_factory=list)  # every verified request
    rejected: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Where the lawyer registers this endpoint."""
        return f"http://127.0.0.1:{self.port}/hook"

    def unique(self) -> dict[str, Hit]:
        """Hits deduplicated on webhook-id, as a receiver should."""
        return {h.webhook_id: h for h in self.hits}

    def alerts(self, kind: str | None = None) -> list[Hit]:
        """Verified hits with a payload type (alert.created, alert.escalated, …)."""
        return [h for h in self.hits if kind is None or h.payload["type"] == kind]

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        try:
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.rejected += 1
            return Response(status_code=400)
        if self.latency:
            await asyncio.sleep(self.latency)  # a slow network: the page lands later
        hit = Hit(request.headers["webhook-id"], payload, time.monotonic())
        self.seen.append(hit)
        answer = self.answer(hit) if callable(self.answer) else self.answer
        status = await answer if asyncio.iscoroutine(answer) else answer
        if 200 <= status < 300:
            self.hits.append(hit)
        return Response(status_code=status, headers=self.headers)

    async def start(self) -> None:
        """Listen (again, on the same port)."""
        app = Starlette(routes=[Route("/hook", self._handle, methods=["POST"])])
        self._server, self._task = await serve(app, self.port)

    async def stop(self) -> None:
        """Stop listening: senders get connection refused."""
        await unserve(self._server, self._task)
        self._server = self._task = None


async def serve(
    app: Starlette, port: int, tls: tuple[Path, Path] | None = None
) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """Serve `app` on 127.0.0.1:`port` (over TLS with `(certificate, key)`), once listening."""
    files = {} if tls is None else {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **files)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: say why
        await asyncio.sleep(0.01)
    return server, task


async def unserve(server: uvicorn.Server | None, task: asyncio.Task[None] | None) -> None:
    """Stop what `serve` started (if it runs)."""
    if server is not None and task is not None:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@asynccontextmanager
async def receiver(secret: str = "", **kwargs: Any) -> AsyncIterator[Receiver]:
    """A running receiver."""
    r = Receiver(secret=secret, **kwargs)
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


class Mailbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rcpt_answer = "250 OK"  # e.g. "550 5.1.1 no such user" to refuse every recipient

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_answer

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        """Messages addressed to `address`."""
        return [m for m in self.messages if m["To"] == address]


@asynccontextmanager
async def smtp_server(
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    login: tuple[str, str] | None = None,
) -> AsyncIterator[tuple[Mailbox, int]]:
    """A real SMTP server on a random port: plaintext, STARTTLS (then required before MAIL) or
    implicit TLS; with `login`, AUTH (over TLS only) with that user and password is required."""
    box, port = Mailbox(), free_port()
    options: dict[str, Any] = {}
    if starttls is not None:
        options = {"tls_context": starttls, "require_starttls": True}
    if implicit_tls is not None:
        options = {"ssl_context": implicit_tls}
    if login is not None:
        expected = LoginPassword(login[0].encode(), login[1].encode())

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            return AuthResult(success=data == expected, handled=False)  # answered 535

        options |= {"authenticator": authenticator, "auth_required": True}
    controller = Controller(box, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


async def until(predicate: Callable[[], Any], timeout: float = 10.0, step: float = 0.05) -> Any:
    """Poll a (sync or async) predicate until truthy; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(step)
