"""Seizure response, two-person approval and the vault's keys in headless Chromium, on a network
of their own where lifting a seizure needs a second operator.

In file order: the operator seizes a lawyer's client from its page — the button stays disabled
until the client's name is typed exactly — and the lawyer's signed-in page is refused at once;
the seizure is listed with what it took. Lifting it waits for a second operator: the operator
who asked sees no button for their own request, a second operator (another browser) sees it
arrive in the queue without reloading, approves, and the seizure is lifted (the CLI and the
audit log agree). The key status page shows what `lifeline admin keys list` shows, and after a
report is stored, rotating the KEK and rewrapping in the browser moves its data key to the new
primary version.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

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
from tests.support.network import RunningNetwork, lifeline_up

PARTNER = "Tbilisi Bar Association"
LAWYER = "Nino Beridze"
REASON = "Phone taken at the border crossing on 3 December"
GRANT = {
    "id": "detentions-kg-kz",
    "from": ["*"],
    "fields": ["incident_type", "place.country"],
    "incident_types": ["detention"],
    "countries": ["KG", "KZ"],
    "legal_bases": ["*"],
    "max_tlp": "AMBER",
}


@dataclass
class Watch:
    """The network, the first operator (CLI and browser), the lawyer's browser, and ids."""

    net: RunningNetwork
    env: dict[str, str]
    admin: list[str]
    browser: Browser
    page: Page
    lawyer_page: Page
    ids: dict[str, str]
    tmp: Path
    requests: list[str] = field(default_factory=list)
    second: Page | None = None

    @property
    def console(self) -> str:
        """The console's origin."""
        return self.net.urls["console"]

    async def cli(self, *args: str) -> Any:
        """Run the CLI as the first operator."""
        return await run_cli(self.env, *args, *self.admin)


