"""The KEK rewrap job: moves data keys to the primary KEK, batch by batch; fields never change.

Each batch is one transaction, so the job is resumable after a kill -9 (committed batches stay
done, the open one rolls back) and safe to run twice at once: on PostgreSQL rows are taken with
`FOR UPDATE SKIP LOCKED`; on SQLite the single writer serialises them. Run it through the admin
API (`lifeline admin keys rewrap`) or on the server:

    python -m services.sharing.vault.keys.rewrap --database-url URL --kek-file PATH
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import db
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.kek import KekProvider, KekState, WrappedKey, rewrap, wrap_aad
from libs.common.crypto.kek_file import LocalFileKekProvider
from services.sharing.vault.keys import repository as krepo

log = logging.getLogger(__name__)


@dataclass
class RewrapProgress:
    """What one run of the job did."""

    rewrapped: int = 0
    batches: int = 0
    after: str = ""  # keyset position within a pass, so failed rows are not taken again
    # Data keys that would not unwrap (tampered): left as they are, logged by report id.
    failed_ids: set[str] = field(default_factory=set)

    @property
    def failed(self) -> int:
        """How many data keys could not be rewrapped."""
        return len(self.failed_ids)


def _movable(provider: KekProvider) -> tuple[list[int], int]:
    versions = provider.versions()
    primary = next(v.version for v in versions if v.primary)
    movable = [v.version for v in versions if not v.primary and v.state is not KekState.RETIRED]
    return movable, primary


async def rewrap_batch(
    sessions: async_sessionmaker[AsyncSession],
    provider: KekProvider,
    progress: RewrapProgress,
    *,
    batch: int = 200,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Rewrap up to `batch` data keys in one transaction; returns how many rows it looked at."""
    async with db.transaction(sessions) as session:
        # Shared with stores: a KEK retire waits for us, so it sees what we commit.
        await krepo.kek_guard(session)
        movable, _ = _movable(provider)
        if not movable:
            return 0
        rows = await krepo.lock_for_rewrap(session, movable, batch, after=progress.after)
        updates = []
        for row in rows:
            aad = wrap_aad(report_id=row.report_id, data_key_id=row.data_key_id)
            try:
                new = rewrap(provider, WrappedKey.from_bytes(bytes(row.wrapped)), aad)
            except DecryptionFailed:
                progress.failed_ids.add(str(row.data_key_id))
                log.warning("data key does not unwrap", extra={"report_id": row.report_id})
                continue
            updates.append(
                {
                    "k": row.data_key_id,
                    "old": int(row.kek_version),
                    "new": new.kek_version,
                    "w": new.to_bytes(),
                }
            )
        await krepo.store_rewrapped(session, updates, clock.now())
    if rows:
        progress.after = str(rows[-1].data_key_id)
    progress.rewrapped += len(updates)
    progress.batches += 1
    return len(rows)


async def run_rewrap(
    sessions: async_sessionmaker[AsyncSession],
    provider: KekProvider,
    *,
    batch: int = 200,
    budget_s: float | None = None,
    pause_s: float = 0.0,
    on_batch: Callable[[RewrapProgress], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> RewrapProgress:
    """Rewrap until no data key is left under a non-primary version (or the budget is spent).

    A pass walks the keys in id order; another pass follows while the last one moved
    something, which picks up rows another job had locked (and perhaps rolled back).
    """
    progress = RewrapProgress()
    deadline = None if budget_s is None else clock.monotonic() + budget_s
    pass_start = 0
    while deadline is None or clock.monotonic() < deadline:
        try:
            seen = await rewrap_batch(sessions, provider, progress, batch=batch, clock=clock)
        except OperationalError as exc:
            # A dropped connection (PostgreSQL) or a database busy past its timeout (SQLite,
            # another job writing). Nothing of this batch was written: take it again.
            log.warning("rewrap batch retried", extra={"reason": type(exc).__name__})
            await asyncio.sleep(0.05)
            continue
        if on_batch is not None:
            on_batch(progress)
        if seen < batch:
            if progress.rewrapped == pass_start:
                break
            pass_start, progress.after = progress.rewrapped, ""
        elif pause_s:
            await asyncio.sleep(pause_s)
    return progress


async def _main(args: argparse.Namespace) -> int:
    engine = db.create_engine(args.database_url)
    try:
        provider = LocalFileKekProvider(args.kek_file, create=False)

        def report(p: RewrapProgress) -> None:
            line = {"rewrapped": p.rewrapped, "failed": p.failed, "batches": p.batches}
            print(json.dumps(line), flush=True)

        progress = await run_rewrap(
            db.session_factory(engine),
            provider,
            batch=args.batch,
            pause_s=args.pause,
            on_batch=report,
        )
        async with db.session_factory(engine)() as session:
            usage = await krepo.kek_usage(session)
        movable, primary = _movable(provider)
        left = sum(usage.get(v, 0) for v in movable)
        print(json.dumps({"done": True, "primary": primary, "left": left}), flush=True)
        # `left` may count keys another job is moving right now; only failures are an error.
        return 0 if progress.failed == 0 else 1
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rewrap job on the server against sharing's database and KEK file."""
    parser = argparse.ArgumentParser(
        prog="python -m services.sharing.vault.keys.rewrap",
        description="Rewrap every data key under the primary KEK version (resumable).",
    )
    parser.add_argument("--database-url", required=True, help="sharing's database URL")
    parser.add_argument("--kek-file", type=Path, required=True, help="sharing's KEK file")
    parser.add_argument("--batch", type=int, default=200, help="data keys per transaction")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
