"""One local HTTP server speaking the APIs of the chat, push and SMS channels, and a phone.

It plays signal-cli-rest-api (`POST /v2/send`), Telegram's bot API (`POST /bot{token}/
sendMessage`), an ntfy server (JSON publish to `POST /`, topics protected by access tokens)
and an SMS gateway in Sinch's batch shape (`POST /sms/batches`, bearer token), each checking
its request as the real one does and answering in its shape. A test scripts failures per API
(`fail`), and `press` plays the lawyer's phone: it performs an ntfy action's HTTP request.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.natsd import free_port
from tests.support.receivers import serve, unserve

BOT_TOKEN = "7351824690:AAHc-canary-bot-token-9Qx"
SMS_TOKEN = "sms-canary-gateway-token-4f1e"
SIGNAL_NUMBER = "+4915100000001"


@dataclass
class Sent:
    """One message an API took (or was asked to take)."""

    api: str  # signal | telegram | ntfy | sms
    to: str  # recipient number or username, chat id, topic
    text: str
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes
    at: float


@dataclass
class Failure:
    """A scripted answer instead of success."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # answer this late (a timeout, if longer than the sender waits)


@dataclass
class ChannelApis:
    """The four APIs on one port; `tls` = (certificate, key) serves https."""

    tls: tuple[Path, Path] | None = None
    port: int = field(default_factory=free_port)
    topic_tokens: dict[str, str] = field(default_factory=dict)  # protected topic → its token
    sent: list[Sent] = field(default_factory=list)  # taken (2xx)
    seen: list[Sent] = field(default_factory=list)  # every well-formed request
    _failures: dict[str, deque[Failure]] = field(default_factory=lambda: defaultdict(deque))
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The base URL (signal-cli's, the bot API's, the ntfy server's)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def sms_url(self) -> str:
        """The SMS gateway's batch endpoint."""
        return f"{self.url}/sms/batches"

    def fail(self, api: str, *answers: Failure) -> None:
        """Answer the next requests to `api` with these, in order, then succeed again."""
        self._failures[api].extend(answers)

    def to(self, api: str) -> list[Sent]:
        """What `api` took."""
        return [s for s in self.sent if s.api == api]

    async def _answer(self, sent: Sent, ok: Response) -> Response:
        self.seen.append(sent)
        queue = self._failures[sent.api]
        if queue:
            failure = queue.popleft()
            await asyncio.sleep(failure.delay)
            return JSONResponse(failure.body, failure.status, headers=failure.headers)
        self.sent.append(sent)
        return ok

    async def _signal(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        if not (isinstance(body.get("message"), str) and body.get("number") == SIGNAL_NUMBER):
            return JSONResponse({"error": "Couldn't process request - invalid request"}, 400)
        (recipient,) = body["recipients"]
        sent = Sent("signal", recipient, body["message"], body, dict(request.headers), raw, _now())
        return await self._answer(
            sent, JSONResponse({"timestamp": str(int(time.time() * 1000))}, 201)
        )

    async def _telegram(self, request: Request) -> Response:
        if request.path_params["token"] != BOT_TOKEN:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        raw = await request.body()
        body = json.loads(raw)
        if not body.get("text") or "chat_id" not in body:
            bad = {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
            return JSONResponse(bad, 400)
        to = str(body["chat_id"])
        sent = Sent("telegram", to, body["text"], body, dict(request.headers), raw, _now())
        ok = {"ok": True, "result": {"message_id": len(self.sent) + 1, "chat": {"id": to}}}
        return await self._answer(sent, JSONResponse(ok))

    async def _ntfy(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        topic = body.get("topic", "")
        needed = self.topic_tokens.get(topic)
        if needed is not None and request.headers.get("authorization") != f"Bearer {needed}":
            forbidden = {"code": 40301, "http": 403, "error": "forbidden"}
            return JSONResponse(forbidden, 403)
        sent = Sent(
            "ntfy", topic, body.get("message", ""), body, dict(request.headers), raw, _now()
        )
        event = {
            "id": uuid.uuid4().hex[:12],
            "time": int(time.time()),
            "event": "message",
            "topic": topic,
        }
        return await self._answer(sent, JSONResponse(event))

    async def _sms(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {SMS_TOKEN}":
            return JSONResponse({"code": "unauthorized", "text": "Unauthorized"}, 401)
        raw = await request.body()
        body = json.loads(raw)
        (to,) = body["to"]
        sent = Sent("sms", to, body["body"], body, dict(request.headers), raw, _now())
        batch = {"id": uuid.uuid4().hex, "to": [to], "from": body["from"], "body": body["body"]}
        return await self._answer(sent, JSONResponse(batch, 201))

    async def start(self) -> None:
        """Listen."""
        app = Starlette(
            routes=[
                Route("/v2/send", self._signal, methods=["POST"]),
                Route("/bot{token}/sendMessage", self._telegram, methods=["POST"]),
                Route("/sms/batches", self._sms, methods=["POST"]),
                Route("/", self._ntfy, methods=["POST"]),
            ]
        )
        self._server, self._task = await serve(app, self.port, self.tls)

    async def stop(self) -> None:
        """Stop listening."""
        await unserve(self._server, self._task)
        self._server = self._task = None

    async def __aenter__(self) -> ChannelApis:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


def _now() -> float:
    return time.monotonic()


async def press(push: Sent, label: str | None = None) -> httpx.Response:
    """The lawyer's phone performs an ntfy action of `push` (the first, or the one labelled)."""
    actions = [a for a in push.body.get("actions", []) if label in (None, a["label"])]
    action = actions[0]
    async with httpx.AsyncClient(timeout=10) as phone:
        if action["action"] == "view":
            return await phone.get(action["url"])
        # ntfy's http action: method (POST by default), headers and body as published.
        return await phone.request(
            action.get("method", "POST"),
            action["url"],
            headers=action.get("headers") or {},
            content=action.get("body", ""),
        )
