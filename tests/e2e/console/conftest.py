"""One network for the console's browser tests, set up as people would: an operator with the
CLI, a lawyer in headless Chromium enrolled with a one-time code, an NGO submitting with the CLI.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Page, Request, expect

from tests.support.browser import chromium
from tests.support.cli import keyed_client, run_cli
from tests.support.network import RunningNetwork, lifeline_up
from tests.support.receivers import Receiver, receiver

LAWYER_SCOPES = ("reports:read", "watchlist:manage", "alerts:read", "alerts:ack")
CONTACT_LINE = "Bishkek Legal Aid duty desk: +996 555 010 203 (Signal, 24/7)"
# Hostile text where a partner or a lawyer may write: it must be shown as text, never run.
HOSTILE_LABEL = "<img src=x onerror=\"window.pwned='label'\"> client \u202e21 tneilc"
HOSTILE_NARRATIVE = (
    "<script>window.pwned='narrative'</script><img src=x onerror=\"window.pwned='img'\">"
    " detained at arrivals \u202etroprifa"
)
# What the partner wrote for its own use and the bar's lawyers may not read.
WITHHELD_AUTHORITY = "Border service, Manas airport (officer on shift: ask for Erlan)"
AXE = Path(__file__).parents[3] / "services/console/web/node_modules/axe-core/axe.min.js"
MINUTE = 1.0  # seconds: escalation minutes are this short here
SHOTS = os.environ.get("LIFELINE_CONSOLE_SCREENSHOTS")  # a directory: save the screenshots


@dataclass
class World:
    """The running network, the people in it, and the lawyer's signed-in browser."""

    net: RunningNetwork
    env: dict[str, str]
    admin: list[str]
    lawyer: list[str]
    ngo: list[str]
    lawyer_id: str
    hook: Receiver
    browser: Browser
    context: BrowserContext
    page: Page
    tmp: Path
    requests: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def console(self) -> str:
        """The console's origin."""
        return self.net.urls["console"]

    async def cli(self, *args: str, json_flag: bool = True) -> Any:
        """Run the CLI as one of the people here."""
        return await run_cli(self.env, *args, json_flag=json_flag)

    async def new_page(self, context: BrowserContext) -> Page:
        """A page whose every request is recorded (to prove none leaves the origin)."""
        return await recorded_page(context, self.requests)

    async def screenshot(self, page: Page, name: str) -> None:
        """Save a full-page screenshot when asked to (`LIFELINE_CONSOLE_SCREENSHOTS`)."""
        await screenshot(page, name)


async def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot when asked to (`LIFELINE_CONSOLE_SCREENSHOTS`)."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def recorded_page(context: BrowserContext, seen: list[str]) -> Page:
    """A new page that records every URL it requests and every dialog it opens."""
    page = await context.new_page()

    def on_request(request: Request) -> None:
        seen.append(request.url)

    page.on("request", on_request)

    # A dialog the page did not mean to open (an XSS `alert()`) fails the check at the end;
    # the console's own confirmations are accepted by the tests that click them.
    async def on_dialog(dialog: Dialog) -> None:
        seen.append(f"dialog:{dialog.type}")
        await (dialog.accept() if dialog.type == "confirm" else dialog.dismiss())

    page.on("dialog", on_dialog)
    # What the browser refused (a CSP or Trusted Types violation) shows as a console error.
    page.on("console", lambda m: seen.append(f"console:{m.text}") if m.type == "error" else None)
    return page


def cli_env(tmp: Path) -> dict[str, str]:
    """The environment the CLI runs in: none of the caller's `LIFELINE_` settings, its own
    configuration directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    return env


async def enrol_device(page: Page, link: str, device_name: str) -> str:
    """Open an enrolment link, name the device, enrol; the fingerprint the page then shows."""
    await page.goto(link)
    await page.get_by_label("Name of this device").fill(device_name)
    await page.get_by_role("button", name="Enrol this device").click()
    shown = page.get_by_label("Key fingerprint")
    await expect(shown).to_have_text(re.compile(r"^([0-9a-f]{4} ){15}[0-9a-f]{4}$"))
    return await shown.inner_text()


async def enrol_confirmed(
    env: dict[str, str], admin: list[str], page: Page, client_id: str, device_name: str
) -> str:
    """The operator makes an enrolment code for `client_id`, `page` enrols with its link and
    the operator confirms the fingerprint the page shows (with the CLI). The key's id."""
    issued = await run_cli(env, "admin", "enrol", client_id, *admin)
    fingerprint = await enrol_device(page, issued["link"], device_name)
    enrolments = await run_cli(env, "admin", "enrolments", client_id, *admin)
    kid = next(e["kid"] for e in enrolments if e["id"] == issued["id"])
    await run_cli(env, "admin", "key", "confirm", kid, "--fingerprint", fingerprint, *admin)
    return str(kid)


