"""Administration in headless Chromium, on the network as `lifeline up` starts it.

In file order: the operator, set up with the CLI (`lifeline admin init`), enrols a browser and
lands on administration; onboards a partner and a lawyer in it — partner, contact line, client,
enrolment code — while the lawyer's browser enrols with that link and signs in once the operator
has typed the fingerprint it shows; the CLI sees the same state. A hostile partner name stays
text; revoking the lawyer's device in the browser refuses the lawyer's page on reload.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.console.conftest import (
    HOSTILE_LABEL,
    axe_findings,
    browser_faults,
    cli_env,
    enrol_confirmed,
    enrol_device,
    recorded_page,
    screenshot,
)
from tests.support.browser import chromium
from tests.support.cli import run_cli
from tests.support.network import RunningNetwork, lifeline_up

PARTNER = "Tbilisi Bar Association"
CONTACT = "Duty desk: +995 32 200 00 00 (Signal, 24/7)"
LAWYER = "Nino Beridze"
# A partner's name is typed by whoever registers it: it must be shown as text, never run.
HOSTILE_PARTNER = HOSTILE_LABEL.replace("label", "partner")
RU = json.loads((Path(__file__).parents[3] / "services/console/web/src/i18n/ru.json").read_text())


@dataclass
class Office:
    """The network, the operator's CLI profile and the operator's enrolled browser."""

    net: RunningNetwork
    env: dict[str, str]
    admin: list[str]
    browser: Browser
    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    lawyer_page: Page | None = None

    @property
    def console(self) -> str:
        """The console's origin."""
        return self.net.urls["console"]

    async def cli(self, *args: str) -> Any:
        """Run the CLI as the operator."""
        return await run_cli(self.env, *args, *self.admin)


