"""An NGO follows up its report in the console; the lawyer's alert shows the update.

On a network of its own: a bar with a lawyer (a webhook receiver, a watchlist entry, a policy
that lets the bar read the status of detention and deportation reports) and an NGO whose case
desk submitted the original by CLI. The lawyer acknowledged the alert; the NGO's follow-up
(deported) re-opens it, reaches the same lawyer as `alert.updated`, and the lawyer's alert view
lists it. The follow-up form asks for no name: only the original's id and a status leave it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Page, Request, expect

from tests.e2e.console.conftest import (
    LAWYER_SCOPES,
    axe_findings,
    browser_faults,
    cli_env,
    enrol_confirmed,
    recorded_page,
    screenshot,
)
from tests.support.browser import chromium
from tests.support.cli import keyed_client, run_cli
from tests.support.network import lifeline_up
from tests.support.receivers import Hit, Receiver, receiver

WITHIN_S = 20.0
# The module's network, two enrolled browsers and a report alerted before the first test: more
# than the default per test on a shared two-core machine.
pytestmark = pytest.mark.timeout(300)
ORIGINAL = [
    {
        "client_report_id": "kg-77",
        "incident_type": "detention",
        "legal_basis": "cis_interstate_search",
        "occurred_at": "2026-11-20T06:40:00+06:00",
        "place": {"country": "KG", "locality": "Bishkek", "facility_kind": "airport"},
        "status": "ongoing",
        "tlp": "AMBER",
        "person": {"name": "Лев Скорякин", "dob": "14.03.1999"},
    }
]


@dataclass
class Desk:
    """The network, the lawyer's receiver, and the NGO's and the lawyer's browsers."""

    env: dict[str, str]
    lawyer: list[str]
    hook: Receiver
    ngo: Page
    law: Page
    report_id: str
    alert_id: str
    seen: list[str]
    bodies: list[str] = field(default_factory=list)


async def _until(hook: Receiver, kind: str, count: int = 1) -> list[Hit]:
    started = time.monotonic()
    while len(hook.alerts(kind)) < count:
        assert time.monotonic() - started < WITHIN_S, f"no {kind} reached the lawyer"
        await asyncio.sleep(0.2)
    return hook.alerts(kind)


@pytest.fixture(scope="module")
async def desk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Desk]:
    tmp = tmp_path_factory.mktemp("followups")
    env = cli_env(tmp)
    keys = tmp / "keys"
    keys.mkdir()
    admin, lawyer, ngo = (["--profile", str(tmp / f"{who}.json")] for who in ("a", "l", "n"))
    settings = {"LIFELINE_ALERTS_WEBHOOK_ALLOW_PRIVATE": "true"}
    async with receiver() as hook, chromium() as browser:
        with lifeline_up(tmp, env=settings) as net:
            urls = net.urls
            await run_cli(env, "admin", "init", "--sharing-url", urls["sharing"], "--data-dir",
                          str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            bar = await run_cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
            kg = await run_cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
            lawyer_id = await keyed_client(env, admin, bar["id"], "lawyer", LAWYER_SCOPES,
                                           "lawyer", keys)  # fmt: skip
            desk_id = await keyed_client(env, admin, kg["id"], "case desk",
                                         ("reports:submit", "reports:read", "reports:manage"), "reader",
                                         keys)  # fmt: skip
            for profile, client_id in ((lawyer, lawyer_id), (ngo, desk_id)):
                await run_cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url",
                              urls["intake"], "--alerts-url", urls["alerts"], "--client-id",
                              client_id, "--key", str(keys / f"{client_id}.pem"), *profile)  # fmt: skip
            policy = tmp / "bar-lawyers.json"
            policy.write_text(json.dumps({"partner": bar["id"], "role": "lawyer", "grants": [{
                "id": "alerts", "from": ["*"], "incident_types": ["detention", "deportation"],
                "countries": ["*"], "legal_bases": ["*"], "max_tlp": "AMBER",
                "fields": ["incident_type", "legal_basis", "occurred_at", "place.country",
                           "place.facility_kind", "status"]}]}))  # fmt: skip
            await run_cli(env, "admin", "policy", "set", str(policy), *admin)
            contacts = await run_cli(env, "alerts", "contacts", "set", "--webhook-url",
                                     hook.url, *lawyer)  # fmt: skip
            (primary,) = contacts["contacts"]
            hook.secret = contacts["new_secrets"][primary["id"]]
            await run_cli(env, "watchlist", "add", "--name", "Lev Skoryakin", "--dob",
                          "1999-03-14", "--label", "client 7", *lawyer)  # fmt: skip
            original = tmp / "original.json"
            original.write_text(json.dumps(ORIGINAL, ensure_ascii=False))
            submitted = await run_cli(env, "report", "submit", str(original), *ngo)
            (report,) = submitted["reports"]
            (created,) = await _until(hook, "alert.created")
            alert_id = created.payload["data"]["alert_id"]
            await run_cli(env, "alerts", "ack", alert_id, *lawyer)

            seen: list[str] = []
            ngo_context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            ngo_page = await recorded_page(ngo_context, seen)
            law_context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            law_page = await recorded_page(law_context, seen)
            world = Desk(env, lawyer, hook, ngo_page, law_page, report["report_id"], alert_id,
                         seen)  # fmt: skip

            def on_request(request: Request) -> None:
                if request.post_data:
                    world.bodies.append(request.post_data)

            ngo_page.on("request", on_request)
            await enrol_confirmed(env, admin, ngo_page, desk_id, "case desk laptop")
            await ngo_page.get_by_role("link", name="Continue").click()
            await enrol_confirmed(env, admin, law_page, lawyer_id, "lawyer's phone")
            await law_page.get_by_role("link", name="Continue").click()
            yield world
            await ngo_context.close()
            await law_context.close()


