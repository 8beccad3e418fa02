"""OPRF evaluation: the durable quota, the blind evaluation and its audit entry."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from libs.common.errors import Conflict, LifelineError, NotFound
from libs.common.identity import oprf
from services.sharing.audit import repository as audit_log
from services.sharing.identity.keystore import PrfKeyStore
from services.sharing.identity.metrics import IdentityMetrics
from services.sharing.identity.quota import PrfQuota, Window

log = logging.getLogger(__name__)


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
        metrics: IdentityMetrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.quota = quota
        self.clock = clock
        self.metrics = metrics or IdentityMetrics.detached()

    def current_version(self) -> int:
        """The key version clients should tokenise with now."""
        current = self.keys.ring().current
        assert current is not None
        return current

    def info(self) -> tuple[int, int]:
        """The current key version and the canonicaliser version it is bound to."""
        seeds = self.keys.seeds()
        return seeds.current, seeds.canonical

    def warn_if_outdated(self) -> bool:
        """At start: say loudly when this code canonicalises otherwise than the network."""
        version, bound = self.info()
        if bound == self.keys.code_canonical:
            return False
        # Not rotated here: a rotation makes every lawyer re-derive their watchlist, so it is
        # the operator's audited decision, taken once every client is upgraded.
        log.warning(
            "PRF key version %d is bound to canonicaliser version %d but this code has version "
            "%d: clients of version %d are refused until an operator runs "
            "`lifeline admin identity rotate` (docs/identity.md, Canonicaliser versions)",
            version, bound, self.keys.code_canonical, self.keys.code_canonical,
        )  # fmt: skip
        return True

    async def rotate(self, principal: Principal) -> dict[str, Any]:
        """A new current key version bound to this code's canonicaliser version; audited."""
        previous = self.current_version()
        version = await asyncio.to_thread(self.keys.rotate)
        await self._record(principal, "identity.prf_rotate", version)
        current, canonical = self.info()
        return {
            "current_version": current,
            "canonical_version": canonical,
            "previous_version": previous,
        }

    async def retire(self, principal: Principal, version: int) -> dict[str, Any]:
        """Destroy an old key version's seed (never the current one); audited."""
        try:
            await asyncio.to_thread(self.keys.retire, version)
        except LookupError:
            raise NotFound("no such PRF key version") from None
        except ValueError:
            raise Conflict("the current PRF key version cannot be retired; rotate first") from None
        await self._record(principal, "identity.prf_retire", version)
        return {"version": version, "state": "retired"}

    async def _record(self, principal: Principal, action: str, version: int) -> None:
        async with transaction(self.sessions) as session:
            await audit_log.append(
                session,
                actor=principal.client_id,
                action=action,
                target=f"prf:v{version}",
                details={"canonical_version": self.keys.code_canonical},
                now=self.clock.now(),
            )

    async def evaluate(
        self, principal: Principal, elements: list[str], version: int | None
    ) -> Evaluated:
        """Blind evaluation: the server never sees the keys, the client never holds the PRF key."""
        try:
            evaluated = await self._evaluate(principal, elements, version)
        except LifelineError:
            self.metrics.refused()
            raise
        self.metrics.evaluated(len(elements))
        return evaluated

    async def _evaluate(
        self, principal: Principal, elements: list[str], version: int | None
    ) -> Evaluated:
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
