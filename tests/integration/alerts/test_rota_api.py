"""The rota API on the real service: who may set and see it, validation, on-duty, the .ics feed."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from sqlalchemy import update

from services.alerts.delivery.profiles.models import CONTACTS
from tests.integration.alerts.conftest import ORG_ADMIN, AlertsStack

MONDAY = date(2026, 3, 2)


def rota_body(**over: Any) -> dict[str, Any]:
    """Two members in Berlin, Monday 09:00 hand-overs, Anna first."""
    body: dict[str, Any] = {
        "time_zone": "Europe/Berlin",
        "handover_weekday": "monday",
        "handover_time": "09:00",
        "starts_on": MONDAY.isoformat(),
        "members": [
            {"name": "Anna", "contacts": [{"channel": "email", "address": "anna@bar.example"}]},
            {"contacts": [{"channel": "webhook", "address": "https://duty.bar.example/hook"}]},
        ],
        "overrides": [],
    }
    return {**body, **over}


def _fields(resp: Any) -> set[str]:
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid_input"
    return {f["path"] for f in resp.json()["fields"]}


async def test_the_admin_sets_the_rota_and_its_lawyers_see_who_is_on_duty(
    stack: AlertsStack,
) -> None:
    assert (await stack.call("GET", "/v1/organisation/rota")).status_code == 404
    # Without a rota, on-duty names the static duty contacts (none yet).
    nobody = (await stack.call("GET", "/v1/organisation/rota/on-duty")).json()
    assert (nobody["source"], nobody["member"], nobody["contacts"]) == ("duty_contacts", None, [])

    refused = await stack.call("PUT", "/v1/organisation/rota", json=rota_body())
    assert refused.status_code == 403  # a lawyer may look, not set
    put = await stack.call("PUT", "/v1/organisation/rota", json=rota_body(), **ORG_ADMIN)
    assert put.status_code == 200, put.text
    rota = put.json()
    assert [m["name"] for m in rota["members"]] == ["Anna", None]
    (hook,) = rota["members"][1]["contacts"]
    assert set(rota["new_secrets"]) == {hook["id"]}  # the webhook's secret, shown this once

    seen = (await stack.call("GET", "/v1/organisation/rota")).json()
    assert seen["members"] == rota["members"] and seen["new_secrets"] == {}
    # Saving the same rota keeps the contacts (and the webhook's secret).
    again = (await stack.call("PUT", "/v1/organisation/rota", json=rota_body(), **ORG_ADMIN)).json()
    assert again["members"] == rota["members"] and again["new_secrets"] == {}

    # 2026-03-09 09:00 Berlin (08:00 UTC) hands over from Anna to member 1.
    before = await stack.call(
        "GET", "/v1/organisation/rota/on-duty", params={"at": "2026-03-09T07:59:59Z"}
    )
    assert before.json()["name"] == "Anna" and before.json()["member"] == 0
    assert before.json()["until"] == "2026-03-09T08:00:00Z"
    at = await stack.call(
        "GET", "/v1/organisation/rota/on-duty", params={"at": "2026-03-09T09:00:00+01:00"}
    )
    duty = at.json()
    assert (duty["source"], duty["member"], duty["name"], duty["covering"]) == (
        "rota", 1, None, False,
    )  # fmt: skip
    assert [c["address"] for c in duty["contacts"]] == ["https://duty.bar.example/hook"]


async def test_validation_names_the_field(stack: AlertsStack) -> None:
    async def put(**over: Any) -> set[str]:
        resp = await stack.call("PUT", "/v1/organisation/rota", json=rota_body(**over), **ORG_ADMIN)
        return _fields(resp)

    assert await put(time_zone="Mars/Olympus") == {"time_zone"}
    assert await put(handover_time="25:00") == {"handover_time"}
    assert await put(handover_weekday="funday") == {"handover_weekday"}
    assert await put(members=[]) == {"members"}
    bad_address = [{"contacts": [{"channel": "webhook", "address": "not a url"}]}]
    assert await put(members=bad_address) == {"members.0.contacts.0.address"}
    naive = [{"member": 0, "starts_at": "2026-03-10T00:00:00", "ends_at": "2026-03-11T00:00:00Z"}]
    assert await put(overrides=naive) == {"overrides.0.starts_at"}
    overlapping = [
        {"member": 0, "starts_at": "2026-03-10T00:00:00Z", "ends_at": "2026-03-12T00:00:00Z"},
        {"member": 5, "starts_at": "2026-03-11T00:00:00Z", "ends_at": "2026-03-13T00:00:00Z"},
    ]
    assert await put(overrides=overlapping) == {"overrides.1.member", "overrides.1.starts_at"}
    backwards = [{"member": 1, "starts_at": "2026-03-12T00:00:00Z", "ends_at": "2026-03-10T00:00Z"}]
    assert await put(overrides=backwards) == {"overrides.0.ends_at"}
    # An instant without an offset is ambiguous: refused, not guessed.
    resp = await stack.call(
        "GET", "/v1/organisation/rota/on-duty", params={"at": "2026-03-09T09:00:00"}
    )
    assert _fields(resp) == {"query.at"}
    for far in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00+05:00"):
        resp = await stack.call("GET", "/v1/organisation/rota/on-duty", params={"at": far})
        assert _fields(resp) == {"query.at"}
    assert await put(starts_on="9999-12-31") == {"starts_on"}
    ancient = [
        {"member": 0, "starts_at": "0001-01-01T00:00:00+05:00", "ends_at": "2026-03-11T00:00Z"}
    ]
    assert await put(overrides=ancient) == {"overrides.0.starts_at"}
    assert (await stack.call("GET", "/v1/organisation/rota")).status_code == 404  # nothing saved


async def test_the_calendar_has_one_event_per_shift_and_no_addresses(stack: AlertsStack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # iCalendar times are to the second
    cover = {"member": 1, "starts_at": (now + timedelta(days=1)).isoformat(),
             "ends_at": (now + timedelta(days=2)).isoformat()}  # fmt: skip
    body = rota_body(starts_on=(now.date() - timedelta(days=30)).isoformat(), overrides=[cover])
    assert (await stack.call("GET", "/v1/organisation/rota.ics")).status_code == 404
    assert (await stack.call("PUT", "/v1/organisation/rota", json=body, **ORG_ADMIN)).is_success
    resp = await stack.call("GET", "/v1/organisation/rota.ics", params={"weeks": 4})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/calendar")
    assert "anna@bar.example" not in resp.text and "duty.bar.example" not in resp.text
    cal = icalendar.Calendar.from_ical(resp.content)
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))
    spans = [(e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"])) for e in events]
    # Back to back from the shift running now through four weeks, the cover cut in.
    assert spans[0][0] <= now < spans[0][1]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert spans[-1][1] >= now + timedelta(weeks=4)
    covering = [s for s in spans if "(covering)" in s[2]]
    assert [(s[0], s[1]) for s in covering] == [
        (datetime.fromisoformat(cover["starts_at"]), datetime.fromisoformat(cover["ends_at"]))
    ]
    assert covering[0][2] == "On duty: Member 2 (covering)"
    for start, _end, summary in spans:  # each shift names whoever on-duty names then
        duty = (
            await stack.call(
                "GET", "/v1/organisation/rota/on-duty", params={"at": start.isoformat()}
            )
        ).json()
        assert summary.startswith(f"On duty: {duty['name'] or 'Member 2'}")
    assert len({e["UID"] for e in events}) == len(events)
    assert _fields(await stack.call("GET", "/v1/organisation/rota.ics", params={"weeks": 0})) == {
        "query.weeks"
    }


async def test_deleting_the_rota_leaves_the_static_duty_contacts(stack: AlertsStack) -> None:
    escalation = {
        "escalate_after_minutes": 1, "duty_after_minutes": 2, "repeat_every_minutes": 1,
        "max_repeats": 1,
        "duty_contacts": [{"channel": "email", "address": "desk@bar.example"}],
    }  # fmt: skip
    put = await stack.call("PUT", "/v1/organisation/escalation", json=escalation, **ORG_ADMIN)
    assert put.status_code == 200
    assert (
        await stack.call("PUT", "/v1/organisation/rota", json=rota_body(), **ORG_ADMIN)
    ).is_success
    # The rota's contacts are not the static desk's: escalation still lists only the desk.
    desk = (await stack.call("GET", "/v1/organisation/escalation")).json()["duty_contacts"]
    assert [c["address"] for c in desk] == ["desk@bar.example"]
    on = (await stack.call("GET", "/v1/organisation/rota/on-duty")).json()
    assert on["source"] == "rota"
    # None of the on-duty member's contacts works (a webhook answered 410): the desk is paged.
    c = CONTACTS.c
    async with stack.app.state.container.runtime.sessions() as session:
        await session.execute(
            update(CONTACTS)
            .where(c.rota_member.is_not(None))
            .values(disabled_at=datetime.now(UTC), disabled_reason="gone")
        )
        await session.commit()
    broken = (await stack.call("GET", "/v1/organisation/rota/on-duty")).json()
    assert (broken["source"], broken["member"]) == ("duty_contacts", on["member"])
    assert [c["address"] for c in broken["contacts"]] == ["desk@bar.example"]
    assert (await stack.call("DELETE", "/v1/organisation/rota")).status_code == 403
    assert (await stack.call("DELETE", "/v1/organisation/rota", **ORG_ADMIN)).status_code == 204
    assert (await stack.call("DELETE", "/v1/organisation/rota", **ORG_ADMIN)).status_code == 404
    off = (await stack.call("GET", "/v1/organisation/rota/on-duty")).json()
    assert off["source"] == "duty_contacts"
    assert [c["address"] for c in off["contacts"]] == ["desk@bar.example"]
    # Another organisation's admin sees none of it.
    other = await stack.call("GET", "/v1/organisation/rota", org="bar-2", **ORG_ADMIN)
    assert other.status_code == 404