@pytest.fixture(scope="module")
async def watch(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Watch]:
    """The first operator's browser, a bar with a lawyer (whose own browser the first test
    signs in), and a second operator client (enrolled by the test that needs it)."""
    tmp = tmp_path_factory.mktemp("console-security")
    env = cli_env(tmp)
    admin = ["--profile", str(tmp / "operator.json")]
    settings = {
        "LIFELINE_SHARING_APPROVAL_SEIZURE_LIFT": "true",
        "LIFELINE_SHARING_APPROVAL_POLICY_CHANGE": "true",
    }
    async with chromium() as browser:
        with lifeline_up(tmp, env=settings) as net:
            made = await run_cli(env, "admin", "init", "--sharing-url", net.urls["sharing"],
                                 "--data-dir", str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            operator_id, own = made["client"]["id"], made["partner"]["id"]
            bar = await run_cli(env, "admin", "partner", "create", PARTNER, *admin)
            scopes = [arg for scope in LAWYER_SCOPES for arg in ("--scope", scope)]
            lawyer = await run_cli(env, "admin", "client", "create", "--partner", bar["id"],
                                   "--name", LAWYER, "--role", "lawyer", *scopes, *admin)  # fmt: skip
            second = await run_cli(env, "admin", "client", "create", "--partner", own, "--name",
                                   "second operator", "--role", "operator", "--scope", "admin",
                                   *admin)  # fmt: skip
            seen: list[str] = []
            context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            page = await recorded_page(context, seen)
            await enrol_confirmed(env, admin, page, operator_id, "operator's laptop")
            await page.get_by_role("link", name="Continue").click()
            await expect(page.get_by_role("heading", name="Partners", level=1)).to_be_visible()
            phone = await browser.new_context(locale="en-GB")
            lawyer_page = await recorded_page(phone, seen)
            ids = {"operator": operator_id, "bar": bar["id"], "lawyer": lawyer["id"],
                   "second": second["id"]}  # fmt: skip
            yield Watch(net, env, admin, browser, page, lawyer_page, ids, tmp, seen)
            await phone.close()
            await context.close()


async def test_the_operator_seizes_a_lawyer_after_typing_its_name(watch: Watch) -> None:
    lawyer = watch.lawyer_page
    await enrol_confirmed(watch.env, watch.admin, lawyer, watch.ids["lawyer"], "Nino's phone")
    await lawyer.get_by_role("link", name="Continue").click()
    await expect(lawyer.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    page = watch.page
    await page.goto(f"{watch.console}/admin/clients/{watch.ids['lawyer']}")
    await page.get_by_role("button", name="Seize this client…").click()
    form = page.get_by_role("form", name="Seize this client")
    await expect(form).to_contain_text("revoked keys stay revoked")
    await expect(form).to_contain_text("every device key of this client is revoked")
    await expect(form).to_contain_text("the partner's other clients keep their access")
    seize = form.get_by_role("button", name="Seize now")
    await expect(seize).to_be_disabled()
    await form.get_by_label("Reason").fill(REASON)
    typed = form.get_by_label("To confirm, type the name or the id exactly")
    await typed.fill(LAWYER.lower())  # close is not enough
    await expect(seize).to_be_disabled()
    await typed.fill(LAWYER)
    await expect(seize).to_be_enabled()
    await screenshot(page, "security-seize-desktop-en")
    await seize.click()

    done = page.locator("section[data-seizure-id]")
    await expect(done.get_by_role("status")).to_contain_text("The client is cut off")
    await expect(done.locator('[data-taken="clients"]')).to_have_text("1")
    await expect(done.locator('[data-taken="client_keys"]')).to_have_text("1")
    seizure_id = str(await done.get_attribute("data-seizure-id"))
    watch.ids["seizure"] = seizure_id

    # The lawyer's device is refused at once, like a revoked one.
    await watch.lawyer_page.reload()
    await expect(
        watch.lawyer_page.get_by_role("heading", name="This device is no longer allowed")
    ).to_be_visible()

    sections = page.get_by_role("navigation", name="Administration sections")
    await sections.get_by_role("link", name="Seizures").click()
    listed = page.locator(f'li[data-seizure-id="{seizure_id}"]')
    await expect(listed).to_have_attribute("data-status", "active")
    await expect(listed).to_contain_text(f"Client {watch.ids['lawyer']}")
    await expect(listed).to_contain_text("Device keys: 1")
    await page.get_by_role("button", name="Lifted", exact=True).click()
    await expect(listed).to_have_count(0)
    await page.get_by_role("button", name="Active", exact=True).click()
    await expect(listed).to_have_count(1)

    (shown,) = await watch.cli("admin", "seizures", "list")
    assert (shown["id"], shown["status"], shown["target_id"]) == (
        seizure_id,
        "active",
        watch.ids["lawyer"],
    )
    assert shown["counts"]["client_keys"] == 1 and shown["reason"] == REASON


async def test_lifting_waits_for_a_second_operator_who_approves(watch: Watch) -> None:
    page, seizure_id = watch.page, watch.ids["seizure"]
    # The second operator's browser is open on the queue before anything is asked.
    desk = await watch.browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    second = await recorded_page(desk, watch.requests)
    watch.second = second
    await enrol_confirmed(watch.env, watch.admin, second, watch.ids["second"], "second desk")
    await second.goto(f"{watch.console}/admin/approvals")
    await expect(second.get_by_text("No requests.")).to_be_visible()

    await page.goto(f"{watch.console}/admin/seizures/{seizure_id}")
    await page.get_by_role("button", name="Lift this seizure").click()
    waiting = page.locator("[data-awaiting-approval]")
    await expect(waiting).to_contain_text("waits for a second operator")
    approval_id = str(await waiting.get_attribute("data-awaiting-approval"))
    assert re.fullmatch(r"apr_[0-9a-f]{16}", approval_id)
    watch.ids["approval"] = approval_id
    await expect(page.locator("[data-seizure-status]")).to_have_attribute(
        "data-seizure-status", "active"
    )
    await screenshot(page, "security-lift-waiting-desktop-en")
    # Its own request: said so, no buttons.
    await waiting.get_by_role("link", name=f"Open the approval request {approval_id}").click()
    mine = page.locator(f'[data-approval-id="{approval_id}"]')
    await expect(mine).to_have_attribute("data-status", "pending")
    await expect(mine.locator("[data-own-request]")).to_contain_text("your own request")
    await expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    await expect(page.get_by_role("button", name="Deny")).to_have_count(0)

    # The second operator's queue shows the request without a reload (it polls).
    theirs = second.locator(f'li[data-approval-id="{approval_id}"]')
    await expect(theirs).to_have_attribute("data-status", "pending")
    await expect(theirs).to_contain_text("Lifting a seizure")
    await expect(theirs).to_contain_text(watch.ids["operator"])
    await theirs.get_by_text("The exact request").click()
    await expect(theirs.locator("[data-approval-request]")).to_contain_text(seizure_id)
    await screenshot(second, "security-approvals-desktop-en")
    await theirs.get_by_role("button", name="Approve").click()
    await expect(theirs).to_have_attribute("data-status", "done")
    assert "dialog:confirm" in watch.requests

    # The first operator's page of the seizure shows it lifted (it polls too).
    await page.goto(f"{watch.console}/admin/seizures/{seizure_id}")
    await expect(page.locator("[data-seizure-status]")).to_have_attribute(
        "data-seizure-status", "lifted"
    )
    await expect(page.get_by_role("button", name="Lift this seizure")).to_have_count(0)
    await expect(page.get_by_role("link", name=approval_id)).to_be_visible()

    shown = await watch.cli("admin", "seizures", "show", seizure_id)
    assert (shown["status"], shown["lift_approval_id"]) == ("lifted", approval_id)
    decided = await watch.cli("admin", "approvals", "show", approval_id)
    assert (decided["status"], decided["decided_by"]) == ("done", watch.ids["second"])
    entries = await watch.cli("admin", "audit", "list", "--limit", "200")
    actions = {(e["action"], e["target"], e["actor"]) for e in entries}
    assert ("approval.approve", approval_id, watch.ids["second"]) in actions
    assert ("seizure.lift", seizure_id, watch.ids["operator"]) in actions


async def test_a_gated_policy_change_shows_the_same_waiting_note(watch: Watch) -> None:
    assert watch.second is not None
    second, page = watch.second, watch.page
    # This time the second operator asks (a policy for the bar's lawyers) and the first decides.
    await second.goto(f"{watch.console}/admin/policies/{watch.ids['bar']}")
    editor = second.get_by_label("Policy document (JSON)")
    document = json.loads(await editor.input_value())
    document["grants"] = [GRANT]
    await editor.fill(json.dumps(document))
    await second.get_by_role("button", name="Preview the change").click()
    await second.get_by_role("button", name="Save this policy").click()
    waiting = second.locator("[data-awaiting-approval]")
    await expect(waiting).to_contain_text("waits for a second operator")
    await expect(second.get_by_text("Until then the saved policy stays in force.")).to_be_visible()
    approval_id = str(await waiting.get_attribute("data-awaiting-approval"))
    assert (await watch.cli("admin", "policy", "show", watch.ids["bar"]))["policies"] == []

    await page.goto(f"{watch.console}/admin/approvals/{approval_id}")
    card = page.locator(f'[data-approval-id="{approval_id}"]')
    await expect(card).to_have_attribute("data-status", "pending")
    await expect(card).to_contain_text("Sharing policy change")
    await expect(card).to_contain_text(watch.ids["second"])
    await card.get_by_text("The exact request").click()
    await expect(card.locator("[data-approval-request]")).to_contain_text('"detentions-kg-kz"')
    await card.get_by_role("button", name="Approve").click()
    await expect(card).to_have_attribute("data-status", "done")
    shown = await watch.cli("admin", "policy", "show", watch.ids["bar"], "--role", "lawyer")
    (stored,) = shown["policies"]
    assert stored["document"]["grants"] == [GRANT]


async def _data_keys(watch: Watch, at_least: int) -> dict[str, Any]:
    """The CLI's key status once the vault holds `at_least` data keys (it stores reports from
    the bus, a moment after intake accepted them)."""
    for _ in range(100):
        status: dict[str, Any] = await watch.cli("admin", "keys", "list")
        if sum(k["data_keys"] for k in status["kek"]) >= at_least:
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"the vault never held {at_least} data keys: {status}")


async def _shows(page: Page, status: dict[str, Any]) -> None:
    """The key status page shows exactly what the CLI shows (no key material)."""
    await expect(page.locator("li[data-kek-version]")).to_have_count(len(status["kek"]))
    for kek in status["kek"]:
        shown = page.locator(f'li[data-kek-version="{kek["version"]}"]')
        await expect(shown).to_have_attribute("data-state", kek["state"])
        await expect(shown.locator("[data-data-keys]")).to_have_text(str(kek["data_keys"]))
        await expect(shown.get_by_text("primary")).to_have_count(1 if kek["primary"] else 0)
    await expect(page.locator("li[data-sealing-kid]")).to_have_count(len(status["sealing"]))
    for key in status["sealing"]:
        shown = page.locator(f'li[data-sealing-kid="{key["kid"]}"]')
        await expect(shown.locator("[data-fingerprint]")).to_have_text(key["fingerprint"])
        await expect(shown).to_contain_text(key["kid"])
    body = await page.locator("main").inner_text()
    assert not any(k["public_key"] in body for k in status["sealing"])


async def test_the_key_status_page_shows_what_the_cli_shows(watch: Watch) -> None:
    # An NGO submits a report with the CLI: the vault then holds its data key.
    env, urls, keys = watch.env, watch.net.urls, watch.tmp / "keys"
    keys.mkdir()
    ngo = ["--profile", str(watch.tmp / "ngo.json")]
    kg = await watch.cli("admin", "partner", "create", "Bishkek Legal Aid")
    ngo_id = await keyed_client(env, watch.admin, kg["id"], "case tool", ("reports:submit",),
                                "submitter", keys)  # fmt: skip
    await run_cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url", urls["intake"],
                  "--alerts-url", urls["alerts"], "--client-id", ngo_id, "--key",
                  str(keys / f"{ngo_id}.pem"), *ngo)  # fmt: skip
    (report,) = await run_cli(env, "report", "template", json_flag=False)
    (watch.tmp / "reports.json").write_text(json.dumps([report]))
    submitted = await run_cli(env, "report", "submit", str(watch.tmp / "reports.json"), *ngo)
    assert submitted["accepted"] == 1, submitted
    status = await _data_keys(watch, 1)
    (first,) = status["kek"]
    assert (first["primary"], first["data_keys"]) == (True, 1)

    page = watch.page
    sections = page.get_by_role("navigation", name="Administration sections")
    await sections.get_by_role("link", name="Keys").click()
    await expect(page.get_by_role("heading", name="Vault keys", level=1)).to_be_visible()
    await _shows(page, status)
    # Nothing to rewrap while every data key is under the primary.
    await expect(page.get_by_role("button", name=re.compile("^Rewrap"))).to_have_count(0)
    await screenshot(page, "security-keys-desktop-en")

    # Rotation and rewrap, each after a confirmation (accepted by the page's dialog handler).
    await page.get_by_role("button", name="Rotate the KEK").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"KEK version {first['version'] + 1} is now the primary."
    )
    rotated = await watch.cli("admin", "keys", "list")
    assert [(k["primary"], k["data_keys"]) for k in rotated["kek"]] == [(False, 1), (True, 0)]
    await _shows(page, rotated)
    await page.get_by_role("button", name="Rewrap 1 data key under the primary").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"Rewrapped 1 data key under version {first['version'] + 1}; 0 left, 0 failed."
    )
    rewrapped = await watch.cli("admin", "keys", "list")
    assert [(k["primary"], k["data_keys"]) for k in rewrapped["kek"]] == [(False, 0), (True, 1)]
    await _shows(page, rewrapped)
    entries = await watch.cli("admin", "audit", "list", "--limit", "200")
    assert {"kek.rotate", "kek.rewrap"} <= {e["action"] for e in entries}


