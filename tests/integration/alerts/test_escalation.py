"""Escalation until acknowledged: backups after N, duty after M, capped repeats, ack stops all.

The service runs on a fake clock that the tests move by real minutes: a step falls due when
the test says so, not after a wait. How often the scheduler and the worker look is still real
time (`escalation_poll_s`, `delivery_poll_s`), and so are the receivers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import and_, func, or_, select

from libs.common.clock import FakeClock
from libs.common.events import Envelope
from services.alerts.delivery.models import Delivery
from services.alerts.delivery.profiles.models import Contact
from tests.integration.alerts.conftest import ORG_ADMIN, AlertsStack, alerts_stack_on
from tests.integration.alerts.support import (
    Receiver,
    erased_event,
    receiver,
    report_event,
    tokens_for,
    until,
)
from tests.support.natsd import NatsServer

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
MINUTE_S = 60.0
# Receivers check `webhook-timestamp` against their own, real clock and refuse a message more
# than 5 minutes off (as the Standard Webhooks spec has them do). No test moves the fake clock
# through more than SPAN, and the clock starts half of it behind the real one: every page it
# signs is within the receivers' window.
SPAN = timedelta(minutes=9)
WEBHOOK_TOLERANCE = timedelta(minutes=5)
# Real time for the scheduler (polling every 0.05 s) and the worker (0.1 s) to act on a move.
SETTLE_S = 0.5


@asynccontextmanager
async def escalating(
    nats_server: NatsServer,
    db_url_factory: Any,
    tmp_path: Path,
    *,
    max_repeats: int = 1,
    slow: float = 0.0,
    duty_after: int = 2,
    **overrides: Any,
) -> AsyncIterator[tuple[AlertsStack, dict[str, Receiver]]]:
    """A stack on a fake clock; lawyer, backup and duty webhooks; N=1, M=2, R=1."""
    async with AsyncExitStack() as ctx:
        stack = await ctx.enter_async_context(
            alerts_stack_on(
                nats_server.url,
                db_url_factory("alerts"),
                tmp_path,
                clock=FakeClock(datetime.now(UTC) - SPAN / 2),
                delivery_concurrency=64,
                # Longer than any move of the clock: a send still on the wire when the test
                # moves it is not taken for one whose worker died (and sent again).
                delivery_lease_s=SPAN.total_seconds(),
                **overrides,
            )
        )
        hooks = {
            name: await ctx.enter_async_context(receiver()) for name in ("lawyer", "backup", "duty")
        }
        for hook in hooks.values():
            hook.latency = slow
        profile = (
            await stack.call(
                "PUT",
                "/v1/lawyer/profile",
                json={
                    "webhook": {"url": hooks["lawyer"].url},
                    "backup_contacts": [
                        {"channel": "webhook", "address": hooks["backup"].url, "name": "Anna"}
                    ],
                },
            )
        ).json()
        for contact in profile["contacts"]:
            name = "lawyer" if contact["role"] == "primary" else "backup"
            hooks[name].secret = profile["new_secrets"][contact["id"]]
        org = (
            await stack.call(
                "PUT",
                "/v1/organisation/escalation",
                json={
                    "escalate_after_minutes": 1,
                    "duty_after_minutes": duty_after,
                    "repeat_every_minutes": 1,
                    "max_repeats": max_repeats,
                    "duty_contacts": [
                        {"channel": "webhook", "address": hooks["duty"].url, "name": "Duty desk"}
                    ],
                },
                **ORG_ADMIN,
            )
        ).json()
        hooks["duty"].secret = next(iter(org["new_secrets"].values()))
        yield stack, hooks


async def _watch(
    stack: AlertsStack,
    name: str = "Лев Скорякин",
    dob: str = "1999-03-14",
    label: str = "client 12",
) -> None:
    resp = await stack.call(
        "POST", "/v1/watchlist/entries", json={"label": label, "tokens": tokens_for(name, dob)}
    )
    assert resp.status_code == 201


def _clock(stack: AlertsStack) -> FakeClock:
    assert isinstance(stack.clock, FakeClock)
    return stack.clock


async def _quiet(stack: AlertsStack) -> None:
    """Wait until no delivery is on the wire or due: what the service decided has landed."""
    d = DELIVERIES.c
    busy = or_(
        d.status == "sending",
        and_(d.status == "pending", d.next_attempt_at <= _clock(stack).now()),
    )

    async def quiet() -> bool:
        return (await stack.db(select(func.count()).select_from(DELIVERIES).where(busy)))[0][0] == 0

    assert await until(quiet), "deliveries never settled"


def _move(stack: AlertsStack, minutes: float) -> None:
    """Move the fake clock; it stays where the receivers still accept its signatures."""
    clock = _clock(stack)
    clock.advance(minutes * MINUTE_S)
    assert abs(clock.now() - datetime.now(UTC)) < WEBHOOK_TOLERANCE, "moved beyond SPAN"


async def _minutes_pass(stack: AlertsStack, minutes: float) -> None:
    """`minutes` pass once nothing is on the wire; what falls due meanwhile is sent and lands."""
    await _quiet(stack)
    _move(stack, minutes)
    await asyncio.sleep(SETTLE_S)
    await _quiet(stack)


async def _until_backup_paged(stack: AlertsStack, hooks: dict[str, Receiver]) -> Envelope:
    """Watch the client, report them detained, wait for step 1 (the backup's page); the report."""
    await _watch(stack)
    report = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
    await stack.publish(report)
    assert await until(lambda: hooks["lawyer"].alerts("alert.created"))
    await _minutes_pass(stack, 1)
    assert await until(lambda: hooks["backup"].alerts("alert.escalated"))
    return report


def _steps(hook: Receiver, kind: str = "alert.escalated") -> list[int]:
    return [h.payload["data"]["step"] for h in hook.alerts(kind)]


async def test_escalation_reaches_backup_then_duty_then_stops_after_the_capped_repeats(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with escalating(nats_server, db_url_factory, tmp_path) as (stack, hooks):
        await _watch(stack)
        await stack.publish(report_event(tokens_for("SKORIAKIN LEV", "14.03.1999")))
        assert await until(lambda: hooks["lawyer"].alerts("alert.created"))
        for _ in range(3):  # N, M, and the one repeat
            await _minutes_pass(stack, 1)
        assert await until(lambda: len(hooks["duty"].hits) == 2, timeout=10)
        await _minutes_pass(stack, 5)  # the plan is over: nothing more may come
        assert len(hooks["lawyer"].alerts("alert.created")) == 1
        assert _steps(hooks["lawyer"]) == [1, 2, 3]
        assert _steps(hooks["backup"]) == [1, 2, 3]
        assert _steps(hooks["duty"]) == [2, 3]
        assert {h.payload["data"]["recipient_role"] for h in hooks["duty"].hits} == {"duty"}
        # Every message is its own delivery: distinct webhook-ids, each verified.
        assert len({h.webhook_id for r in hooks.values() for h in r.hits}) == 9
        assert all(r.rejected == 0 for r in hooks.values())


async def test_an_ack_stops_every_timer_and_tells_the_others_who_took_it(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    # The ack comes in minute 1, five minutes before M.
    setup = escalating(nats_server, db_url_factory, tmp_path, max_repeats=5, duty_after=6)
    async with setup as (stack, hooks):
        await _until_backup_paged(stack, hooks)
        (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
        ack = await stack.call("POST", f"/v1/alerts/{alert['id']}/ack")
        assert ack.status_code == 200
        acked_at = time.monotonic()
        assert await until(lambda: hooks["backup"].alerts("alert.acknowledged"))
        await _minutes_pass(stack, 8)  # past M and a repeat: nothing more may come
        for hook in hooks.values():
            assert all(h.at < acked_at for h in hook.alerts("alert.escalated")), (
                "paged after the ack"
            )
        (notice,) = hooks["backup"].alerts("alert.acknowledged")
        assert notice.payload["data"]["acknowledged"]["by"] == "lawyer-1"
        assert hooks["lawyer"].alerts("alert.acknowledged") == []  # they acked it themself
        assert hooks["duty"].hits == []  # the ack came before M minutes


async def test_a_backup_acking_by_link_tells_the_lawyer(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with escalating(nats_server, db_url_factory, tmp_path, max_repeats=5) as (stack, hooks):
        await _until_backup_paged(stack, hooks)
        data = hooks["backup"].alerts("alert.escalated")[0].payload["data"]
        # A webhook carries no link that acts; the backup's link reached them sealed (OpenPGP).
        assert data["ack_url"] is None and data["alert_url"].endswith(data["alert_id"])
        (backup,) = await stack.db(select(Contact.__table__.c.id).where(Contact.role == "backup"))
        token = stack.app.state.container.links.make(
            data["alert_id"], backup.id, stack.clock.time()
        )
        async with httpx.AsyncClient() as browser:
            assert (await browser.post(f"{stack.url}/v1/ack/{token}")).status_code == 200
        assert await until(lambda: hooks["lawyer"].alerts("alert.acknowledged"))
        (notice,) = hooks["lawyer"].alerts("alert.acknowledged")
        assert notice.payload["data"]["acknowledged"]["by"] == "Anna (link)"
        assert hooks["backup"].alerts("alert.acknowledged") == []


async def test_an_erased_report_withdraws_its_alert_and_tells_whoever_was_paged(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    setup = escalating(nats_server, db_url_factory, tmp_path, max_repeats=5, duty_after=6)
    async with setup as (stack, hooks):
        report = await _until_backup_paged(stack, hooks)
        await stack.publish(erased_event(report.data["report_id"]))
        paged = ("lawyer", "backup")
        assert await until(lambda: all(hooks[n].alerts("alert.withdrawn") for n in paged))
        await asyncio.sleep(0.1)  # a page already on the wire at the erasure may still land
        pages = {n: len(hooks[n].alerts("alert.escalated")) for n in paged}
        await _minutes_pass(stack, 8)  # past M and repeats: nothing more may come
        assert {n: len(hooks[n].alerts("alert.escalated")) for n in paged} == pages
        for name in paged:
            (notice,) = hooks[name].alerts("alert.withdrawn")
            data = notice.payload["data"]
            assert (data["report_id"], data["report_url"], data["ack_url"]) == ("", None, None)
            assert data["facility_kind"] == "" and data["occurred_at"] == ""
        assert hooks["duty"].hits == []  # never paged: nothing to withdraw from them
        (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
        assert alert["status"] == "withdrawn"


async def test_acks_racing_escalation_steps_never_page_after_the_ack(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    """Acks land around the moment each step falls due, while slow receivers hold pages in flight."""
    latency = 0.25
    async with escalating(nats_server, db_url_factory, tmp_path, max_repeats=10, slow=latency) as (
        stack,
        hooks,
    ):
        people = [(f"Client{chr(97 + i)}ov Petr", f"19{60 + i}-02-0{1 + i % 9}") for i in range(16)]
        for i, (name, dob) in enumerate(people):
            await _watch(stack, name, dob, f"client {i}")
        rng = random.Random(7)
        acked: dict[str, float] = {}

        async def ack_later(alert_id: str, delay: float) -> None:
            await asyncio.sleep(delay)
            resp = await stack.call("POST", f"/v1/alerts/{alert_id}/ack")
            assert resp.status_code == 200
            acked[alert_id] = time.monotonic()

        for name, dob in people:
            await stack.publish(report_event(tokens_for(name, dob)))

        def created() -> set[str]:
            return {h.payload["data"]["alert_id"] for h in hooks["lawyer"].alerts("alert.created")}

        assert await until(lambda: len(created()) == len(people), timeout=20)
        seen = created()
        assert len(seen) == len(people)
        ack_at = {alert_id: rng.choice([1, 2]) for alert_id in sorted(seen)}
        for step in (1, 2):
            await _quiet(stack)
            _move(stack, 1)  # step `step` of every open alert falls due now
            # Each alert is acked while the page of step 1 or 2 is on its way (sent `latency`
            # before it lands).
            tasks = [
                asyncio.create_task(
                    ack_later(alert_id, latency + rng.uniform(-latency + 0.02, 0.05))
                )
                for alert_id, at in ack_at.items()
                if at == step
            ]
            await asyncio.gather(*tasks)
            # The step's pages to the alerts not acked yet go out (and `_quiet` waits for them):
            # an ack must not find one on the wire as the clock jumps on.
            await asyncio.sleep(SETTLE_S)
        await _minutes_pass(stack, 4)  # an alert the acks missed would escalate now
        late = [
            (name, h.payload["data"]["alert_id"], h.payload["data"]["step"])
            for name, hook in hooks.items()
            for h in hook.alerts("alert.escalated")
            if h.at > acked[h.payload["data"]["alert_id"]]
        ]
        assert late == [], "pages sent after their alert was acknowledged"
        escalated = sum(len(h.alerts("alert.escalated")) for h in hooks.values())
        assert escalated > 0  # the race was real: steps did run around the acks
