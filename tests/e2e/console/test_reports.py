"""An NGO writes a report in the console and a lawyer's alert arrives.

On a network of its own: the operator sets up by CLI a bar with a lawyer (a webhook receiver,
a watchlist entry written in Latin script, a policy) and an NGO with a case desk client (it
submits, and may see who read what it submitted) whose browser is enrolled with a one-time
code. The NGO fills the form in the browser with the name in Cyrillic; the name and date of
birth become tokens there and never leave it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

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
from tests.support.cli import run_cli
from tests.support.network import lifeline_up
from tests.support.receivers import Receiver, receiver

NAME = "Лев Скорякин"  # as the NGO writes it
LATIN = "Lev Skoryakin"  # as the lawyer put it on the watchlist
DOB = "1999-03-14"
HOSTILE = "<img src=x onerror=\"window.pwned='narrative'\"> held at arrivals \u202etroprifa"
ALERT_WITHIN_S = 20.0


@dataclass
class Ngo:
    """The network, the lawyer's receiver and the NGO's signed-in browser."""

    env: dict[str, str]
    admin: list[str]
    hook: Receiver
    page: Page
    console: str
    seen: list[str]
    bodies: list[str] = field(default_factory=list)


async def _cli(env: dict[str, str], *args: str) -> Any:
    return await run_cli(env, *args)


@pytest.fixture(scope="module")
async def ngo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ngo]:
    tmp = tmp_path_factory.mktemp("reports")
    env = cli_env(tmp)
    admin, lawyer = (["--profile", str(tmp / f"{who}.json")] for who in ("a", "l"))
    settings = {"LIFELINE_ALERTS_WEBHOOK_ALLOW_PRIVATE": "true"}
    async with receiver() as hook, chromium() as browser:
        with lifeline_up(tmp, env=settings) as net:
            urls = net.urls
            await _cli(env, "admin", "init", "--sharing-url", urls["sharing"], "--data-dir",
                       str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            bar = await _cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
            kg = await _cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
            flags = [arg for scope in LAWYER_SCOPES for arg in ("--scope", scope)]
            law = await _cli(env, "admin", "client", "create", "--partner", bar["id"], "--name",
                             "lawyer", "--role", "lawyer", *flags, *admin)  # fmt: skip
            key = tmp / "lawyer.pem"
            made = await _cli(env, "keygen", "--out", str(key), "--no-passphrase")
            await _cli(env, "admin", "key", "create", law["id"], "--public-key",
                       made["public_key"], "--expect-fingerprint", made["fingerprint"], *admin)  # fmt: skip
            await _cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url",
                       urls["intake"], "--alerts-url", urls["alerts"], "--client-id", law["id"],
                       "--key", str(key), *lawyer)  # fmt: skip
            # The NGO's case desk submits, may see who read what it submitted, and erase it.
            submitter = await _cli(env, "admin", "client", "create", "--partner", kg["id"],
                                   "--name", "case desk", "--role", "reader", "--scope",
                                   "reports:submit", "--scope", "reports:read", "--scope",
                                   "reports:manage", *admin)  # fmt: skip
            policy = tmp / "bar-lawyers.json"
            policy.write_text(json.dumps({"partner": bar["id"], "role": "lawyer", "grants": [{
                "id": "alerts", "from": ["*"], "incident_types": ["detention"],
                "countries": ["*"], "legal_bases": ["*"], "max_tlp": "AMBER",
                "fields": ["incident_type", "occurred_at", "place.country", "narrative"]}]}))  # fmt: skip
            await _cli(env, "admin", "policy", "set", str(policy), *admin)
            contacts = await _cli(env, "alerts", "contacts", "set", "--webhook-url", hook.url,
                                  *lawyer)  # fmt: skip
            (primary,) = contacts["contacts"]
            hook.secret = contacts["new_secrets"][primary["id"]]
            await _cli(env, "watchlist", "add", "--name", LATIN, "--dob", DOB, "--label",
                       "client 7", *lawyer)  # fmt: skip

            context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            seen: list[str] = []
            page = await recorded_page(context, seen)
            world = Ngo(env, admin, hook, page, urls["console"], seen)

            def on_request(request: Request) -> None:
                if request.post_data:
                    world.bodies.append(request.post_data)

            page.on("request", on_request)
            await enrol_confirmed(env, admin, page, submitter["id"], "case desk laptop")
            await page.get_by_role("link", name="Continue").click()
            yield world
            await context.close()


async def _fill(page: Page) -> None:
    await page.get_by_label("Full name, in any script or spelling").fill(NAME)
    await page.get_by_label("Date of birth (optional)").fill(DOB)
    await page.get_by_label("Incident", exact=True).select_option("detention")
    await page.get_by_label("Legal basis").select_option("cis_interstate_search")
    await page.get_by_label("Country", exact=True).fill("XX")  # not a country: refused
    await page.get_by_label("Place", exact=True).fill("Bishkek")
    await page.get_by_label("Facility").select_option("airport")
    await page.get_by_label("Requesting state").fill("RU")
    await page.get_by_role("button", name="Add a charge").click()
    await page.get_by_label("Article").fill("207.3")
    await page.get_by_label("What happened", exact=True).fill(HOSTILE)


async def test_the_ngo_lands_on_the_form_and_a_refused_field_is_shown_beside_it(ngo: Ngo) -> None:
    page = ngo.page
    await expect(page.get_by_role("heading", name="New report", level=1)).to_be_visible()
    nav = page.get_by_role("navigation")
    await expect(nav.get_by_role("link", name="New report")).to_be_visible()
    await expect(nav.get_by_role("link", name="Alerts")).to_have_count(0)
    await _fill(page)
    await page.get_by_role("button", name="Submit the report").click()
    refused = page.locator('[data-field="place.country"]')
    await expect(refused).to_contain_text("Not accepted")
    await expect(page.get_by_label("Country", exact=True)).to_have_attribute("aria-invalid", "true")
    # Nothing typed is lost.
    await expect(page.get_by_label("Full name, in any script or spelling")).to_have_value(NAME)
    await expect(page.get_by_label("Article")).to_have_value("207.3")
    await refused.scroll_into_view_if_needed()
    await screenshot(page, "report-refused-desktop-en")
    assert not ngo.hook.alerts("alert.created")


async def test_the_report_is_submitted_its_receipt_shown_and_the_lawyer_alerted(ngo: Ngo) -> None:
    page = ngo.page
    await page.get_by_label("Country", exact=True).fill("KG")
    started = time.monotonic()
    await page.get_by_role("button", name="Submit the report").click()
    await expect(page.get_by_text("The report was received.")).to_be_visible()
    report_id = await page.locator(".issued .report-id").inner_text()
    assert report_id
    await expect(page.locator(".issued .receipt-status")).to_have_attribute(
        "data-status", "stored", timeout=15_000
    )
    await screenshot(page, "report-receipt-desktop-en")
    # The form is empty again: the name is forgotten once the report is in.
    await expect(page.get_by_label("Full name, in any script or spelling")).to_have_value("")

    while not ngo.hook.alerts("alert.created"):
        assert time.monotonic() - started < ALERT_WITHIN_S, "no alert reached the lawyer"
        await asyncio.sleep(0.2)
    (hit,) = ngo.hook.alerts("alert.created")
    assert hit.payload["data"]["label"] == "client 7"
    assert hit.payload["data"]["report_id"] == report_id

    # Only tokens left the browser: neither the name (in any form) nor the date of birth.
    sent = "\n".join(ngo.bodies)
    refused, report = [json.loads(b) for b in ngo.bodies if '"client_report_id"' in b]
    # The corrected form is the same report: resubmitting it could never store it twice.
    assert refused["client_report_id"] == report["client_report_id"]
    assert report["subject"]["tokens"] and report["place"]["country"] == "KG"
    assert report["charges"] == [{"state": "RU", "code": "CC", "article": "207.3"}]
    for secret in (NAME, "Скорякин", "Skoryakin", "skoryakin", DOB, "14.03.1999"):
        assert secret not in sent, secret
    assert "\\u0421\\u043a" not in sent  # nor the name escaped

    await page.get_by_role("link", name="Your submissions").first.click()
    item = page.locator("ul.submissions li")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text(report_id)
    await expect(item.locator(".receipt-status")).to_have_attribute("data-status", "stored")
    await item.get_by_text("Who read it").click()
    await expect(item.get_by_text("Nobody has read it yet.")).to_be_visible()
    # Erasing asks first (the confirmation is accepted here), then the key is gone.
    await item.get_by_role("button", name="Erase this report…").click()
    await expect(item.get_by_text("Erased: nobody can read it any more.")).to_be_visible()
    assert "dialog:confirm" in ngo.seen


async def test_the_form_at_360_px_in_russian_passes_axe_and_hostile_text_stays_text(
    ngo: Ngo,
) -> None:
    page = ngo.page
    await page.set_viewport_size({"width": 360, "height": 800})
    await page.goto(f"{ngo.console}/reports/new")
    await page.locator("#language").select_option("ru")
    await expect(
        page.get_by_role("heading", name="Новое сообщение об инциденте", level=1)  # noqa: RUF001
    ).to_be_visible()
    await expect(page.get_by_text("Где это произошло")).to_be_visible()
    wide = await page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > 361)
            .map((e) => e.tagName + "." + e.className + "#" + e.id)"""
    )
    assert not wide, wide
    assert not await axe_findings(page)
    await screenshot(page, "report-phone-ru")
    await page.locator("#language").select_option("en")
    assert await page.evaluate("window.pwned") is None
    assert not browser_faults(ngo.seen)
    origin = ngo.console.rstrip("/")
    assert all(u.startswith(origin) or u.startswith("data:") for u in ngo.seen if "://" in u)
