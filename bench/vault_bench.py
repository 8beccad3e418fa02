"""The vault's cost per stored report and per policy-filtered read: p50/p99 over 1,000 reports.

In-process, against a real database (SQLite by default; `--postgres` for PostgreSQL), with
the real key files (local-file KEK, hybrid ML-KEM-768+X25519 sealing key as in production):

- store: the consumer's whole handling of one `lifeline.report.received.v1` event: HPKE open,
  validation, a fresh data key wrapped by the KEK, 14 field encryptions, and one transaction
  (inbox, report row, data key, 14 field rows, outbox) - what `ReportStore.handle` does;
  the open and encrypt steps are also timed alone; and the same for fetches of 50 events stored
  in one transaction (`ReportStore.handle_batch`), per report;
- read: `ReadService.get` for a partner whose policy shows 3 fields of these reports: policy
  load, decide, unwrap, decrypt (3 + 4 routing fields), and the audited release (read log +
  hash-chained audit entry, one transaction); the submitter's full read too;
- list: one policy-filtered page of 50 (SQL pre-filter, decide, decrypt, 50 audit entries);
- CPU: the process CPU time of the consumer per stored report (one by one, and in batches).

`--baseline REV` runs the same measurements first against the code of another revision
(exported with `git archive`, so the working tree is left alone) and prints both side by side.

Run: .venv/bin/python bench/vault_bench.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
     [--n 1000] [--baseline main]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# `--code DIR` (set by `--baseline`, see `bench/compare.py`): another revision's tree.
sys.path.insert(
    0,
    sys.argv[sys.argv.index("--code") + 1]
    if "--code" in sys.argv
    else str(Path(__file__).resolve().parent.parent),
)

from libs.common import db
from libs.common.auth.principal import Principal
from libs.common.contracts import ReportReceived
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_decode, b64u_encode, canonical_json
from libs.common.crypto.kek_file import LocalFileKekProvider
from libs.common.events import Envelope, new_event
from libs.common.inbox import mark_processed
from libs.common.reports import ReportIn
from libs.common.subjects import REPORT_RECEIVED
from services.sharing.app import MIGRATIONS
from services.sharing.models import INBOX
from services.sharing.vault.consumer import ReportStore
from services.sharing.vault.crypto import encrypt_report, field_values
from services.sharing.vault.domain import Search
from services.sharing.vault.keys.keystore import HpkeKeyStore
from services.sharing.vault.policy import repository as prepo
from services.sharing.vault.service import ReadService
from tests.support.databases import PgScratch


def report_body() -> dict[str, Any]:
    """A typical detention report (random identity token; no real person behind it)."""
    return {
        "client_report_id": f"case-{uuid.uuid4().hex[:12]}",
        "incident_type": "detention",
        "legal_basis": "cis_interstate_search",
        "occurred_at": "2026-11-20T06:40:00+06:00",
        "place": {"country": "KG", "locality": "Bishkek", "facility_kind": "airport"},
        "requesting_state": "RU",
        "charges": [{"state": "RU", "code": "CC", "article": "207.3"}],
        "detaining_authority": "Airport border service",
        "status": "ongoing",
        "tlp": "AMBER",
        "narrative": "Detained at passport control on arrival; phone taken. " * 4,
        "contact_instructions": "Call the duty lawyer of the partner.",
        "subject": {
            "tokens": [
                {"kind": "full_dob", "version": 1, "value": b64u_encode(os.urandom(64))}
                for _ in range(6)
            ],
            "sex": "male",
        },
    }


def _principal(org: str) -> Principal:
    return Principal(
        f"cli-{org}", org, frozenset({"reports:read"}), "j", 0, 0, "i", ("a",), "k", "s", "reader"
    )


def _event(keys: HpkeKeyStore, partner: str) -> Envelope:
    """A sealed event as intake publishes it (sealing is intake's cost, done beforehand)."""
    report = ReportIn.model_validate(report_body())
    report_id, received_at = str(uuid.uuid4()), datetime.now(UTC)
    inner = {
        "report_id": report_id,
        "partner_id": partner,
        "client_id": "cli-bench",
        "received_at": received_at.isoformat(),
        "report": report.model_dump(mode="json"),
    }
    info = hpke.report_seal_info(report_id=report_id, partner_id=partner)
    sealed = hpke.seal(keys.active().key.public_key, canonical_json(inner), info)
    data = ReportReceived.of(
        report,
        report_id=report_id,
        partner_id=partner,
        received_at=received_at,
        sealed=b64u_encode(sealed),
    )
    return new_event(REPORT_RECEIVED, "intake", data.model_dump(mode="json"), report_id)


BATCH = 50


def _stats(label: str, samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    row = {
        "what": label,
        "n": len(samples),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "per_s": round(len(samples) / sum(samples)),
    }
    print(
        f"{label:<44} p50 {row['p50_ms']:>8.3f} ms   p99 {row['p99_ms']:>8.3f} ms   ~{row['per_s']}/s"
    )
    return row


def _cpu(label: str, since: float, reports: int) -> dict[str, Any]:
    """Process CPU time (every thread) spent since `since`, per report."""
    per = (time.process_time() - since) / reports
    print(f"{label:<44} {per * 1e6:>8.0f} µs")
    return {"what": label, "n": reports, "cpu_us": round(per * 1e6)}


async def _timed(items: list[Any], work: Callable[[Any], Awaitable[Any] | Any]) -> list[float]:
    samples = []
    for item in items:
        start = time.perf_counter()
        result = work(item)
        if asyncio.iscoroutine(result):
            await result
        samples.append(time.perf_counter() - start)
    return samples


async def main(database_url: str | None, n: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'sharing.db'}"
        engine = db.create_engine(url)
        await db.migrate(engine, MIGRATIONS)
        sessions = db.session_factory(engine)
        kek = LocalFileKekProvider(Path(tmp) / "kek.json")
        keys = HpkeKeyStore.open(Path(tmp) / "hpke.json")
        store = ReportStore(sessions, kek, keys)
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        print(f"vault bench: {n} reports, {backend}, sealing suite {keys.active().key.suite.label}")

        events = [_event(keys, "ptn_a") for _ in range(n)]
        # What the consumer does with a fetch of several messages: one transaction for all.
        more = [_event(keys, "ptn_a") for _ in range(n)]
        batches = [more[i : i + BATCH] for i in range(0, n, BATCH)]
        data = [ReportReceived.model_validate(e.data) for e in events]

        async def one_insert(event: Envelope) -> None:
            async with db.transaction(sessions) as session:
                await mark_processed(
                    session,
                    INBOX,
                    event.model_copy(update={"id": "b-" + event.id}),
                    datetime.now(UTC),
                )

        results = [
            _stats("baseline: one-row transaction (inbox)", await _timed(events, one_insert)),
            _stats(
                "open sealed report (HPKE, hybrid)",
                await _timed(
                    data,
                    lambda d: keys.unseal(
                        b64u_decode(d.sealed),
                        hpke.report_seal_info(report_id=d.report_id, partner_id=d.partner_id),
                    ),
                ),
            ),
            _stats(
                "encrypt report (data key, wrap, 14 fields)",
                await _timed(
                    data[:n],
                    lambda d: encrypt_report(
                        kek,
                        report_id=d.report_id,
                        partner_id=d.partner_id,
                        values=field_values(ReportIn.model_validate(report_body())),
                    ),
                ),
            ),
        ]
        cpu = time.process_time()
        results.append(
            _stats("store: open + encrypt + write (handle)", await _timed(events, store.handle))
        )
        results.append(_cpu("store (handle): consumer CPU /report", cpu, len(events)))
        cpu = time.process_time()
        results.append(
            _stats(
                f"store, batches of {BATCH} (handle_batch), /report",
                [t / BATCH for t in await _timed(batches, store.handle_batch)],
            )
        )
        results.append(_cpu("store (handle_batch): consumer CPU /report", cpu, len(more)))

        policy = {
            "partner": "ptn_b",
            "role": None,
            "grants": [
                {
                    "id": "g1",
                    "from": ["*"],
                    "fields": ["incident_type", "place.country", "narrative"],
                    "incident_types": ["detention"],
                    "countries": ["KG"],
                    "legal_bases": ["*"],
                    "max_tlp": "AMBER",
                }
            ],
        }
        async with db.transaction(sessions) as session:
            await prepo.put_policy(session, policy, "bench", datetime.now(UTC))
        reads = ReadService(sessions, kek)
        ids = [d.report_id for d in data]
        b, a = _principal("ptn_b"), _principal("ptn_a")
        results.append(
            _stats(
                "read: policy-filtered (3 fields), audited",
                await _timed(ids, lambda r: reads.get(b, r)),
            )
        )
        results.append(
            _stats(
                "read: submitter (14 fields), audited", await _timed(ids, lambda r: reads.get(a, r))
            )
        )
        pages = list(range(max(20, n // 20)))
        results.append(
            _stats(
                "list: page of 50, policy-filtered, audited",
                await _timed(pages, lambda _: reads.search(b, Search(), None, 50)),
            )
        )
        await engine.dispose()
        return results


def _run(postgres: str | None, n: int) -> list[dict[str, Any]]:
    if not postgres:
        return asyncio.run(main(None, n))
    scratch = PgScratch(postgres, ahead=0)
    url = scratch.take()
    try:
        return asyncio.run(main(url, n))
    finally:
        scratch.give_back(url)
        scratch.close()  # drops the database


def emit(rows: list[dict[str, Any]]) -> None:
    """The issue's read figures for `make bench`, the one-row transaction as their limit."""
    from bench import results  # not in a baseline's tree, and needed only here

    p50 = {r["what"]: r.get("p50_ms") for r in rows}
    limit = p50["baseline: one-row transaction (inbox)"]
    results.emit(
        "vault",
        [
            results.figure(
                "vault read of one report p50",
                p50["read: policy-filtered (3 fields), audited"],
                limit=limit,
            ),
            results.figure(
                "vault page of 50 p50",
                p50["list: page of 50, policy-filtered, audited"],
                limit=limit,
            ),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="run in a scratch database on this PostgreSQL server (default: a SQLite file)",
    )
    parser.add_argument("--n", type=int, default=1000, help="reports (default 1000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--baseline", metavar="REV", help="measure this revision first, compare")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    common = ["--n", str(args.n)] + (["--postgres", args.postgres] if args.postgres else [])
    if args.baseline:
        from bench import compare  # not in a baseline's tree, and needed only here

        before = compare.baseline(__file__, args.baseline, common)
    out = _run(args.postgres, args.n)
    if args.baseline:
        compare.side_by_side(before, out)
    if args.json:
        print(json.dumps(out, indent=2))
    if not args.code:
        emit(out)
