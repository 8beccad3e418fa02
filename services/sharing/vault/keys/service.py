"""Administering the vault's keys: KEK rotate/rewrap/retire, intake-sealing key rotate/retire."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.hpke_keys import HpkeSuite
from libs.common.crypto.kek import KekProvider, KekState
from libs.common.db import transaction
from libs.common.errors import Conflict, NotFound, Unavailable
from services.sharing.audit import repository as audit_log
from services.sharing.vault.keys import repository as krepo
from services.sharing.vault.keys.keystore import RETIRING, HpkeKeyStore
from services.sharing.vault.keys.rewrap import run_rewrap

# How many received reports the vault's consumer has not acknowledged yet (None: unknown).
PendingCount = Callable[[], Awaitable[int | None]]


class VaultKeyAdmin:
    """Key operations of the admin API; each one is audited."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        provider: KekProvider,
        sealing: HpkeKeyStore,
        *,
        pending: PendingCount,
        sealing_retire_grace_s: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
        self.sealing = sealing
        self.pending = pending
        self.grace_s = sealing_retire_grace_s
        self.clock = clock

    async def _audit(self, actor: str, action: str, target: str, **details: Any) -> None:
        for attempt in range(3):
            try:
                async with transaction(self.sessions) as session:
                    await audit_log.append(
                        session,
                        actor=actor,
                        action=action,
                        target=target,
                        details=details,
                        now=self.clock.now(),
                    )
                return
            except OperationalError:
                # The database stayed busy past its timeout (SQLite: another process, such as
                # the rewrap job, writing) or the connection dropped: nothing was written.
                if attempt == 2:
                    raise

    async def status(self) -> dict[str, Any]:
        """KEK versions with how many data keys each wraps; sealing keys with their last use."""
        async with self.sessions() as session:
            usage = await krepo.kek_usage(session)
            seen = await krepo.sealing_key_last_seen(session)
        kek = [
            {
                "version": v.version,
                "state": v.state.value,
                "primary": v.primary,
                "created_at": v.created_at,
                "data_keys": usage.get(v.version, 0),
            }
            for v in self.provider.versions()
        ]
        sealing = []
        for key in self.sealing.held():
            view: dict[str, Any] = key.public_view() | {"created_at": key.created_at}
            last = seen.get(view["kid"])
            view["last_report_at"] = None if last is None else last.isoformat()
            sealing.append(view)
        return {"kek": kek, "sealing": sealing}

    async def rotate_kek(self, actor: str, *, promote: bool = True) -> dict[str, Any]:
        """Stage a new KEK version and (by default) make it the primary at once."""
        version = await asyncio.to_thread(self.provider.stage)
        if promote:
            await asyncio.to_thread(self.provider.promote, version)
        await self._audit(actor, "kek.rotate", f"kek:v{version}", promoted=promote)
        return {"version": version, "promoted": promote}

    async def promote_kek(self, actor: str, version: int) -> dict[str, Any]:
        """Make a staged version the primary; 404 for an unknown one, 409 for a retired one."""
        info = {v.version: v for v in self.provider.versions()}
        if version not in info:
            raise NotFound("no such KEK version")
        if info[version].state is KekState.RETIRED:
            raise Conflict("a retired KEK version cannot be promoted: its material is gone")
        await asyncio.to_thread(self.provider.promote, version)
        await self._audit(actor, "kek.promote", f"kek:v{version}")
        return {"version": version, "promoted": True}

    async def rewrap(self, actor: str, *, batch: int, budget_s: float) -> dict[str, Any]:
        """Run the rewrap job for up to `budget_s`; call again while `remaining` > 0."""
        progress = await run_rewrap(
            self.sessions, self.provider, batch=batch, budget_s=budget_s, clock=self.clock
        )
        async with self.sessions() as session:
            usage = await krepo.kek_usage(session)
        primary = next(v.version for v in self.provider.versions() if v.primary)
        remaining = sum(n for v, n in usage.items() if v != primary)
        if progress.rewrapped or progress.failed:
            await self._audit(
                actor,
                "kek.rewrap",
                f"kek:v{primary}",
                rewrapped=progress.rewrapped,
                failed=progress.failed,
            )
        return {
            "primary": primary,
            "rewrapped": progress.rewrapped,
            "failed": progress.failed,
            "remaining": remaining,
        }

    async def retire_kek(self, actor: str, version: int) -> dict[str, Any]:
        """Destroy an old KEK version; refused while any data key is still wrapped under it."""
        info = {v.version: v for v in self.provider.versions()}
        if version not in info:
            raise NotFound("no such KEK version")
        if info[version].primary:
            raise Conflict("the primary KEK version cannot be retired: rotate first")
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            # Exclusive against stores and the rewrap job: nothing is wrapped under `version`
            # between the count and the retire (they re-check the version after this commits).
            await krepo.kek_guard(session, exclusive=True)
            left = (await krepo.kek_usage(session)).get(version, 0)
            if left:
                raise Conflict(
                    f"{left} data keys are still wrapped under KEK version {version}: "
                    "run the rewrap job first"
                )
            await asyncio.to_thread(self.provider.retire, version)
            await audit_log.append(
                session,
                actor=actor,
                action="kek.retire",
                target=f"kek:v{version}",
                details={},
                now=now,
            )
        return {"version": version, "state": "retired"}

    async def rotate_sealing(self, actor: str, suite: HpkeSuite) -> dict[str, Any]:
        """A new active intake-sealing key; the old one keeps opening what was sealed to it."""
        fresh = await asyncio.to_thread(self.sealing.rotate, suite)
        view = fresh.public_view()
        await self._audit(actor, "sealing_key.rotate", view["kid"], suite=suite.label)
        return view

    async def retire_sealing(self, actor: str, kid: str) -> dict[str, Any]:
        """Forget an old sealing key once nothing sealed to it can still arrive."""
        key = next((k for k in self.sealing.held() if k.kid == kid), None)
        if key is None:
            raise NotFound("no such sealing key")
        if key.state != RETIRING:
            raise Conflict("the active sealing key cannot be retired: rotate first")
        since = datetime.fromisoformat(self.sealing.active().created_at)
        waited = (self.clock.now() - since).total_seconds()
        if waited < self.grace_s:
            # Intake caches the public key and its outbox may still hold reports sealed to the
            # old one; they arrive within the grace period (or after NATS comes back).
            raise Conflict(
                f"the key was replaced {int(waited)} s ago; retire it after "
                f"{int(self.grace_s)} s, once intake can no longer seal to it"
            )
        async with self.sessions() as session:
            last = (await krepo.sealing_key_last_seen(session)).get(kid)
        quiet = None if last is None else (self.clock.now() - last).total_seconds()
        if quiet is not None and quiet < self.grace_s:
            # Reports still arrive sealed to it: some intake has not pinned the new key, and
            # whatever it seals after the retirement could never be opened.
            raise Conflict(
                f"a report sealed to this key arrived {int(quiet)} s ago: pin the new key in "
                f"every intake, then retire it after {int(self.grace_s)} s without one"
            )
        pending = await self.pending()
        if pending is None:
            raise Unavailable("cannot tell whether received reports are still unconsumed")
        if pending:
            raise Conflict(f"{pending} received reports are not stored yet: retry later")
        await asyncio.to_thread(self.sealing.retire, kid)
        await self._audit(actor, "sealing_key.retire", kid)
        return {"kid": kid, "state": "retired"}
