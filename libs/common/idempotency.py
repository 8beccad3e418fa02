"""Idempotency keys on create operations (draft-ietf-httpapi-idempotency-key-header).

A key belongs to the authenticated client that sent it: its row is found by a digest of
(client, key), never by the key itself. The request's fingerprint is an HMAC of method, route and
body keyed by the idempotency key, so a seized table confirms no guessed body without the key.
The first answer (2xx only) is kept until the key expires and replayed for a retry; an error
created nothing, so its key is released and a retry is evaluated afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Table, Text, and_, case, null, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from libs.common.errors import Conflict, LifelineError
from libs.common.sql import for_update, insert_ignore

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
DEFAULT_TTL_S = 86_400
# An answer still "in progress" after this long belongs to a request whose process died.
STALE_AFTER_S = 300
_PRUNE_EVERY_S = 600
MIN_KEY_CHARS, MAX_KEY_CHARS = 16, 255
# An sf-string (RFC 8941 §3.3.3) as the draft asks; a bare token is accepted for plain clients.
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BARE = re.compile(r"[A-Za-z0-9._~:+/=-]+")


class MalformedIdempotencyKey(LifelineError):
    """The Idempotency-Key header is not a string of 16 to 255 printable characters (400)."""

    status = 400
    code = "malformed_idempotency_key"


class IdempotencyKeyReused(Conflict):
    """The key was used for a different request (method, route or body) of this client (409)."""

    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """The first request with this key is still running (409, retry after Retry-After)."""

    code = "idempotency_in_progress"

    def __init__(self) -> None:
        super().__init__("a request with this key is still running", headers={"Retry-After": "1"})


class IdempotencyReplayWithheld(Conflict):
    """The first answer held a one-time secret, which is never kept for a replay (409)."""

    code = "idempotency_replay_withheld"


def parse_key(value: str) -> str:
    """The key of an Idempotency-Key header value, or MalformedIdempotencyKey."""
    value = value.strip()
    quoted = _SF_STRING.fullmatch(value)
    if quoted:
        key = re.sub(r"\\(.)", r"\1", quoted.group(1))
    elif _BARE.fullmatch(value):
        key = value
    else:
        raise MalformedIdempotencyKey("Idempotency-Key must be a quoted string (an sf-string)")
    if not MIN_KEY_CHARS <= len(key) <= MAX_KEY_CHARS:
        raise MalformedIdempotencyKey(
            f"Idempotency-Key must hold {MIN_KEY_CHARS} to {MAX_KEY_CHARS} characters (a UUID)"
        )
    return key


def key_digest(client_id: str, key: str) -> str:
    """The row id of a client's key: the key itself is never stored."""
    return hashlib.sha256(client_id.encode() + b"\0" + key.encode()).hexdigest()


def fingerprint(key: str, method: str, route: str, body: bytes) -> str:
    """What makes two requests "the same": method, route template and body, keyed by the key."""
    message = method.upper().encode() + b"\0" + route.encode() + b"\0" + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class IdempotencyBase(SQLModel):
    """Columns of a service's idempotency-key table (one per service, in its own database)."""

    key_digest: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=64)
    fingerprint: str = Field(max_length=64)
    # None while the first request runs; then its status, and its body when replayable.
    status: int | None = None
    body: str | None = Field(default=None, sa_type=Text)
    replayable: bool = True
    started_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger, index=True)


@dataclass(frozen=True, slots=True)
class Replay:
    """A stored first answer to send again."""

    status: int
    body: bytes


class IdempotencyStore:
    """Claims, completes, releases and prunes keys in one service's table."""

    def __init__(self, table: Table, ttl_s: int = DEFAULT_TTL_S, clock: Clock = SYSTEM_CLOCK):
        self.table = table
        self.ttl_s = ttl_s
        self.clock = clock
        self._pruned_at = float("-inf")

    async def claim(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client_id: str,
        digest: str,
        print_: str,
        *,
        replayable: bool,
    ) -> Replay | None:
        """None when this request may run (the key is now its own), else the first answer."""
        now = int(self.clock.time())
        c = self.table.c
        async with transaction(sessions) as session:
            await self._prune(session, now)
            # An expired key, or one whose first request died mid-way, is free again.
            await session.execute(
                self.table.delete().where(
                    and_(
                        c.key_digest == digest,
                        (c.expires_at <= now)
                        | (c.status.is_(None) & (c.started_at <= now - STALE_AFTER_S)),
                    )
                )
            )
            row = {
                "key_digest": digest,
                "client_id": client_id,
                "fingerprint": print_,
                "status": None,
                "body": None,
                "replayable": replayable,
                "started_at": now,
                "expires_at": now + self.ttl_s,
            }
            if await insert_ignore(session, self.table, row):
                return None
            query = select(c.fingerprint, c.status, c.body, c.replayable).where(
                c.key_digest == digest
            )
            found = (await session.execute(for_update(session, query))).first()
        if found is None:  # released between the insert and the look-up: simply retry
            raise IdempotencyInProgress()
        return _earlier(found, print_)

    async def complete(
        self, sessions: async_sessionmaker[AsyncSession], digest: str, status: int, body: bytes
    ) -> None:
        """Keep the first answer (its body only when replayable) until the key expires."""
        c = self.table.c
        async with transaction(sessions) as session:
            await session.execute(
                self.table.update()
                .where(c.key_digest == digest)
                .values(
                    status=status,
                    body=_if_replayable(c.replayable, body.decode()),
                )
            )

    async def release(self, sessions: async_sessionmaker[AsyncSession], digest: str) -> None:
        """Forget a key whose request failed: nothing was created, so a retry runs again."""
        c = self.table.c
        async with transaction(sessions) as session:
            await session.execute(
                self.table.delete().where(and_(c.key_digest == digest, c.status.is_(None)))
            )

    async def _prune(self, session: AsyncSession, now: int) -> None:
        if now - self._pruned_at < _PRUNE_EVERY_S:
            return
        self._pruned_at = now
        await session.execute(self.table.delete().where(self.table.c.expires_at <= now))


def _if_replayable(replayable: Any, body: str) -> Any:
    return case((replayable.is_(True), body), else_=null())


def _earlier(found: Any, print_: str) -> Replay:
    if not hmac.compare_digest(found.fingerprint, print_):
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    if found.status is None:
        raise IdempotencyInProgress()
    if not found.replayable or found.body is None:
        raise IdempotencyReplayWithheld(
            "the first answer held a one-time secret that is not kept; look the resource up"
        )
    return Replay(int(found.status), found.body.encode())
