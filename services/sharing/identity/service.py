"""OPRF evaluation: the durable quota, the blind evaluation and its audit entry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from libs.common.identity import oprf
from services.sharing.audit import repository as audit_log
from services.sharing.identity.keystore import PrfKeyStore
from services.sharing.identity.quota import PrfQuota, Window


@dataclass(frozen=True, slots=True)
class Evaluated:
    """The evaluated elements (base64url, in order) and the key version that evaluated them."""

    version: int
    elements: list[str]
    # The caller's quota windows after this call (for the RateLimit headers).
    windows: list[Window]


class PrfEvaluator:
    """Evaluates blinded identity keys with sharing's PRF key: under quota, audited by count."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keys: PrfKeyStore,
        quota: PrfQuota,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.quota = quota
        self.clock = clock

    def current_version(self) -> int:
        """The key version clients should tokenise with now."""
        current = self.keys.ring().current
        assert current is not None
        return current

    async def evaluate(
        self, principal: Principal, elements: list[str], version: int | None
    ) -> Evaluated:
        """Blind evaluation: the server never sees the keys, the client never holds the PRF key."""
        # Validated before charging: a malformed batch costs the caller nothing.
        decoded = oprf.decode_elements(elements)
        windows = await self.quota.charge(principal, len(decoded))
        ring = self.keys.ring()
        used = version or ring.current
        # Scalar multiplications release the GIL: a large batch runs off the event loop.
        evaluated = await asyncio.to_thread(ring.evaluate, decoded, used)
        await self._audit(principal, len(decoded), used)
        return Evaluated(used or 0, oprf.encode_elements(evaluated), windows)

    async def _audit(self, principal: Principal, count: int, version: int | None) -> None:
        # The count only: the blinded elements are never stored or logged.
        async with transaction(self.sessions) as session:
            await audit_log.append(
                session,
                actor=principal.client_id,
                action="identity.evaluate",
                target=f"prf:v{version}",
                details={"count": count, "partner": principal.partner_id},
                now=self.clock.now(),
            )