async def test_the_security_pages_are_usable_360_px_wide_and_accessible(watch: Watch) -> None:
    assert watch.second is not None
    page = watch.page
    await page.set_viewport_size({"width": 360, "height": 740})
    findings: dict[str, list[str]] = {}
    for lang in ("en", "ru"):
        for name, path, ready in (
            ("seizures", "/admin/seizures", "li[data-seizure-id]"),
            ("seizure", f"/admin/seizures/{watch.ids['seizure']}", "[data-seizure-status]"),
            ("approvals", "/admin/approvals", "li[data-approval-id]"),
            ("approval", f"/admin/approvals/{watch.ids['approval']}", "[data-approval-request]"),
            ("keys", "/admin/vault", "li[data-sealing-kid]"),
            ("seize form", f"/admin/partners/{watch.ids['bar']}", "li[data-client-id]"),
        ):
            await page.goto(watch.console + path)
            await page.locator("#language").select_option(lang)
            await page.locator(ready).first.wait_for(state="attached")
            if name == "seize form":
                await page.locator("button.danger", has_text="…").click()
                await page.locator("form.seize").wait_for()
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 360, (lang, name, wide)
            findings[f"{lang} {name}"] = await axe_findings(page)
            if name == "seize form":
                await screenshot(page, f"security-seize-phone-{lang}")
    await page.locator("#language").select_option("en")
    await page.set_viewport_size({"width": 1280, "height": 900})
    assert not any(findings.values()), findings


async def test_nothing_leaves_the_origin_and_the_browser_refused_nothing(watch: Watch) -> None:
    origin = urlsplit(watch.console)
    urls = [u for u in watch.requests if u.startswith("http")]
    foreign = [u for u in urls if urlsplit(u)[:2] != origin[:2]]
    assert urls and not foreign, foreign
    faults = browser_faults(watch.requests)
    assert not faults, faults
