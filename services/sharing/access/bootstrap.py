"""The first administrator: a one-time secret in the data directory, and the bootstrap use case."""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.roles import Role
from libs.common.auth.scopes import Scope
from libs.common.errors import Conflict, LifelineError
from libs.common.secretfile import SecretFileError, create_private, read_private
from libs.common.sql import advisory_lock
from services.sharing.access import repository as repo
from services.sharing.access.changes import Changes
from services.sharing.access.domain import new_client_id, new_partner_id
from services.sharing.access.keys import parse_public_key, register_key
from services.sharing.access.rows import ClientRow, KeyRow, PartnerRow
from services.sharing.access.schemas import BootstrapRequest

log = logging.getLogger(__name__)

BOOTSTRAP_ACTOR = "bootstrap"
# Advisory-lock key serialising bootstraps on PostgreSQL (a fixed name every replica agrees on).
_LOCK = int.from_bytes(b"llbootst", "big", signed=True)


class BootstrapRefused(LifelineError):
    """The bootstrap secret is missing or wrong (401; the body never says which)."""

    status = 401
    code = "unauthenticated"


class BootstrapSecret:
    """A random secret in a 0600 file that only whoever can read sharing's data dir knows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> bool:
        """Write a fresh secret unless one is already waiting; True if this call wrote it."""
        # link()-based: replicas starting together offer one secret, never two different ones.
        # Never sealed: the operator's `lifeline admin init --data-dir` reads it, it opens
        # nothing but the first bootstrap, and it is deleted once an administrator exists.
        secret = (secrets.token_urlsafe(32) + "\n").encode()
        return create_private(self.path, secret, seal=False)

    def matches(self, candidate: str) -> bool:
        """True when `candidate` is the waiting secret (constant-time comparison)."""
        try:
            expected = read_private(self.path, seal=False).decode().strip()
        except (SecretFileError, OSError, UnicodeDecodeError):
            return False
        return bool(expected) and hmac.compare_digest(expected.encode(), candidate.strip().encode())

    def discard(self) -> None:
        """Remove the secret (used, or no longer needed)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


async def prepare_secret(
    sessions: async_sessionmaker[AsyncSession], secret: BootstrapSecret, changes: Changes
) -> None:
    """At start-up: offer a bootstrap secret while nobody can administer, else remove it."""
    async with sessions() as session:
        admins = await repo.usable_admin_count(session, changes.now())
    if admins:
        secret.discard()
    elif secret.ensure():
        log.warning("no administrator yet: run `lifeline admin init` (bootstrap secret written)")


class Bootstrapper:
    """Creates the operator organisation, its first admin client and that client's key."""

    def __init__(self, changes: Changes, secret: BootstrapSecret) -> None:
        self._changes = changes
        self._secret = secret

    async def bootstrap(self, request: BootstrapRequest) -> tuple[PartnerRow, ClientRow, KeyRow]:
        """Refused with 409 once an administrator exists, with 401 without the right secret."""
        public_key = parse_public_key(request.public_key)
        partner_id, client_id = new_partner_id(), new_client_id()
        async with self._changes.begin(BOOTSTRAP_ACTOR) as change:
            session = change.session
            # Two bootstraps at once must not both see "no administrator yet" (on SQLite the
            # transaction's write lock already keeps them apart).
            await advisory_lock(session, _LOCK)
            # Time is read once the lock is held: a loser that waited must not judge the
            # winner's fresh key by a `now` from before it was registered (it would see no admin).
            change.now = self._changes.now()
            await repo.insert_partner(
                session, id=partner_id, name=request.organisation, is_operator=True, now=change.now
            )
            if await repo.usable_admin_count(session, change.now):
                raise Conflict("an administrator already exists")
            if not self._secret.matches(request.secret):
                raise BootstrapRefused("bootstrap secret does not match")
            await repo.insert_client(
                session,
                id=client_id,
                partner_id=partner_id,
                name=request.client_name,
                role=Role.OPERATOR,
                scopes=frozenset({Scope.ADMIN.value}),
                now=change.now,
            )
            await change.audit(
                "partner.create", partner_id, name=request.organisation, operator=True
            )
            await change.audit(
                "client.create",
                client_id,
                partner_id=partner_id,
                name=request.client_name,
                role=Role.OPERATOR,
                scopes=[Scope.ADMIN.value],
            )
            key = await register_key(change, client_id, public_key, request.valid_days)
            partner = await repo.get_partner(session, partner_id)
            client = await repo.get_client(session, client_id)
        assert partner is not None and client is not None
        self._secret.discard()
        log.info("administrator bootstrapped", extra={"client_id": client_id})
        return partner, client, key
