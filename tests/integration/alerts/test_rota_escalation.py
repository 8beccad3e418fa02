"""Escalation with a rota: the duty step pages whoever is on duty as it runs (real service, real
webhook receivers, a fake clock).

The receivers refuse a signature more than 5 minutes off their real clock, so the hand-over is
put a few minutes from now, in a time zone whose date differs from UTC's at that moment: a rota
that took the hand-over's weekday in UTC would not hand over then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from services.alerts.rotas.domain import WEEKDAYS
from tests.integration.alerts.conftest import ORG_ADMIN, AlertsStack
from tests.integration.alerts.support import Receiver, receiver, report_event, tokens_for, until
from tests.integration.alerts.test_escalation import (
    _clock,
    _minutes_pass,
    _steps,
    _watch,
    escalating,
)
from tests.support.natsd import NatsServer


async def _set_rota(
    stack: AlertsStack,
    members: Sequence[tuple[str, Receiver]],
    *,
    zone: str = "Europe/Berlin",
    at: datetime | None = None,
    overrides: Sequence[dict[str, Any]] = (),
) -> None:
    """A weekly rota of these webhook receivers; member 0's shift began at the hand-over at `at`
    (default: far from now), a week before the next hand-over."""
    local = (at or _clock(stack).now() - timedelta(days=3)).astimezone(ZoneInfo(zone))
    body = {
        "time_zone": zone,
        "handover_weekday": WEEKDAYS[local.weekday()],
        "handover_time": local.strftime("%H:%M"),
        "starts_on": (local.date() - timedelta(days=7)).isoformat(),
        "members": [
            {"name": name, "contacts": [{"channel": "webhook", "address": hook.url}]}
            for name, hook in members
        ],
        "overrides": list(overrides),
    }
    resp = await stack.call("PUT", "/v1/organisation/rota", json=body, **ORG_ADMIN)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    for member, (_, hook) in zip(out["members"], members, strict=True):
        hook.secret = out["new_secrets"][member["contacts"][0]["id"]]


async def _raise_alert(stack: AlertsStack, lawyer: Receiver) -> None:
    await _watch(stack)
    await stack.publish(report_event(tokens_for("SKORIAKIN LEV", "14.03.1999")))
    assert await until(lambda: lawyer.alerts("alert.created"))


async def test_the_duty_step_after_a_handover_at_a_time_zone_boundary_pages_the_next_member(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with (
        escalating(nats_server, db_url_factory, tmp_path) as (stack, hooks),
        receiver() as anna,
        receiver() as boris,
    ):
        clock = _clock(stack)
        # On a whole minute: the alert's steps (N=1, M=2, one repeat) fall on whole minutes.
        clock.advance(60 - clock.now().second - clock.now().microsecond / 1e6)
        created = clock.now()
        handover = created + timedelta(minutes=3)  # the repeat runs at the hand-over instant
        # A zone where the hand-over falls on another date (and weekday) than in UTC.
        zone = "Pacific/Kiritimati" if handover.hour >= 10 else "Pacific/Pago_Pago"
        local = handover.astimezone(ZoneInfo(zone))
        assert local.weekday() != handover.weekday()
        await _set_rota(stack, [("Anna", anna), ("Boris", boris)], zone=zone, at=handover)

        await _raise_alert(stack, hooks["lawyer"])
        await _minutes_pass(stack, 1)  # step 1: backups
        await _minutes_pass(stack, 1)  # step 2, a minute before the hand-over: Anna
        assert await until(lambda: anna.alerts("alert.escalated"))
        await _minutes_pass(stack, 1)  # step 3, exactly at the hand-over: Boris's now
        assert await until(lambda: boris.alerts("alert.escalated"))
        await _minutes_pass(stack, 2)  # the plan is over

        assert _steps(anna) == [2] and _steps(boris) == [3]
        assert {h.payload["data"]["recipient_role"] for h in anna.hits + boris.hits} == {"duty"}
        assert hooks["duty"].hits == []  # with a rota, the static duty desk is not paged
        assert anna.rejected == boris.rejected == 0
        # Whoever was paged is told when the alert is taken: Anna too, though off duty now.
        (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
        assert (await stack.call("POST", f"/v1/alerts/{alert['id']}/ack")).status_code == 200
        assert await until(lambda: anna.alerts("alert.acknowledged"))
        assert await until(lambda: boris.alerts("alert.acknowledged"))


async def test_an_override_pages_the_covering_member(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with (
        escalating(nats_server, db_url_factory, tmp_path) as (stack, hooks),
        receiver() as anna,
        receiver() as boris,
    ):
        now = _clock(stack).now()
        holiday = {
            "member": 1,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
        }
        # The rotation has Anna on duty this week; Boris covers her day off.
        await _set_rota(stack, [("Anna", anna), ("Boris", boris)], overrides=[holiday])
        on = (await stack.call("GET", "/v1/organisation/rota/on-duty")).json()
        assert (on["name"], on["covering"]) == ("Boris", True)

        await _raise_alert(stack, hooks["lawyer"])
        await _minutes_pass(stack, 1)
        await _minutes_pass(stack, 1)  # step 2: the duty step
        assert await until(lambda: boris.alerts("alert.escalated"))
        assert _steps(boris) == [2]
        assert anna.hits == [] and hooks["duty"].hits == []


async def test_without_a_rota_the_static_duty_contacts_are_paged_as_before(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with (
        escalating(nats_server, db_url_factory, tmp_path) as (stack, hooks),
        receiver() as anna,
    ):
        await _set_rota(stack, [("Anna", anna)])
        assert (await stack.call("DELETE", "/v1/organisation/rota", **ORG_ADMIN)).status_code == 204

        await _raise_alert(stack, hooks["lawyer"])
        await _minutes_pass(stack, 1)
        await _minutes_pass(stack, 1)
        assert await until(lambda: hooks["duty"].alerts("alert.escalated"))
        assert _steps(hooks["duty"]) == [2]
        assert anna.hits == []
