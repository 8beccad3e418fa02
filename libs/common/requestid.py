"""Request ids: one per HTTP request, taken from `X-Request-ID` when safe, in logs and errors.

Pure (no web imports): errors and logging read the current id; `requestid_middleware.py` sets it.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
# Where the id also sits in the ASGI scope: the 500 handler runs outside this middleware's
# context (Starlette's ServerErrorMiddleware wraps it) and reads it from there.
SCOPE_KEY = "lifeline.request_id"
# A caller's id is kept only if it is a short token that cannot forge a log line or carry data.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_current: ContextVar[str | None] = ContextVar("lifeline_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this context, if any."""
    return _current.get()


def new_request_id() -> str:
    """A fresh random id (16 hex digits)."""
    return secrets.token_hex(8)


def accepted_request_id(given: str | None) -> str:
    """The caller's id if it is a short safe token, else a fresh one."""
    if given is not None and _SAFE.fullmatch(given):
        return given
    return new_request_id()


def bind_request_id(rid: str) -> Token[str | None]:
    """Make `rid` the current request's id; `unbind_request_id` with the token undoes it."""
    return _current.set(rid)


def unbind_request_id(token: Token[str | None]) -> None:
    """Undo a `bind_request_id`."""
    _current.reset(token)
