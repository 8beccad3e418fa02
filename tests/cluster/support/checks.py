"""What the run left behind, read where it is kept: the databases, the bus, the receiver."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import psycopg

from tests.cluster.support.stack import SERVICES, Stack


def _direct(stack: Stack, service: str) -> str:
    """The service's database, not through the proxy the faults cut."""
    url = stack.databases[service].replace(f"127.0.0.1:{stack.pg_proxy.port}", stack.pg_server)
    return url.replace("postgresql+psycopg://", "postgresql://")


def query(stack: Stack, service: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one query on the service's database."""
    with psycopg.connect(_direct(stack, service)) as conn:
        return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]


def stored(stack: Stack) -> Counter[str]:
    """How many times sharing's vault holds each client report id."""
    rows = query(stack, "sharing", "SELECT client_report_id FROM vault_reports")
    return Counter(r[0] for r in rows)


def receipts_open(stack: Stack) -> set[str]:
    """Client report ids intake still has no storage receipt for."""
    rows = query(stack, "intake", "SELECT client_report_id FROM reports WHERE stored_at IS NULL")
    return {r[0] for r in rows}


def alerts_per_label(stack: Stack) -> Counter[str]:
    """Alerts created per watchlist label."""
    rows = query(
        stack,
        "alerts",
        "SELECT e.label FROM alerts a JOIN watchlist_entries e ON e.id = a.entry_id",
    )
    return Counter(r[0] for r in rows)


def outboxes(stack: Stack) -> dict[str, int]:
    """Events still waiting in each service's outbox."""
    return {s: int(query(stack, s, "SELECT count(*) FROM outbox")[0][0]) for s in SERVICES}


def consumers_pending(stack: Stack) -> dict[str, int]:
    """Each durable consumer's undelivered plus unacknowledged messages, as the node leading
    it counts them (its /jsz; a follower's count may lag)."""
    seen: dict[str, dict[str, int]] = {}  # consumer -> {node name: left}
    leaders: dict[str, str] = {}
    for node in stack.nats.nodes:
        base = f"http://127.0.0.1:{node.http_port}"
        params = {"accounts": "true", "streams": "true", "consumers": "true"}
        try:
            name = httpx.get(f"{base}/varz", timeout=5).json()["server_name"]
            data = httpx.get(f"{base}/jsz", params=params, timeout=5).json()
        except httpx.HTTPError:
            continue
        for account in data.get("account_details", []):
            for stream in account.get("stream_detail", []):
                for consumer in stream.get("consumer_detail", []) or []:
                    key = f"{stream['name']}/{consumer['name']}"
                    left = consumer.get("num_pending", 0) + consumer.get("num_ack_pending", 0)
                    seen.setdefault(key, {})[name] = left
                    leader = (consumer.get("cluster") or {}).get("leader")
                    if leader:
                        leaders[key] = leader
    return {
        key: counts.get(leaders.get(key, ""), max(counts.values())) for key, counts in seen.items()
    }
