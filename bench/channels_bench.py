"""Alert latency per channel: report submitted to intake → first page at a local receiver.

Starts `lifeline up` (SQLite, local nats-server) with every channel pointed at a receiver in
this process that speaks its protocol — a Standard Webhooks receiver, an SMTP server, and the
signal-cli REST API, Telegram bot API, ntfy server and SMS gateway of `tests/support/
channel_apis.py` — registers an NGO and a lawyer as `alerts_bench.py` does, and loads a few
hundred watchlist entries. Then, per channel, the lawyer's one contact is set to that channel
and `--reports` reports are submitted one at a time (each matching an entry of its own, so each
opens an alert and pages), timing `POST /v1/reports` → the receiver's arrival.

    .venv/bin/python bench/channels_bench.py [--reports 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import alerts_load
from bench.alerts_bench import bearer, line, register, report_body
from bench.intake_network import start as start_network
from tests.support.channel_apis import BOT_TOKEN, SIGNAL_NUMBER, SMS_TOKEN, ChannelApis
from tests.support.receivers import receiver, smtp_server

CONTACTS = {
    "webhook": None,  # the receiver's URL, known once it listens
    "email": "lawyer@example.org",
    "signal": "+4917012345678",
    "telegram": "581234977",
    "ntfy": None,  # a topic on the local ntfy server
    "sms": "+4917012345678",
}


async def measure(
    http: httpx.AsyncClient,
    urls: dict[str, str],
    who: dict[str, Any],
    contact: dict[str, Any],
    sets: list[list[dict[str, Any]]],
    arrived: Callable[[], int],
) -> list[float]:
    """Set the lawyer's one contact, submit reports one by one; latencies in ms."""
    lawyer, ngo = await bearer(who["lawyer"]), await bearer(who["ngo"])
    body = {"contacts": [{"role": "primary", **contact}]}
    resp = await http.put(urls["alerts"] + "/v1/lawyer/profile", json=body, headers=lawyer)
    resp.raise_for_status()
    out: list[float] = []
    for tokens in sets:
        before = arrived()
        started = time.monotonic()
        resp = await http.post(
            urls["intake"] + "/v1/reports", json=report_body(tokens), headers=ngo
        )
        resp.raise_for_status()
        deadline = started + 10
        while arrived() == before and time.monotonic() < deadline:
            await asyncio.sleep(0.0005)
        if arrived() > before:
            out.append((time.monotonic() - started) * 1000)
    return out


async def main(reports: int) -> None:
    """Run every channel's measurement, print them side by side."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        (tmp / "bot").write_text(BOT_TOKEN)
        (tmp / "sms").write_text(SMS_TOKEN)
        async with ChannelApis() as apis, receiver() as hook, smtp_server() as (box, smtp_port):
            os.environ.update({
                "LIFELINE_ALERTS_WEBHOOK_ALLOW_PRIVATE": "true",  # every receiver is on loopback
                "LIFELINE_ALERTS_SMTP_HOST": "127.0.0.1",
                "LIFELINE_ALERTS_SMTP_PORT": str(smtp_port),
                "LIFELINE_ALERTS_SMTP_TLS": "none",
                "LIFELINE_ALERTS_SIGNAL_API_URL": apis.url,
                "LIFELINE_ALERTS_SIGNAL_NUMBER": SIGNAL_NUMBER,
                "LIFELINE_ALERTS_TELEGRAM_API_URL": apis.url,
                "LIFELINE_ALERTS_TELEGRAM_BOT_TOKEN_FILE": str(tmp / "bot"),
                "LIFELINE_ALERTS_SMS_GATEWAY_URL": apis.sms_url,
                "LIFELINE_ALERTS_SMS_TOKEN_FILE": str(tmp / "sms"),
            })  # fmt: skip
            proc, urls = start_network(tmp)
            try:
                async with httpx.AsyncClient(timeout=30) as http:
                    who = await register(http, urls["sharing"], tmp / "data")
                    lawyer = who["lawyer"]
                    count = (len(CONTACTS) + 1) * reports
                    db = str(tmp / "data" / "alerts.db")
                    sets = alerts_load.load(db, lawyer["client_id"], lawyer["org"], count, count)
                    addresses = CONTACTS | {"webhook": hook.url, "ntfy": f"{apis.url}/lawyer"}
                    counters: dict[str, Callable[[], int]] = {
                        "webhook": lambda: len(hook.hits),
                        "email": lambda: len(box.messages),
                        **{k: (lambda k=k: len(apis.to(k))) for k in ("signal", "telegram", "ntfy", "sms")},
                    }  # fmt: skip
                    results: dict[str, list[float]] = {}
                    for n, (kind, address) in enumerate(addresses.items()):
                        contact = {"channel": kind, "address": address}
                        if kind == "webhook":
                            resp = await http.put(
                                urls["alerts"] + "/v1/lawyer/profile",
                                json={"webhook": {"url": hook.url}},
                                headers=await bearer(lawyer),
                            )
                            hook.secret = next(iter(resp.json()["new_secrets"].values()))
                            contact["secret"] = hook.secret
                        chunk = sets[n * reports : (n + 1) * reports]
                        warm = await measure(http, urls, who, contact, chunk[:3], counters[kind])
                        assert warm, f"{kind}: nothing arrived"
                        results[kind] = await measure(
                            http, urls, who, contact, chunk[3:], counters[kind]
                        )
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    print(
        f"{reports - 3} reports per channel, one at a time (SQLite, embedded stack, local receivers)"
    )
    for kind, ms in results.items():
        print(line(f"intake POST → first page on {kind}", ms, reports - 3))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50)
    asyncio.run(main(parser.parse_args().reports))