async def axe_findings(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 AA findings on the page as it stands."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated by the test driver, not loaded by the page: the CSP stays as it is.
        await page.evaluate(AXE.read_text())
    found = await page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        })).violations.filter((v) => ["serious", "critical"].includes(v.impact))
          .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)"""
    )
    return list(found)


def browser_faults(seen: list[str]) -> list[str]:
    """Dialogs the console did not open itself and what the browser refused (CSP, Trusted
    Types). A refused answer (a 401 while a fingerprint waits) is logged as "Failed to load
    resource": that is the API speaking, not the browser refusing."""
    dialogs = [d for d in seen if d.startswith("dialog:") and d != "dialog:confirm"]
    refused = [
        m
        for m in seen
        if m.startswith("console:") and not m.startswith("console:Failed to load resource")
    ]
    return dialogs + refused


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """The network with an operator, a bar with a lawyer, an NGO, policies and contact lines;
    the lawyer's browser is enrolled and signed in by the first test."""
    tmp = tmp_path_factory.mktemp("console")
    env = cli_env(tmp)
    keys = tmp / "keys"
    keys.mkdir()
    admin, lawyer, ngo = (["--profile", str(tmp / f"{who}.json")] for who in ("a", "l", "n"))
    settings = {
        "LIFELINE_ALERTS_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "LIFELINE_ALERTS_ESCALATION_MINUTE_S": str(MINUTE),
        "LIFELINE_ALERTS_ESCALATION_POLL_S": "0.1",
    }
    async with receiver() as hook, chromium() as browser:
        with lifeline_up(tmp, env=settings) as net:
            urls = net.urls
            await run_cli(env, "admin", "init", "--sharing-url", urls["sharing"], "--data-dir",
                          str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            bar = await run_cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
            kg = await run_cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
            await run_cli(env, "admin", "partner", "contact", kg["id"], CONTACT_LINE, *admin)
            lawyer_id = await keyed_client(env, admin, bar["id"], "lawyer", LAWYER_SCOPES, "lawyer",
                                      keys)  # fmt: skip
            ngo_id = await keyed_client(env, admin, kg["id"], "case tool", ("reports:submit",),
                                   "submitter", keys)  # fmt: skip
            for profile, client_id in ((lawyer, lawyer_id), (ngo, ngo_id)):
                await run_cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url",
                              urls["intake"], "--alerts-url", urls["alerts"], "--client-id",
                              client_id, "--key", str(keys / f"{client_id}.pem"), *profile)  # fmt: skip
            # The bar's lawyers may read these fields of detention reports; not who holds the
            # person, nor how to reach the reporter.
            policy = tmp / "bar-lawyers.json"
            policy.write_text(json.dumps({"partner": bar["id"], "role": "lawyer", "grants": [{
                "id": "alerts", "from": ["*"], "incident_types": ["detention"],
                "countries": ["*"], "legal_bases": ["*"], "max_tlp": "AMBER",
                "fields": ["incident_type", "legal_basis", "occurred_at", "place.country",
                           "place.locality", "place.facility_kind", "charges",
                           "requesting_state", "status", "narrative"]}]}))  # fmt: skip
            await run_cli(env, "admin", "policy", "set", str(policy), *admin)
            contacts = await run_cli(env, "alerts", "contacts", "set", "--webhook-url",
                                     hook.url, *lawyer)  # fmt: skip
            (primary,) = contacts["contacts"]
            hook.secret = contacts["new_secrets"][primary["id"]]
            await run_cli(env, "watchlist", "add", "--name", "Лев Скорякин", "--dob",
                          "1999-03-14", "--label", HOSTILE_LABEL, *lawyer)  # fmt: skip

            context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            seen: list[str] = []
            page = await recorded_page(context, seen)
            world = World(net, env, admin, lawyer, ngo, lawyer_id, hook, browser, context, page,
                          tmp, seen)  # fmt: skip
            started = time.monotonic()
            yield world
            world.timings["module"] = time.monotonic() - started
            await context.close()
