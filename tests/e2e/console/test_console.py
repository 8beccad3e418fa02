"""The lawyer's console in headless Chromium, on the network as `lifeline up` starts it.

In file order, as one lawyer's morning: enrol the phone with a one-time code (the operator
confirms the fingerprint the page shows), see the alert arrive by itself after an NGO reports,
read what the bar's policy allows (and see what it withholds), call the reporting partner,
acknowledge, resolve, test a contact, switch to Russian, use it 360 px wide. Throughout: hostile
text stays text, and the page asks nothing of any other origin.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from urllib.parse import urlsplit

from playwright.async_api import expect

from services.alerts.alerts.domain import EscalationPolicy
from tests.e2e.console.conftest import (
    CONTACT_LINE,
    HOSTILE_LABEL,
    HOSTILE_NARRATIVE,
    MINUTE,
    WITHHELD_AUTHORITY,
    World,
    axe_findings,
    browser_faults,
    recorded_page,
)

LIVE_WITHIN_S = 5.0  # the bar: a new alert shows within 5 s
ESCALATE_AFTER_MIN = EscalationPolicy().escalate_after_min


async def test_a_device_enrols_with_a_code_and_signs_in_once_its_fingerprint_is_confirmed(
    world: World,
) -> None:
    started = time.monotonic()
    issued = await world.cli("admin", "enrol", world.lawyer_id, *world.admin)
    assert issued["link"].startswith(f"{world.console}/enrol#code=")
    page = world.page
    await page.goto(issued["link"])
    # The code leaves the address bar at once (it is a credential until used).
    await expect(page.get_by_label("Enrolment code or link")).to_have_value(issued["code"])
    assert "code=" not in page.url
    await page.get_by_label("Name of this device").fill("Nino's phone")
    await page.get_by_role("button", name="Enrol this device").click()
    shown = page.get_by_label("Key fingerprint")
    await expect(shown).to_have_text(re.compile(r"^([0-9a-f]{4} ){15}[0-9a-f]{4}$"))
    fingerprint = await shown.inner_text()
    await world.screenshot(page, "enrol-fingerprint-desktop-en")

    # The operator reads the fingerprint off the phone and confirms it.
    (enrolment,) = await world.cli("admin", "enrolments", world.lawyer_id, *world.admin)
    assert enrolment["status"] == "used"
    confirmed = await world.cli("admin", "key", "confirm", enrolment["kid"], "--fingerprint",
                                fingerprint, *world.admin)  # fmt: skip
    assert confirmed["status"] == "active"
    await page.get_by_role("link", name="Continue").click()
    await expect(page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    world.timings["enrol_and_sign_in_s"] = time.monotonic() - started

    # The private key is in IndexedDB as a non-extractable CryptoKey; no token is stored.
    stored = await page.evaluate(
        """() => new Promise((done) => {
            const open = indexedDB.open("lifeline-console");
            open.onsuccess = () => {
                const get = open.result.transaction("device").objectStore("device").get("current");
                get.onsuccess = () => done({
                    extractable: get.result.keys.privateKey.extractable,
                    type: get.result.keys.privateKey.type,
                    local: JSON.stringify(localStorage),
                    session: JSON.stringify(sessionStorage),
                });
            };
        })"""
    )
    assert stored["extractable"] is False and stored["type"] == "private"
    assert "ey" not in stored["local"] + stored["session"]  # no JWT (they start with "ey")


async def test_an_alert_appears_by_itself_and_shows_what_the_policy_allows(world: World) -> None:
    page = world.page
    await expect(page.get_by_text("No open alerts")).to_be_visible()
    (report,) = await world.cli("report", "template", json_flag=False)
    report["narrative"] = HOSTILE_NARRATIVE
    report["detaining_authority"] = WITHHELD_AUTHORITY
    report["place"]["locality"] = "Bishkek"
    reports = world.tmp / "reports.json"
    reports.write_text(json.dumps([report]))
    submitted_at = time.monotonic()
    submitted = await world.cli("report", "submit", str(reports), *world.ngo)
    assert submitted["accepted"] == 1, submitted

    item = page.locator("li.alert")
    await expect(item).to_have_count(1, timeout=LIVE_WITHIN_S * 1000)
    world.timings["submit_to_inbox_s"] = time.monotonic() - submitted_at
    assert world.timings["submit_to_inbox_s"] < LIVE_WITHIN_S
    await expect(item).to_contain_text(HOSTILE_LABEL)  # the label as text, tags and all
    await expect(item).to_contain_text("Detention · CIS interstate search · KG")
    await world.screenshot(page, "inbox-desktop-en")

    await item.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_LABEL)
    await expect(page.get_by_text(CONTACT_LINE)).to_be_visible()
    report_section = page.locator("section.report")
    await expect(report_section).to_contain_text("Bishkek")
    await expect(report_section).to_contain_text("RU CC")
    # Who holds the person is in the report, but not for the bar's lawyers: shown as withheld.
    withheld = page.locator('[data-withheld="detaining_authority"]')
    await expect(withheld).to_have_text("Withheld by policy")
    assert "Erlan" not in await page.content()
    # The narrative, tags and direction overrides included, is shown as the text it is.
    await expect(report_section).to_contain_text(HOSTILE_NARRATIVE)
    await world.screenshot(page, "alert-desktop-en")


async def test_the_link_in_an_alert_opens_it_in_the_console(world: World) -> None:
    (hit,) = world.hook.alerts("alert.created")
    link = hit.payload["data"]["alert_url"]
    assert link == f"{world.console}/alerts/{hit.payload['data']['alert_id']}"
    # The lawyer's enrolled browser signs in by itself and shows the alert.
    await world.page.goto(link)
    await expect(world.page.get_by_role("heading", level=1)).to_have_text(HOSTILE_LABEL)


async def test_one_tap_acknowledges_and_escalation_stops(world: World) -> None:
    page = world.page
    # By keyboard: the button takes focus and Enter presses it, in one step (a separate
    # focus() then keyboard.press() once lost the key on a loaded machine).
    button = page.get_by_role("button", name="I'm on it — acknowledge")
    await expect(button).to_be_enabled()
    await button.press("Enter")
    await expect(page.get_by_role("status").filter(has_text="Acknowledged.")).to_be_visible(
        timeout=15_000
    )
    await expect(page.locator(".status")).to_have_text("Acknowledged")
    (paged,) = world.hook.alerts("alert.created")
    # Past the organisation's N (the default 10 "minutes" of MINUTE s each) after the first
    # page: nobody re-paged.
    assert time.monotonic() < paged.at + (ESCALATE_AFTER_MIN - 2) * MINUTE, "acked too late"
    quiet_until = paged.at + (ESCALATE_AFTER_MIN + 1) * MINUTE
    await asyncio.sleep(quiet_until - time.monotonic())
    assert world.hook.alerts("alert.escalated") == []


async def test_resolving_records_the_outcome_and_the_note(world: World) -> None:
    page = world.page
    await page.get_by_label("Outcome").select_option("released")
    await page.get_by_label("Note (optional").fill("Released at 14:10 after the hearing")
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.get_by_text("Resolved as “Released”")).to_be_visible()
    await expect(page.locator(".status")).to_have_text("Resolved")
    (resolved,) = await world.cli("alerts", "list", "--status", "resolved", *world.lawyer)
    assert resolved["resolution"]["outcome"] == "released"


async def test_a_second_device_enrols_from_the_link_and_is_revoked_alone(world: World) -> None:
    (hit,) = world.hook.alerts("alert.created")
    link = hit.payload["data"]["alert_url"]
    # Another device opening the link is asked to sign in (never shown JSON) …
    laptop = await world.browser.new_context(locale="en-GB")
    page = await recorded_page(laptop, world.requests)
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    # … enrols with a code of its own, and once confirmed goes on to that alert.
    issued = await world.cli("admin", "enrol", world.lawyer_id, *world.admin)
    await page.get_by_role("link", name="I have an enrolment code").click()
    await page.get_by_label("Enrolment code or link").fill(issued["link"])
    await page.get_by_label("Name of this device").fill("office laptop")
    await page.get_by_role("button", name="Enrol this device").click()
    fingerprint = await page.get_by_label("Key fingerprint").inner_text()
    enrolments = await world.cli("admin", "enrolments", world.lawyer_id, *world.admin)
    kid = next(e["kid"] for e in enrolments if e["id"] == issued["id"])
    await world.cli("admin", "key", "confirm", kid, "--fingerprint", fingerprint, *world.admin)
    await page.get_by_role("link", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_LABEL)
    # Revoking the laptop's key stops the laptop, not the phone.
    await world.cli("admin", "key", "revoke", kid, *world.admin)
    await page.reload()
    await expect(
        page.get_by_role("heading", name="This device is no longer allowed")
    ).to_be_visible()
    await world.page.reload()
    await expect(world.page.get_by_role("heading", level=1)).to_have_text(HOSTILE_LABEL)
    await laptop.close()


async def test_a_test_alert_reaches_the_contact(world: World) -> None:
    page = world.page
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    before = len(world.hook.hits)
    await page.get_by_role("button", name="Send a test alert").click()
    await expect(page.get_by_text("Test alert delivered.")).to_be_visible()
    assert len(world.hook.hits) == before + 1
    assert world.hook.hits[-1].payload["type"] == "alert.test"
    await expect(page.locator("li[data-entry-id]")).to_contain_text(HOSTILE_LABEL)
    await world.screenshot(page, "settings-desktop-en")


async def test_a_signal_or_ntfy_contact_is_chosen_shown_and_removed(world: World) -> None:
    page = world.page
    await page.goto(world.console + "/settings")
    await page.get_by_text("Add a contact").click()
    form = page.locator("details.add:has(#channel-carries)")
    await form.get_by_label("Channel").select_option("signal")
    # What the channel may carry is said before anything is typed.
    await expect(form).to_contain_text("End-to-end encrypted: every detail")
    await form.get_by_label("Signal: phone number").fill("+4915112345678")
    await form.get_by_label("Role").select_option("backup")
    await form.get_by_role("button", name="Save contact").click()
    card = page.locator("li[data-contact-id]", has_text="+4915112345678")
    await expect(card).to_contain_text("Signal")
    # Nothing was sent to it yet: its health says so (alerts' contact health).
    await expect(card.locator("[data-health]")).to_have_text("Status: not used yet")
    await form.get_by_label("Channel").select_option("ntfy")
    await expect(form.get_by_label("Access token of the topic")).to_have_attribute(
        "type", "password"
    )
    await page.set_viewport_size({"width": 360, "height": 740})
    findings = {"en": await axe_findings(page)}
    await page.locator("#language").select_option("ru")
    await expect(form).to_contain_text("кнопка «Подтвердить»")
    findings["ru"] = await axe_findings(page)
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    await world.screenshot(page, "contacts-ntfy-phone-ru")
    await page.locator("#language").select_option("en")
    await page.set_viewport_size({"width": 1280, "height": 900})
    assert not any(findings.values()), findings
    assert width <= 360
    await card.get_by_role("button", name="Remove").click()
    await expect(card).to_have_count(0)


async def test_the_console_speaks_russian(world: World) -> None:
    page = world.page
    await page.get_by_label("Language", exact=True).select_option("ru")
    await expect(page.get_by_role("heading", name="Настройки", level=1)).to_be_visible()
    await page.get_by_role("link", name="Оповещения").click()
    await page.get_by_role("button", name="Закрытые").click()
    await expect(page.locator("li.alert")).to_contain_text("Задержание")
    await world.screenshot(page, "inbox-desktop-ru")
    await page.locator("li.alert a").click()
    await expect(page.locator('[data-withheld="detaining_authority"]')).to_have_text(
        "Скрыто политикой доступа"
    )
    await world.screenshot(page, "alert-desktop-ru")
    # A browser that prefers Russian starts in Russian.
    context = await world.browser.new_context(locale="ru-RU")
    fresh = await context.new_page()
    await fresh.goto(world.console)
    await expect(fresh.get_by_role("heading", name="Вход")).to_be_visible()
    await context.close()
    await page.get_by_label("Язык", exact=True).select_option("en")


async def test_a_phone_360_px_wide_reads_the_alert_without_scrolling_sideways(
    world: World,
) -> None:
    page = world.page
    await page.set_viewport_size({"width": 360, "height": 740})
    for lang, heading in (("en", "Alerts"), ("ru", "Оповещения")):
        await page.locator("#language").select_option(lang)
        await page.get_by_role("link", name=heading).first.click()
        await page.get_by_role("button", name="Resolved" if lang == "en" else "Закрытые").click()
        await page.locator("li.alert a").click()
        await expect(page.locator(".contact-line")).to_be_visible()
        width = await page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 360, f"{lang}: the page is {width} px wide"
        await world.screenshot(page, f"alert-phone-{lang}")
    await page.locator("#language").select_option("en")
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_every_view_passes_an_accessibility_audit_at_phone_width(world: World) -> None:
    page = world.page
    await page.set_viewport_size({"width": 360, "height": 740})
    (hit,) = world.hook.alerts("alert.created")
    views = {
        "inbox": (world.console + "/", ".tabs"),
        "alert": (hit.payload["data"]["alert_url"], "section.report dl"),
        "settings": (world.console + "/settings", "li[data-entry-id]"),
    }
    findings: dict[str, list[str]] = {}
    for lang in ("en", "ru"):
        for name, (url, ready) in views.items():
            await page.goto(url)
            await page.locator("#language").select_option(lang)
            await page.locator(ready).first.wait_for()
            findings[f"{lang} {name}"] = await axe_findings(page)
    stranger = await world.browser.new_context(locale="ru-RU")
    enrol = await stranger.new_page()
    await enrol.goto(world.console + "/enrol")
    findings["ru enrol"] = await axe_findings(enrol)
    await stranger.close()
    await page.locator("#language").select_option("en")
    await page.set_viewport_size({"width": 1280, "height": 900})
    assert not any(findings.values()), findings


async def test_the_api_documents_are_served_by_the_console(world: World) -> None:
    page = world.page
    await page.goto(f"{world.console}/docs/alerts")
    await expect(page.get_by_text("/v1/alerts/{alert_id}/ack").first).to_be_visible()
    await page.goto(f"{world.console}/docs")
    await expect(page.get_by_role("link", name="Lifeline sharing API")).to_be_visible()


async def test_a_client_added_in_the_browser_is_matched_and_its_name_never_leaves(
    world: World,
) -> None:
    page = world.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.url} {r.post_data or ''}"))
    await page.goto(world.console + "/settings")
    await page.get_by_text("Add a client").click()
    await page.get_by_label("Your label for this client").fill("client 31")
    await page.get_by_label("Full name, in any script or spelling").fill("Дмитрий Ковальчук")
    await page.get_by_label("Date of birth (optional)").fill("02.05.1988")
    await page.get_by_role("button", name="Add to watchlist").click()
    await expect(page.get_by_text("“client 31” is on your watchlist.")).to_be_visible()
    await expect(page.locator("li[data-entry-id]").first).to_contain_text("client 31")
    # Only tokens went out: neither the name (in any spelling) nor the date of birth.
    posted = " ".join(sent)
    assert "/api/sharing/v1/identity/evaluate" in posted
    for secret in ("Ковальчук", "%D0%9A", "Kovalchuk", "1988-05-02", "02.05.1988"):
        assert secret not in posted, secret
    # An NGO reports the same man in a Latin passport spelling: the lawyer is alerted.
    (report,) = await world.cli("report", "template", json_flag=False)
    report |= {"client_report_id": "kg-2026-0077",
               "person": {"name": "KOVALCHUK DMITRII", "dob": "1988-05-02"}}  # fmt: skip
    reports = world.tmp / "second.json"
    reports.write_text(json.dumps([report]))
    assert (await world.cli("report", "submit", str(reports), *world.ngo))["accepted"] == 1
    await page.get_by_role("link", name="Alerts").click()
    await expect(page.locator("li.alert", has_text="client 31")).to_be_visible(timeout=10_000)
    # A bad date is refused in the browser, in the lawyer's language, before anything is sent.
    await page.goto(world.console + "/settings")
    await page.get_by_text("Add a client").click()
    await page.get_by_label("Your label for this client").fill("client 32")
    await page.get_by_label("Full name, in any script or spelling").fill("Olga Ivanova")
    await page.get_by_label("Date of birth (optional)").fill("31.02.1990")
    await page.get_by_role("button", name="Add to watchlist").click()
    await expect(page.get_by_role("alert")).to_have_text("That date does not exist.")


async def test_hostile_text_never_runs_and_nothing_leaves_the_origin(world: World) -> None:
    assert await world.page.evaluate("window.pwned") is None
    origin = urlsplit(world.console)
    urls = [u for u in world.requests if u.startswith("http")]
    assert len(urls) > 20
    foreign = [u for u in urls if urlsplit(u)[:2] != origin[:2]]
    assert not foreign, foreign
    # No dialog but the console's own confirmations, and nothing the browser refused.
    faults = browser_faults(world.requests)
    assert not faults, faults
