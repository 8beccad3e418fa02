"""A service's seal on the HTTP side: the gate in front of every route, status and unseal routes.

While sealed only `/healthz`, `/readyz` (503, `sealed`) and the two routes here answer; every
other request gets 503 `{"code": "sealed"}` and nothing that needs a key has started. A seal
with a KMS-wrapped root key, in a service given a KMS token, unseals itself at start
(`kms.unseal_with_kms`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.common.auth.fastapi import PUBLIC
from libs.common.problems import problems
from libs.common.runtime import Runtime
from libs.common.seal import root as seal_root
from libs.common.seal import sealfile
from libs.common.seal.domain import STATUS_PATH, UNSEAL_PATH
from libs.common.seal.kms import unseal_with_kms
from libs.common.seal.service import Sealed, SealStatus, Unsealer, UnsealRefused
from libs.common.settings import ServiceSettings
from libs.common.web import ReadinessCheck, error_response

log = logging.getLogger(__name__)

_OPEN_WHILE_SEALED = frozenset({"/healthz", "/readyz", STATUS_PATH, UNSEAL_PATH})


class UnsealRequest(BaseModel):
    """One of: the passphrase, one share, or `reset` to forget the shares given so far."""

    model_config = ConfigDict(extra="forbid")

    passphrase: str | None = Field(default=None, min_length=1, max_length=1024)
    share: str | None = Field(default=None, min_length=1, max_length=2048)
    reset: bool = False

    @model_validator(mode="after")
    def _one(self) -> UnsealRequest:
        if sum((self.passphrase is not None, self.share is not None, self.reset)) != 1:
            raise ValueError("give exactly one of passphrase, share, reset")
        return self


class SealGate:
    """Whether this process is sealed, and what to start once it is not."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.unsealer: Unsealer | None = None

    @property
    def sealed(self) -> bool:
        """True until the root key is in hand (never, for a data directory without a seal)."""
        return self.unsealer is not None and not self.unsealer.unsealed.is_set()

    def open(self) -> None:
        """Read the seal file; in development mode unseal at once from the root key beside it."""
        path = self.settings.resolved_seal_file()
        document = sealfile.load(path)
        if document is None:
            if self.settings.require_seal:
                raise sealfile.SealFileError(
                    f"no seal file at {path}: run `lifeline seal init` (require_seal is set)"
                )
            return
        self.unsealer = Unsealer(document)
        if document.dev:
            self.unsealer.accept_root(sealfile.read_dev_root(path))
            log.warning("development mode: the root key is kept beside the data, unsealed")

    async def run(self, runtime: Runtime, begin: Callable[[], Awaitable[None]]) -> None:
        """Run `begin` (build and start what needs keys) now, or once unsealed."""
        if self.unsealer is None or not self.sealed:
            await begin()
            return
        unsealed = self.unsealer.unsealed

        async def later() -> None:
            await unsealed.wait()
            await begin()

        log.info("sealed: waiting to be unsealed")
        runtime.spawn(later(), "unseal-wait")
        if self.unsealer.document.kms and self.settings.seal_kms_token_file:
            runtime.spawn(unseal_with_kms(self.unsealer, self.settings), "kms-unseal")
        elif self.unsealer.document.kms:
            log.info("the seal offers the KMS method, but no KMS token file is configured")

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        """`seal: sealed` while sealed."""

        async def seal() -> str | None:
            return "sealed" if self.sealed else None

        return {"seal": seal}

    def status(self) -> SealStatus:
        """The seal status (a data directory without a seal is never sealed)."""
        if self.unsealer is None:
            return SealStatus(False, [], 0, 0)
        return self.unsealer.status()

    async def unseal(self, request: UnsealRequest) -> SealStatus:
        """Apply one unseal request."""
        if self.unsealer is None:
            raise UnsealRefused("this service's data directory is not sealed")
        if request.reset:
            return self.unsealer.reset()
        if request.passphrase is not None:
            return await self.unsealer.with_passphrase(request.passphrase)
        assert request.share is not None
        return await self.unsealer.with_share(request.share)

    def close(self) -> None:
        """Forget the root key at shutdown."""
        if self.unsealer is not None:
            seal_root.forget()


class SealedMiddleware:
    """Answers 503 `sealed` to everything but health and the seal routes while sealed."""

    def __init__(self, app: ASGIApp, gate: SealGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through unless sealed."""
        if scope["type"] == "http" and self.gate.sealed and scope["path"] not in _OPEN_WHILE_SEALED:
            await error_response(Sealed())(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_seal(app: FastAPI, settings: ServiceSettings) -> SealGate:
    """Put the gate in front of `app` and mount the seal routes; `.open()` it in the lifespan."""
    gate = SealGate(settings)
    app.add_middleware(SealedMiddleware, gate=gate)
    router = APIRouter(tags=["seal"], dependencies=[Depends(PUBLIC)])

    @router.get(STATUS_PATH, summary="Sealed or not, and the unseal progress.")
    async def seal_status() -> dict[str, Any]:
        """`{"sealed", "methods", "threshold", "progress"}`."""
        return gate.status().body()

    @router.post(
        UNSEAL_PATH,
        summary="Unseal with the passphrase or one share at a time.",
        responses={
            400: {"description": "wrong passphrase or share; still sealed"},
            **problems(429),
        },
    )
    async def unseal(body: UnsealRequest) -> dict[str, Any]:
        """Answers the seal status; 400 `unseal_refused` (still sealed), 429 when throttled."""
        return (await gate.unseal(body)).body()

    app.include_router(router)
    return gate
