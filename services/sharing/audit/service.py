"""Reading the audit log: pages, the hash chain recomputed, signed checkpoints and proofs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.audit import ChainResult, verify_chain
from libs.common.auth.checkpoint import Checkpoint, audit_leaves, sign_checkpoint
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.merkle import consistency_proof, root_hash
from libs.common.crypto.signing_file import SigningKeyFile, public_key_info
from libs.common.errors import Conflict, InvalidInput
from services.sharing.audit import repository

# The audit key's own file format: a delivery-signing file put in its place does not load.
CHECKPOINT_KEY_FORMAT = "lifeline-audit-signing/v1"


class AuditLog:
    """The hash-chained audit log, as the admin API and the witnesses read it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signer: SigningKeyFile,
        *,
        origin: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self.origin = origin
        self.clock = clock

    async def page(
        self,
        after: int,
        limit: int,
        *,
        before: int | None = None,
        where: repository.Filter = repository.EVERYTHING,
    ) -> list[dict[str, Any]]:
        """Audit entries after `after`, oldest first; with `before`, before it, newest first."""
        async with self.sessions() as session:
            return await repository.entries(
                session, after=after, limit=limit, before=before, where=where
            )

    async def verify(self) -> ChainResult:
        """Recompute the whole chain and report the first entry that does not fit."""
        rows: list[dict[str, Any]] = []
        async with self.sessions() as session:
            while True:
                page = await repository.entries(session, after=rows[-1]["seq"] if rows else 0)
                rows.extend(page)
                if len(page) < repository.MAX_PAGE:
                    break
        return verify_chain(rows)

    async def checkpoint(self) -> dict[str, Any]:
        """The tree head of the whole log now, signed with the audit key, and that key."""
        leaves = await self._leaves()
        head = Checkpoint(
            origin=self.origin,
            size=len(leaves),
            root_hash=root_hash(leaves),
            time=self.clock.now().isoformat(timespec="seconds"),
        )
        key = self.signer.active()
        return {
            "checkpoint": head.to_json(),
            "signature": sign_checkpoint(key, head),
            "key": public_key_info(key),
        }

    async def consistency(self, first: int, second: int) -> list[str]:
        """The RFC 9162 proof that the tree of size `first` is a prefix of that of `second`."""
        if first > second:
            raise InvalidInput(
                "first must not exceed second",
                fields=[{"path": "query.first", "reason": "greater than second"}],
            )
        leaves = await self._leaves()
        if second > len(leaves):
            # Also what a witness sees when the log lost entries it had checkpointed.
            raise Conflict(f"the audit log holds {len(leaves)} entries, fewer than {second}")
        return [h.hex() for h in consistency_proof(leaves[:second], first)]

    async def _leaves(self) -> list[bytes]:
        async with self.sessions() as session:
            return audit_leaves(await repository.chain_hashes(session))
