"""Enrolment use cases: issue and cancel codes, enrol a device key, confirm its fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.jwk import ed25519_fingerprint, stored_public_key
from libs.common.clock import Clock
from libs.common.errors import Conflict, LifelineError, NotFound
from libs.common.ratelimit import RateLimiter
from services.sharing.access import repository as access_repo
from services.sharing.access.changes import Changes
from services.sharing.access.domain import (
    DEFAULT_KEY_VALIDITY_DAYS,
    ClientStatus,
    KeyStatus,
    PartnerStatus,
)
from services.sharing.access.enrolment import repository as repo
from services.sharing.access.enrolment.domain import (
    EnrolmentStatus,
    code_hash,
    enrol_link,
    new_code,
    new_enrolment_id,
    same_fingerprint,
)
from services.sharing.access.enrolment.repository import EnrolmentRow
from services.sharing.access.keys import key_in, parse_public_key, register_key, revoke_in
from services.sharing.access.rows import KeyRow
from services.sharing.access.service import client_of


class EnrolmentRefused(LifelineError):
    """The one answer to any code that cannot enrol: unknown, used, expired, cancelled, seized."""

    status = 401
    code = "invalid_enrolment_code"


@dataclass(frozen=True, slots=True)
class Issued:
    """A new enrolment and its code (returned once, never stored)."""

    enrolment: EnrolmentRow
    code: str
    link: str


class Enrolments:
    """Enrolment codes, as the admin API and the public enrol route use them."""

    def __init__(
        self,
        changes: Changes,
        *,
        public_url: str,
        ttl_s: float,
        confirm_within_s: float,
        source_limits: RateLimiter,
        clock: Clock,
    ) -> None:
        self.changes = changes
        self.sessions = changes.sessions
        self.public_url = public_url
        self.ttl = timedelta(seconds=ttl_s)
        self.confirm_within = timedelta(seconds=confirm_within_s)
        self.sources = source_limits
        self.clock = clock

    def now(self) -> datetime:
        """The registry's clock."""
        return self.changes.now()

    def check_source(self, source: str) -> None:
        """429 when this address has tried too many codes (floods; guessing is hopeless)."""
        self.sources.check(source, self.clock.monotonic())

    async def create(self, actor: str, client_id: str, *, within: str | None) -> Issued:
        """A one-time code for an active client of an active partner."""
        code = new_code()
        async with self.changes.begin(actor) as change:
            client = await client_of(change.session, client_id, within)
            partner = await access_repo.get_partner(change.session, client.partner_id)
            if (
                client.status != ClientStatus.ACTIVE
                or partner is None
                or (partner.status != PartnerStatus.ACTIVE)
            ):
                raise Conflict("the client or its partner is not active")
            enrolment_id = new_enrolment_id()
            expires = change.now + self.ttl
            await repo.insert(
                change.session,
                {
                    "id": enrolment_id,
                    "client_id": client_id,
                    "code_hash": code_hash(code),
                    "status": EnrolmentStatus.OPEN,
                    "created_at": change.now,
                    "created_by": actor,
                    "expires_at": expires,
                },
            )
            # The code is a credential: the audit entry names the enrolment, never the code.
            await change.audit(
                "enrolment.create", enrolment_id, client_id=client_id, expires_at=_iso(expires)
            )
            row = await repo.get(change.session, enrolment_id)
        assert row is not None  # written in this very transaction
        return Issued(row, code, enrol_link(self.public_url, code))

    async def listing(
        self,
        client_id: str,
        *,
        within: str | None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[EnrolmentRow]:
        """A client's enrolments, newest first (404 if not the caller's client)."""
        async with self.sessions() as session:
            await client_of(session, client_id, within)
            return await repo.listing(session, client_id, after, limit)

    async def cancel(
        self, actor: str, client_id: str, enrolment_id: str, *, within: str | None
    ) -> EnrolmentRow:
        """Cancel an open code (a used or cancelled one stays as it is)."""
        async with self.changes.begin(actor) as change:
            await client_of(change.session, client_id, within)
            row = await repo.get(change.session, enrolment_id)
            if row is None or row.client_id != client_id:
                raise NotFound("no such enrolment")
            if await repo.cancel(change.session, enrolment_id, change.now):
                await change.audit("enrolment.cancel", enrolment_id, client_id=client_id)
            found = await repo.get(change.session, enrolment_id)
        assert found is not None
        return found

    async def enrol(self, code: str, public_key: str | dict[str, Any], device_name: str) -> KeyRow:
        """Register a device's key as pending with a code; the code is spent with it."""
        # The key is checked first: a typo in it does not cost the user the code.
        key = parse_public_key(public_key)
        async with self.changes.begin("enrolment") as change:
            used = await repo.spend(change.session, code_hash(code), change.now)
            if used is None:
                raise EnrolmentRefused("the enrolment code is not valid")
            # The client enrols its own device: the audit log names it as the actor.
            change.actor = used.client_id
            if not await access_repo.is_active_client(change.session, used.client_id):
                # Revoked, seized or disabled since the code was made: the same answer, and
                # the rollback leaves the code as it was (a seizure has cancelled it anyway).
                raise EnrolmentRefused("the enrolment code is not valid")
            row = await register_key(
                change,
                used.client_id,
                key,
                DEFAULT_KEY_VALIDITY_DAYS,
                pending=True,
                device_name=device_name,
            )
            await repo.record_kid(change.session, used.id, row.kid)
            await change.audit("enrolment.use", used.id, client_id=used.client_id, kid=row.kid)
            return row

    async def check_confirmable(
        self, actor: str, kid: str, fingerprint: str, *, within: str | None
    ) -> KeyRow:
        """The pending key if `fingerprint` is its own; on a mismatch it is revoked, then 409."""
        async with self.changes.begin(actor) as change:
            key = await _pending(change.session, kid, within)
            stale = change.now - key.created_at > self.confirm_within
            matches = not stale and same_fingerprint(fingerprint, _fingerprint(key))
            if not matches:
                # Someone else's key came in with the code (or the wrong device): it dies now.
                await revoke_in(change, kid)
                await change.audit("key.confirm_refused", kid, client_id=key.client_id, stale=stale)
        if stale:
            # A key left pending for long is nobody's device any more: it is not confirmed late.
            raise Conflict("the key waited too long for confirmation; it was revoked, enrol again")
        if not matches:
            raise Conflict("the fingerprint does not match; the key was revoked, enrol again")
        return key

    async def confirm(
        self, actor: str, kid: str, fingerprint: str, *, within: str | None
    ) -> KeyRow:
        """Activate a pending key whose fingerprint the admin read off the device."""
        await self.check_confirmable(actor, kid, fingerprint, within=within)
        async with self.changes.begin(actor) as change:
            key = await _pending(change.session, kid, within)
            if not await access_repo.is_active_client(change.session, key.client_id):
                raise Conflict("the client or its partner is not active")
            await repo.activate_key(change.session, kid)
            await change.audit("key.confirm", kid, client_id=key.client_id)
            return await key_in(change.session, kid)


async def _pending(session: AsyncSession, kid: str, within: str | None) -> KeyRow:
    key = await key_in(session, kid, within)
    if key.status != KeyStatus.PENDING:
        raise Conflict("this key is not awaiting confirmation")
    return key


def _fingerprint(key: KeyRow) -> str:
    return ed25519_fingerprint(stored_public_key(key.public_jwk))


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
