"""Delivery faults: receiver down then failing; the worker process killed after a 2xx."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from libs.common import db
from libs.common import nats as natsx
from services.alerts.delivery.models import Delivery, DeliveryAttempt
from tests.integration.alerts.conftest import FAST, AlertsStack, alerts_stack_on
from tests.integration.alerts.support import Hit, Receiver, report_event, tokens_for, until
from tests.integration.alerts.test_delivery import page_lev, setup_lawyer
from tests.support.natsd import NatsServer, free_port

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
ATTEMPTS = DeliveryAttempt.__table__  # type: ignore[attr-defined]


async def _webhook_attempts(stack: AlertsStack) -> list[Any]:
    return await stack.db(
        select(ATTEMPTS.c.delivery_id, ATTEMPTS.c.outcome, ATTEMPTS.c.http_status, ATTEMPTS.c.error)
        .join(DELIVERIES, DELIVERIES.c.id == ATTEMPTS.c.delivery_id)
        .where(DELIVERIES.c.channel == "webhook")
        .order_by(ATTEMPTS.c.id)
    )


async def test_receiver_down_then_failing_gets_it_after_recovery_with_the_same_id_and_email_meanwhile(
    stack: AlertsStack,
) -> None:
    hook = Receiver()  # not listening yet: connection refused
    await setup_lawyer(stack, hook)
    # Not an interstate search: the email waits for the webhook's first failure.
    await page_lev(stack, legal_basis="administrative")
    # The first failure of the webhook fires the email at once.
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"), timeout=10)
    assert await until(lambda: _count(stack, "ConnectError", 3), timeout=10)
    hook.answer = 503
    await hook.start()
    try:
        assert await until(lambda: len(hook.seen) >= 3, timeout=10)
        hook.answer = 200
        assert await until(lambda: hook.hits, timeout=10)
        await asyncio.sleep(1)
    finally:
        await hook.stop()
    (delivered,) = hook.hits
    assert {h.webhook_id for h in hook.seen} == {delivered.webhook_id}  # constant across retries
    attempts = await _webhook_attempts(stack)
    assert {a.delivery_id for a in attempts} == {delivered.webhook_id}
    outcomes = [(a.outcome, a.http_status, a.error) for a in attempts]
    assert outcomes[-1] == ("delivered", 200, None)
    assert ("retry", None, "ConnectError") in outcomes and ("retry", 503, "http_503") in outcomes
    # One alert mail, and one warning that the webhook failed three times in a row.
    subjects = sorted(m["Subject"] for m in stack.mailbox.to("lawyer@example.org"))
    assert subjects == ["Lifeline alert — action needed", "Lifeline: a contact needs attention"]
    detail = (await stack.call("GET", f"/v1/alerts/{delivered.payload['data']['alert_id']}")).json()
    webhook = next(d for d in detail["deliveries"] if d["channel"] == "webhook")
    assert webhook["status"] == "delivered" and len(webhook["attempts"]) == len(attempts)


async def _count(stack: AlertsStack, error: str, n: int) -> bool:
    return sum(a.error == error for a in await _webhook_attempts(stack)) >= n


def _spawn(settings: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ}
    for name, value in {
        "DATA_DIR": settings.data_dir,
        "DATABASE_URL": settings.database_url,
        "NATS_URL": settings.nats_url,
        "PORT": free_port(),
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "DELIVERY_LEASE_S": "1",
        "RETRY_SCHEDULE_S": FAST["retry_schedule_s"],
        "DELIVERY_POLL_S": "0.1",
        "SMTP_HOST": "",
    }.items():
        env[f"LIFELINE_ALERTS_{name}"] = str(value)
    env["PYTHONPATH"] = str(Path(__file__).parents[3])
    return subprocess.Popen(
        [sys.executable, "-m", "services.alerts"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_worker_killed_after_a_2xx_before_recording_is_redelivered_with_the_same_id(
    own_nats: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    db_url = db_url_factory("alerts")
    hook = Receiver()
    async with alerts_stack_on(own_nats.url, db_url, tmp_path) as stack:
        await setup_lawyer(stack, hook, email=None)
        settings = stack.settings
    victim = _spawn(settings)

    def freeze_then_answer(_: Hit) -> int:
        # The 2xx leaves for a process that can no longer read it: killed before it records.
        if victim.poll() is None:
            victim.send_signal(signal.SIGSTOP)
        return 200

    hook.answer = freeze_then_answer
    await hook.start()
    survivor = None
    try:
        await asyncio.sleep(1.5)  # the service connects and binds its consumers
        event = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
        nc = await natsx.connect(own_nats.url, "test-publisher")
        try:
            await natsx.publish(nc.jetstream(), event)
        finally:
            await nc.close()
        assert await until(lambda: hook.hits, timeout=20), "first delivery never arrived"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        hook.answer = 200
        survivor = _spawn(settings)
        assert await until(lambda: len(hook.hits) >= 2, timeout=30), "never redelivered"
        await asyncio.sleep(1)
        ids = [h.webhook_id for h in hook.hits]
        assert len(ids) == 2 and len(set(ids)) == 1  # same webhook-id: the receiver dedupes
        assert len(hook.unique()) == 1
        engine = db.create_engine(db_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(ATTEMPTS.c.attempt, ATTEMPTS.c.outcome).order_by(ATTEMPTS.c.id)
                )
                attempts = [(r.attempt, r.outcome) for r in rows]
        finally:
            await engine.dispose()
        assert attempts == [(1, "interrupted"), (2, "delivered")]
    finally:
        for proc in (victim, survivor):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        await hook.stop()


async def test_a_webhook_target_refused_at_send_time_shows_the_lawyer_one_reason(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    # `.invalid` never resolves (RFC 6761): a real lookup that fails, with no network needed.
    # Told apart from "resolves to an inside address", it would be an oracle of internal DNS.
    db_url = db_url_factory("strict")
    async with alerts_stack_on(
        nats_server.url, db_url, tmp_path, webhook_allow_private=False
    ) as stack:
        await setup_lawyer(stack)
        body = {
            "webhook": {"url": "https://hooks.invalid/lifeline"},
            "email": {"address": "lawyer@example.org"},
        }
        assert (await stack.call("PUT", "/v1/lawyer/profile", json=body)).status_code == 200
        await page_lev(stack, legal_basis="administrative")
        assert await until(lambda: _count(stack, "target_unreachable", 1), timeout=10)
        (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
        detail = (await stack.call("GET", f"/v1/alerts/{alert['id']}")).json()
        webhook = next(d for d in detail["deliveries"] if d["channel"] == "webhook")
        # A retry claimed meanwhile reads "interrupted" (no error yet) until its send ends.
        ended = [a for a in webhook["attempts"] if a["outcome"] != "interrupted"]
        assert ended and {a["error"] for a in ended} == {"target_unreachable"}


async def test_a_replica_stopped_mid_send_lets_the_page_land_and_records_it(
    own_nats: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    """A rollout (SIGTERM) while a page is on the wire: it lands once, and nobody resends it."""
    db_url = db_url_factory("alerts")
    hook = Receiver()
    async with alerts_stack_on(own_nats.url, db_url, tmp_path) as stack:
        await setup_lawyer(stack, hook, email=None)
        settings = stack.settings
    victim = _spawn(settings)

    async def stop_while_answering(_: Hit) -> int:
        if victim.poll() is None:
            victim.send_signal(signal.SIGTERM)  # what Kubernetes sends on a rollout
        await asyncio.sleep(1.0)  # a slow receiver: the page is still on the wire meanwhile
        return 200

    hook.answer = stop_while_answering
    await hook.start()
    survivor = None
    try:
        await asyncio.sleep(1.5)  # the service connects and binds its consumers
        nc = await natsx.connect(own_nats.url, "test-publisher")
        try:
            await natsx.publish(
                nc.jetstream(), report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
            )
        finally:
            await nc.close()
        assert await until(lambda: hook.hits, timeout=20), "the page never arrived"
        # uvicorn shuts down gracefully, then re-raises the signal: the exit status is -15.
        assert await asyncio.to_thread(victim.wait, 20) == -signal.SIGTERM
        hook.answer = 200
        survivor = _spawn(settings)
        # Past the lease (FAST: 5 s) a send the victim did not record would go out again.
        await asyncio.sleep(FAST["delivery_lease_s"] + 3)
        assert len(hook.seen) == 1
        engine = db.create_engine(db_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(ATTEMPTS.c.attempt, ATTEMPTS.c.outcome))
                attempts = [(r.attempt, r.outcome) for r in rows]
        finally:
            await engine.dispose()
        assert attempts == [(1, "delivered")]
    finally:
        for proc in (victim, survivor):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        await hook.stop()
