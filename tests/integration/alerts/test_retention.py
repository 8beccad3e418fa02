"""Retention in alerts: a closed alert goes with its deliveries after its period, an open one
never; old attempts and warnings go on their own periods; every run is counted and recorded."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from libs.common.clock import FakeClock
from services.alerts.alerts.models import ALERTS, MATCHES
from services.alerts.delivery.health.models import WARNINGS
from services.alerts.delivery.models import ATTEMPTS, DELIVERIES
from services.alerts.retention.domain import AlertsRetention
from services.alerts.retention.service import RetentionSweeper
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import until
from tests.integration.alerts.test_delivery import page_lev, setup_lawyer

DAY = 86400.0


def sweeper(stack: AlertsStack, clock: FakeClock, **periods: Any) -> RetentionSweeper:
    """The service's sweep on its own database, with a clock the test moves."""
    limits = {"alert_days": None, "attempt_days": None, "warning_days": None}
    limits |= {"batch": 100, "interval_s": 3600.0} | periods
    sessions = stack.app.state.container.runtime.sessions
    return RetentionSweeper(sessions, AlertsRetention(**limits), clock=clock)


async def count(stack: AlertsStack, table: Any, *where: Any) -> int:
    """Rows of a table (that match)."""
    return int((await stack.db(select(func.count()).select_from(table).where(*where)))[0][0])


async def sent(stack: AlertsStack, alert_id: str) -> bool:
    """Whether every delivery of the alert is done with (delivered or given up)."""
    d = DELIVERIES.c
    left = await count(
        stack, DELIVERIES, d.alert_id == alert_id, d.status.in_(("pending", "sending"))
    )
    return left == 0 and await count(stack, DELIVERIES, d.alert_id == alert_id) > 0


async def two_alerts(stack: AlertsStack) -> tuple[str, str]:
    """Two lawyers watching Lev, one report: the first lawyer resolves theirs, the other not."""
    await setup_lawyer(stack, client_id="lawyer-1")
    await setup_lawyer(stack, client_id="lawyer-2", email="second@example.org")
    await page_lev(stack)
    alerts = {}
    for lawyer in ("lawyer-1", "lawyer-2"):

        async def listed(who: str = lawyer) -> list[Any]:
            return list((await stack.call("GET", "/v1/alerts", client_id=who)).json()["alerts"])

        alerts[lawyer] = (await until(listed))[0]["id"]
    closed, still_open = alerts["lawyer-1"], alerts["lawyer-2"]
    resolved = await stack.call(
        "POST", f"/v1/alerts/{closed}/resolve", json={"outcome": "released"}
    )
    assert resolved.status_code == 200, resolved.text
    assert await until(lambda: sent(stack, closed)) and await until(lambda: sent(stack, still_open))
    return closed, still_open


async def test_a_closed_alert_goes_with_its_deliveries_an_open_one_stays(
    stack: AlertsStack,
) -> None:
    closed, still_open = await two_alerts(stack)
    attempts_of_closed = select(DELIVERIES.c.id).where(DELIVERIES.c.alert_id == closed)
    assert await count(stack, ATTEMPTS, ATTEMPTS.c.delivery_id.in_(attempts_of_closed)) > 0
    clock = FakeClock()

    # Within the period nothing goes.
    nothing = await sweeper(stack, clock, alert_days=30, attempt_days=30).sweep()
    assert not any(nothing.values()), nothing
    clock.advance(31 * DAY)
    counts = await sweeper(stack, clock, alert_days=30, attempt_days=30).sweep()

    assert counts["alerts"] == 1 and counts["deliveries"] >= 1
    assert await count(stack, ALERTS, ALERTS.c.id == closed) == 0
    assert await count(stack, DELIVERIES, DELIVERIES.c.alert_id == closed) == 0
    assert await count(stack, ATTEMPTS, ATTEMPTS.c.delivery_id.in_(attempts_of_closed)) == 0
    assert await count(stack, MATCHES, MATCHES.c.alert_id == closed) == 0
    # The open alert, its deliveries and their attempts stay, however old.
    assert await count(stack, ALERTS, ALERTS.c.id == still_open) == 1
    assert await count(stack, DELIVERIES, DELIVERIES.c.alert_id == still_open) >= 1
    of_open = select(DELIVERIES.c.id).where(DELIVERIES.c.alert_id == still_open)
    assert await count(stack, ATTEMPTS, ATTEMPTS.c.delivery_id.in_(of_open)) >= 1
    assert (await stack.call("GET", f"/v1/alerts/{closed}")).status_code == 404
    opened = await stack.call("GET", f"/v1/alerts/{still_open}", client_id="lawyer-2")
    assert opened.status_code == 200 and opened.json()["status"] == "open"

    # The run is recorded with its counts; the admin route shows it.
    shown = await stack.call("GET", "/v1/admin/retention", scopes=("admin",))
    assert shown.status_code == 200, shown.text
    assert shown.json()["sweeps"]["alerts"]["last_counts"] == counts
    refused = await stack.call("GET", "/v1/admin/retention")
    assert refused.status_code == 403


async def test_old_warnings_go_but_an_unreachable_episode_still_going_on_stays(
    stack: AlertsStack,
) -> None:
    clock = FakeClock()
    now = clock.now()

    def warning(problem: str, ended: bool) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "lawyer_id": "lawyer-1",
            "org_id": "bar-1",
            "channel": "" if problem == "unreachable" else "email",
            "problem": problem,
            "created_at": now - timedelta(days=60),
            "ended_at": now - timedelta(days=59) if ended else None,
        }

    rows = [warning("failing", False), warning("unreachable", True), warning("unreachable", False)]
    async with stack.app.state.container.runtime.sessions() as session, session.begin():
        await session.execute(WARNINGS.insert(), rows)

    counts = await sweeper(stack, clock, warning_days=30).sweep()

    assert counts["contact_warnings"] == 2
    left = [r.id for r in await stack.db(select(WARNINGS.c.id))]
    assert left == [rows[2]["id"]]


async def test_a_run_prunes_at_most_its_batch_and_goes_again(stack: AlertsStack) -> None:
    clock = FakeClock()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "lawyer_id": "lawyer-1",
            "org_id": "bar-1",
            "channel": "email",
            "problem": "failing",
            "created_at": clock.now() - timedelta(days=60),
        }
        for _ in range(5)
    ]
    async with stack.app.state.container.runtime.sessions() as session, session.begin():
        await session.execute(WARNINGS.insert(), rows)
    swept = sweeper(stack, clock, warning_days=30, batch=2)

    runs = [(await swept.sweep())["contact_warnings"] for _ in range(4)]

    assert runs == [2, 2, 1, 0]