async def test_the_ngo_follows_up_its_report_from_its_submissions(desk: Desk) -> None:
    page = desk.ngo
    await page.get_by_role("navigation").get_by_role("link", name="Submissions").click()
    item = page.locator(f'ul.submissions li[data-report="{desk.report_id}"]')
    await item.get_by_role("link", name="Follow up").click()
    await expect(
        page.get_by_role("heading", name="Follow-up to an earlier report", level=1)
    ).to_be_visible()
    await expect(
        page.get_by_text(f"This report follows up report {desk.report_id}.")
    ).to_be_visible()
    # The person is the original's: no name or date of birth is asked again.
    await expect(page.get_by_label("Full name, in any script or spelling")).to_have_count(0)
    await page.get_by_label("Where the case stands now").select_option("deported")
    await page.get_by_label("Incident", exact=True).select_option("deportation")
    await page.get_by_label("Country", exact=True).fill("KG")
    assert await axe_findings(page) == []
    await screenshot(page, "followup-form-desktop-en")
    await page.get_by_role("button", name="Submit the report").click()
    await expect(page.get_by_text("The report was received.")).to_be_visible()

    (body,) = [json.loads(b) for b in desk.bodies if '"client_report_id"' in b]
    assert body["follows"] == desk.report_id and body["status"] == "deported"
    assert "subject" not in body

    (update,) = await _until(desk.hook, "alert.updated")
    data = update.payload["data"]
    assert data["alert_id"] == desk.alert_id and data["update"]["status"] == "deported"
    assert len(desk.hook.alerts("alert.created")) == 1  # never a new, unrelated alert


async def test_the_lawyer_sees_the_update_and_the_alert_open_again(desk: Desk) -> None:
    page = desk.law
    origin = page.url.split("/", 3)
    await page.goto(f"{origin[0]}//{origin[2]}/alerts/{desk.alert_id}")
    updates = page.locator("section.updates")
    await expect(
        updates.get_by_role("heading", name="Updates from the reporting partner")
    ).to_be_visible()
    await expect(updates.locator(".case-status")).to_have_attribute("data-status", "deported")
    await expect(updates).to_contain_text("Deported")
    await expect(updates).to_contain_text("re-opened the alert")
    # Worse news re-opened the acknowledged alert: it asks to be acknowledged again.
    await expect(page.get_by_role("button", name="I'm on it — acknowledge")).to_be_visible()
    assert await axe_findings(page) == []
    await screenshot(page, "followup-alert-desktop-en")
    # The same in Russian on a phone.
    await page.set_viewport_size({"width": 360, "height": 800})
    await page.get_by_label("Language", exact=True).select_option("ru")
    await expect(
        updates.get_by_role("heading", name="Новости от сообщившего партнёра")
    ).to_be_visible()
    await expect(updates).to_contain_text("Депортирован")
    assert await axe_findings(page) == []
    await screenshot(page, "followup-alert-phone-ru")
    assert browser_faults(desk.seen) == []


async def test_an_erased_report_is_no_longer_offered_for_a_follow_up(desk: Desk) -> None:
    """Intake hears of the erasure (`report.erased`): the link goes, and a follow-up typed
    anyway is refused with the reason shown where the form names the report."""
    page = desk.ngo
    await page.get_by_role("navigation").get_by_role("link", name="Submissions").click()
    item = page.locator(f'ul.submissions li[data-report="{desk.report_id}"]')
    await item.get_by_role("button", name="Erase this report…").click()
    await expect(item.get_by_text("Erased: nobody can read it any more.")).to_be_visible()
    await expect(item.get_by_role("link", name="Follow up")).to_have_count(0, timeout=20_000)
    # Erasing the original withdrew the lawyer's alert, and said so to them.
    await _until(desk.hook, "alert.withdrawn")

    origin = page.url.split("/", 3)
    await page.goto(f"{origin[0]}//{origin[2]}/reports/new?follows={desk.report_id}")
    await page.get_by_label("Where the case stands now").select_option("released")
    await page.get_by_label("Incident", exact=True).select_option("release")
    await page.get_by_label("Country", exact=True).fill("KG")
    await page.get_by_role("button", name="Submit the report").click()
    followup = page.locator("fieldset.followup")
    await expect(followup.get_by_role("alert")).to_have_text(
        "That report was erased: it can no longer be followed up."
    )
    assert len(desk.hook.alerts("alert.updated")) == 1  # nothing new reached the lawyer
    assert browser_faults(desk.seen) == []