@pytest.fixture(scope="module")
async def office(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Office]:
    """The network with its first operator, whose browser is enrolled and confirmed (by the
    CLI key `admin init` made: the one way in before any browser is)."""
    tmp = tmp_path_factory.mktemp("console-admin")
    env = cli_env(tmp)
    admin = ["--profile", str(tmp / "operator.json")]
    async with chromium() as browser:
        with lifeline_up(tmp) as net:
            made = await run_cli(env, "admin", "init", "--sharing-url", net.urls["sharing"],
                                 "--data-dir", str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            operator_id = made["client"]["id"]
            context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            await context.grant_permissions(["clipboard-read", "clipboard-write"])
            seen: list[str] = []
            page = await recorded_page(context, seen)
            office = Office(net, env, admin, browser, context, page, seen)
            await enrol_confirmed(env, admin, page, operator_id, "operator's laptop")
            office.ids["operator"] = operator_id
            yield office
            await context.close()


async def test_the_operator_lands_on_administration(office: Office) -> None:
    page = office.page
    await page.get_by_role("link", name="Continue").click()
    await expect(page.get_by_role("heading", name="Partners", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Administration")).to_be_visible()
    # An operator has no alerts inbox; their settings are this device's. Sharing lets an
    # operator decide release requests too (`docs/policies.md`).
    await expect(nav.get_by_role("link")).to_have_text(
        ["Administration", "Release requests", "Settings"]
    )
    await expect(page.locator("li[data-partner-id]")).to_have_count(1)  # the operator's own


async def test_onboarding_a_partner_and_a_lawyer_end_to_end(office: Office) -> None:
    started = time.monotonic()
    page = office.page
    await page.get_by_label("Partner's name").fill(PARTNER)
    await page.get_by_role("button", name="Create the partner").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(PARTNER)
    partner_id = page.url.rsplit("/", 1)[1]
    await page.get_by_label("Contact line").fill(CONTACT)
    await page.get_by_role("button", name="Save the contact line").click()
    await expect(page.get_by_role("status").filter(has_text="Contact line saved.")).to_be_visible()

    await page.get_by_label("Client's name (a person or a program)").fill(LAWYER)
    await expect(page.get_by_label("Role")).to_have_value("lawyer")
    await expect(page.get_by_label("see alerts")).to_be_checked()
    # Only the operator's own organisation has operators.
    await expect(page.get_by_label("Role").locator('option[value="operator"]')).to_have_count(0)
    await page.get_by_role("button", name="Create the client").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(LAWYER)
    client_id = page.url.rsplit("/", 1)[1]
    await page.get_by_role("button", name="Make an enrolment code").click()
    link = await page.locator("[data-enrolment-link]").inner_text()
    await expect(page.get_by_role("img", name="The link as a QR code")).to_be_visible()
    assert link.startswith(f"{office.console}/enrol#code=")
    await page.get_by_role("button", name="Copy the link").click()
    await expect(page.get_by_text("Copied.")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == link

    # The lawyer opens the link on their own device.
    lawyer = await office.browser.new_context(locale="en-GB")
    office.lawyer_page = await recorded_page(lawyer, office.requests)
    fingerprint = await enrol_device(office.lawyer_page, link, "Nino's phone")

    # The operator sees the device arrive (the list polls) and types what the phone shows.
    device = page.locator("li[data-kid]", has_text="Nino's phone")
    await expect(device).to_have_attribute("data-status", "pending")
    # Not shown until confirmed: it is read off the device, never copied from this page.
    await expect(device).not_to_contain_text(fingerprint)
    await expect(page.locator("li[data-enrolment-id]")).to_contain_text("Used")
    typed = device.get_by_label("Fingerprint shown on the device")
    # A slip of the finger is caught before it reaches sharing (which would revoke the key).
    await typed.fill(fingerprint[:-1] + ("0" if fingerprint[-1] != "0" else "1"))
    await device.get_by_role("button", name="Confirm this device").click()
    await expect(device.get_by_role("alert")).to_contain_text("not the fingerprint")
    await screenshot(page, "admin-client-desktop-en")
    await expect(device).to_have_attribute("data-status", "pending")
    await typed.fill(fingerprint.upper())
    await device.get_by_role("button", name="Confirm this device").click()
    confirmed = page.get_by_role("status").filter(has_text="Device confirmed: it can sign in now.")
    await expect(confirmed).to_be_visible()
    await expect(device).to_have_attribute("data-status", "active")
    await expect(device).to_contain_text(fingerprint)

    await office.lawyer_page.get_by_role("link", name="Continue").click()
    await expect(office.lawyer_page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    office.ids.update(partner=partner_id, client=client_id)

    # The command line sees what the browser did.
    shown = await office.cli("admin", "partner", "show", partner_id)
    assert (shown["name"], shown["status"], shown["lawyer_contact"]) == (PARTNER, "active", CONTACT)
    (client,) = await office.cli("admin", "client", "list", "--partner", partner_id)
    assert (client["id"], client["name"], client["role"]) == (client_id, LAWYER, "lawyer")
    assert client["scopes"] == sorted(["alerts:ack", "alerts:read", "reports:read",
                                       "watchlist:manage"])  # fmt: skip
    (key,) = await office.cli("admin", "key", "list", client_id)
    assert (key["device_name"], key["status"]) == ("Nino's phone", "active")
    assert key["fingerprint"] == fingerprint
    (enrolment,) = await office.cli("admin", "enrolments", client_id)
    assert (enrolment["status"], enrolment["kid"]) == ("used", key["kid"])
    assert time.monotonic() - started < 30


async def test_administration_is_usable_360_px_wide_and_accessible(office: Office) -> None:
    page = office.page
    await page.set_viewport_size({"width": 360, "height": 740})
    findings: dict[str, list[str]] = {}
    for lang in ("en", "ru"):
        for name, path, ready in (
            ("partners", "/admin/partners", "li[data-partner-id]"),
            ("partner", f"/admin/partners/{office.ids['partner']}", "li[data-client-id]"),
            ("client", f"/admin/clients/{office.ids['client']}", "li[data-kid]"),
        ):
            await page.goto(office.console + path)
            await page.locator("#language").select_option(lang)
            await page.locator(ready).first.wait_for()
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 360, (lang, name, wide)
            findings[f"{lang} {name}"] = await axe_findings(page)
            if name == "partner":
                await screenshot(page, f"admin-partner-phone-{lang}")
    await expect(page.get_by_role("button", name=RU["admin.key_revoke"])).to_be_visible()
    await page.locator("#language").select_option("en")
    await page.set_viewport_size({"width": 1280, "height": 900})
    assert not any(findings.values()), findings


async def test_an_operators_settings_are_this_device(office: Office) -> None:
    page = office.page
    await page.get_by_role("navigation").get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="This device")).to_be_visible()
    await expect(page.get_by_text("operator's laptop")).to_be_visible()
    # No lawyer's sections: nothing there is an operator's, so nothing was refused either.
    await expect(page.get_by_role("heading", level=2)).to_have_count(1)
    await expect(page.get_by_role("alert")).to_have_count(0)


async def test_a_hostile_partner_name_stays_text_and_a_partner_is_disabled(office: Office) -> None:
    page = office.page
    await page.goto(f"{office.console}/admin/partners")
    await page.get_by_label("Partner's name").fill(HOSTILE_PARTNER)
    await page.get_by_role("button", name="Create the partner").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_PARTNER)
    hostile_id = page.url.rsplit("/", 1)[1]
    await page.get_by_role("link", name="All partners").click()
    await expect(page.locator(f'li[data-partner-id="{hostile_id}"]')).to_contain_text(
        HOSTILE_PARTNER
    )
    assert await page.evaluate("window.pwned") is None
    # Disabling asks first (the page's confirmation is accepted), then says so.
    await page.locator(f'li[data-partner-id="{hostile_id}"]').get_by_role("link").click()
    await page.get_by_role("button", name="Disable this partner").click()
    await expect(page.get_by_text("disabled", exact=True)).to_be_visible()
    assert "dialog:confirm" in office.requests
    assert (await office.cli("admin", "partner", "show", hostile_id))["status"] == "disabled"


async def test_revoking_the_lawyers_device_refuses_the_lawyers_page(office: Office) -> None:
    assert office.lawyer_page is not None
    page = office.page
    await page.goto(f"{office.console}/admin/clients/{office.ids['client']}")
    device = page.locator("li[data-kid]", has_text="Nino's phone")
    await device.get_by_role("button", name="Revoke this device").click()
    await expect(device).to_have_attribute("data-status", "revoked")
    await office.lawyer_page.reload()
    await expect(
        office.lawyer_page.get_by_role("heading", name="This device is no longer allowed")
    ).to_be_visible()
    (key,) = await office.cli("admin", "key", "list", office.ids["client"])
    assert key["status"] == "revoked"
    # The client itself stays: another device may still be enrolled for it.
    (client,) = await office.cli("admin", "client", "list", "--partner", office.ids["partner"])
    assert client["status"] == "active"


async def test_a_partner_administrator_manages_only_their_own_partner(office: Office) -> None:
    page = office.page
    await page.goto(f"{office.console}/admin/partners/{office.ids['partner']}")
    await page.get_by_label("Client's name (a person or a program)").fill("Bar office")
    await page.get_by_label("Role").select_option("partner_admin")
    await expect(page.get_by_label("manage the partner's clients")).to_be_checked()
    await page.get_by_role("button", name="Create the client").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bar office")
    await page.get_by_role("button", name="Make an enrolment code").click()
    link = await page.locator("[data-enrolment-link]").inner_text()
    desk = await office.browser.new_context(locale="en-GB")
    theirs = await recorded_page(desk, office.requests)
    # The first key to arrive is not the one the desk shows (say the code leaked): the
    # operator refuses it, and sharing revokes it.
    await enrol_device(theirs, link, "office desktop")
    device = page.locator("li[data-kid][data-status=pending]", has_text="office desktop")
    await device.get_by_label("Fingerprint shown on the device").fill("0000 " * 15 + "0000")
    await device.get_by_role("button", name="Confirm this device").click()
    await device.get_by_role("button", name="The device shows exactly this: refuse the key").click()
    refused = page.get_by_role("status").filter(has_text="so that key was revoked")
    await expect(refused).to_be_visible()
    await expect(page.locator("li[data-kid][data-status=revoked]")).to_have_count(1)
    # A new code, a new key, the right fingerprint.
    await page.get_by_role("button", name="Make an enrolment code").click()
    await expect(page.locator("[data-enrolment-link]")).not_to_have_text(link)
    link = await page.locator("[data-enrolment-link]").inner_text()
    await theirs.close()
    theirs = await recorded_page(desk, office.requests)
    fingerprint = await enrol_device(theirs, link, "office desktop")
    await device.get_by_label("Fingerprint shown on the device").fill(fingerprint)
    await device.get_by_role("button", name="Confirm this device").click()
    await expect(page.locator("li[data-kid][data-status=active]")).to_contain_text(fingerprint)

    # Their console opens on their own partner (in Russian, chosen once and remembered), with
    # its clients; no list of partners, no alerts.
    await theirs.locator("#language").select_option("ru")
    await theirs.goto(office.console + "/")
    await expect(
        theirs.get_by_role("heading", name=RU["admin.your_organisation"], level=1)
    ).to_be_visible()
    await expect(theirs.locator("li[data-client-id]")).to_have_count(2)
    nav = theirs.get_by_role("navigation")
    await expect(nav.get_by_role("link")).to_have_text([RU["nav.admin"], RU["nav.settings"]])
    await expect(theirs.get_by_role("link", name=RU["admin.back_partners"])).to_have_count(0)
    await expect(
        theirs.get_by_label(RU["admin.role"]).locator('option[value="operator"]')
    ).to_have_count(0)
    # The operator's partner list is not theirs: the server refuses, the page says so.
    await theirs.goto(office.console + "/admin/partners")
    await expect(theirs.get_by_role("alert")).to_have_text(RU["error.forbidden"])
    await desk.close()


async def test_nothing_leaves_the_origin_and_the_browser_refused_nothing(office: Office) -> None:
    origin = urlsplit(office.console)
    urls = [u for u in office.requests if u.startswith("http")]
    foreign = [u for u in urls if urlsplit(u)[:2] != origin[:2]]
    assert urls and not foreign, foreign
    faults = browser_faults(office.requests)
    assert not faults, faults
