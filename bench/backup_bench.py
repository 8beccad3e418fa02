"""Backup size and time for a network holding `--reports` reports (default 10,000).

Starts `lifeline up` in a temporary directory (SQLite, local nats-server), submits the reports
through intake (`POST /v1/reports`, 8 at a time), waits until sharing has stored them all, then
measures, with the network running: `lifeline backup create` (in-process), `verify`, and
`restore` into an empty directory. With `--postgres`, the services run on scratch PostgreSQL
databases of that server (restored into more of them), dropped afterwards.

    .venv/bin/python bench/backup_bench.py [--reports 10000] [--postgres SERVER_URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.intake_bench import body, submitter_token
from bench.intake_network import start as start_network
from libs.common.crypto.hpke_keys import generate_private_key
from libs.common.db import create_sync_engine
from lifeline.backup.contents import SERVICES, database_url
from lifeline.backup.create import create
from lifeline.backup.restore import extract, verify
from tests.support.databases import PgScratch


async def submit(intake: str, token: str, count: int) -> None:
    """`count` reports, 8 requests in flight."""
    queue = iter(range(count))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as http:

        async def worker() -> None:
            for _ in queue:
                resp = await http.post(f"{intake}/v1/reports", json=body(), headers=headers)
                resp.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(8)))


def _query(data_dir: Path, databases: dict[str, str], service: str, sql: str) -> int:
    engine = create_sync_engine(database_url(service, data_dir, databases))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def stored(data_dir: Path, databases: dict[str, str]) -> int:
    """Reports sharing has stored."""
    return _query(data_dir, databases, "sharing", "SELECT count(*) FROM vault_reports")


def _size(data_dir: Path, databases: dict[str, str]) -> int:
    """Bytes of the databases: SQLite files with their WAL, or PostgreSQL's own measure."""
    if not databases:
        return sum(p.stat().st_size for p in data_dir.glob("*.db*"))
    size = "SELECT pg_database_size(current_database())"
    return sum(_query(data_dir, databases, s, size) for s in SERVICES)


def main(reports: int, postgres: str | None) -> None:
    """Load, back up, verify, restore; print one table."""
    scratch = PgScratch(postgres, ahead=0) if postgres else None
    databases = {s: scratch.take() for s in SERVICES} if scratch else {}
    targets = {s: scratch.take() for s in SERVICES} if scratch else {}
    for service, url in databases.items():
        os.environ[f"LIFELINE_{service.upper()}_DATABASE_URL"] = url  # for `lifeline up`
    try:
        _run(reports, databases, targets)
    finally:
        if scratch:
            for url in [*databases.values(), *targets.values()]:
                scratch.give_back(url)
            scratch.close()


def _run(reports: int, databases: dict[str, str], targets: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="backup-bench-") as tmp_name:
        tmp = Path(tmp_name)
        proc, urls = start_network(tmp)
        data = tmp / "data"
        try:
            token = asyncio.run(submitter_token(urls["sharing"], data))
            started = time.monotonic()
            asyncio.run(submit(urls["intake"], token, reports))
            while stored(data, databases) < reports:
                time.sleep(0.5)
            loaded = time.monotonic() - started
            on_disk = _size(data, databases)
            key = generate_private_key()
            out = tmp / "network.backup"
            t0 = time.monotonic()
            made = create(data, out, key.public_key, urls=databases)
            t1 = time.monotonic()
            verify(out, key)
            t2 = time.monotonic()
            extract(out, key, tmp / "restored", targets)
            t3 = time.monotonic()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    print(f"{reports} reports loaded in {loaded:.0f} s (through intake, stored by sharing)")
    print("| measure | value |")
    print("|---|---|")
    print(f"| databases on disk | {on_disk / 1e6:.1f} MB |")
    print(f"| backup file | {made.size / 1e6:.1f} MB |")
    print(f"| `backup create` (network running) | {t1 - t0:.2f} s |")
    print(f"| `backup verify` | {t2 - t1:.2f} s |")
    print(f"| `backup restore` (verify + write) | {t3 - t2:.2f} s |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--postgres", metavar="SERVER_URL", help="run on PostgreSQL")
    args = parser.parse_args()
    main(args.reports, args.postgres)
