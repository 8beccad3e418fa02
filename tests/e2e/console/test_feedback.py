"""The organisation's false-match figure in the console's escalation settings (en and ru).

On a network of its own: a bar with a lawyer (a webhook receiver, a watchlist entry) and an
NGO that reports the person; the lawyer resolves the alert "not my client" with the CLI, and
the settings page shows the figure, readable at 360 px and axe-clean in both languages.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect

from tests.e2e.console.conftest import (
    LAWYER_SCOPES,
    axe_findings,
    cli_env,
    enrol_confirmed,
    recorded_page,
    screenshot,
)
from tests.support.browser import chromium
from tests.support.cli import keyed_client, run_cli
from tests.support.network import lifeline_up
from tests.support.receivers import receiver

pytestmark = pytest.mark.timeout(300)
REPORT = [
    {
        "client_report_id": "kg-91",
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
class Bar:
    """The network's console and the lawyer's signed-in browser."""

    console: str
    page: Page


@pytest.fixture(scope="module")
async def bar(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bar]:
    tmp = tmp_path_factory.mktemp("feedback")
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
            firm = await run_cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
            kg = await run_cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
            lawyer_id = await keyed_client(env, admin, firm["id"], "lawyer", LAWYER_SCOPES,
                                           "lawyer", keys)  # fmt: skip
            ngo_id = await keyed_client(env, admin, kg["id"], "case tool", ("reports:submit",),
                                        "submitter", keys)  # fmt: skip
            for profile, client_id in ((lawyer, lawyer_id), (ngo, ngo_id)):
                await run_cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url",
                              urls["intake"], "--alerts-url", urls["alerts"], "--client-id",
                              client_id, "--key", str(keys / f"{client_id}.pem"), *profile)  # fmt: skip
            contacts = await run_cli(env, "alerts", "contacts", "set", "--webhook-url",
                                     hook.url, *lawyer)  # fmt: skip
            (primary,) = contacts["contacts"]
            hook.secret = contacts["new_secrets"][primary["id"]]
            await run_cli(env, "watchlist", "add", "--name", "Lev Skoryakin", "--dob",
                          "1999-03-14", "--label", "client 7", *lawyer)  # fmt: skip
            reports = tmp / "report.json"
            reports.write_text(json.dumps(REPORT, ensure_ascii=False))
            await run_cli(env, "report", "submit", str(reports), *ngo)
            started = time.monotonic()
            while not hook.alerts("alert.created"):
                assert time.monotonic() - started < 20, "no alert reached the lawyer"
                await asyncio.sleep(0.2)
            alert_id = hook.alerts("alert.created")[0].payload["data"]["alert_id"]
            await run_cli(env, "alerts", "resolve", alert_id, "--outcome", "not_my_client",
                          *lawyer)  # fmt: skip
            context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            page = await recorded_page(context, [])
            await enrol_confirmed(env, admin, page, lawyer_id, "lawyer's laptop")
            await page.get_by_role("link", name="Continue").click()
            yield Bar(net.urls["console"], page)
            await context.close()


async def test_the_settings_show_the_false_match_figure(bar: Bar) -> None:
    page = bar.page
    await page.goto(bar.console + "/settings")
    figure = page.locator("section.feedback")
    await expect(
        figure.get_by_role("heading", name="What became of your organisation's alerts")
    ).to_be_visible()
    await expect(figure).to_contain_text("Alerts resolved1")
    await expect(figure).to_contain_text("“Not my client”100%")
    await expect(figure).to_contain_text("Strong matches1 resolved, “not my client” 100%")
    await expect(figure).to_contain_text("Not my client1")
    await page.set_viewport_size({"width": 360, "height": 740})
    findings = {"en": await axe_findings(page)}
    await page.locator("#language").select_option("ru")
    await expect(figure).to_contain_text("Чем закончились оповещения вашей организации")
    await expect(figure).to_contain_text("закрыто: 1, «не мой клиент»: 100%")
    findings["ru"] = await axe_findings(page)
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    await figure.scroll_into_view_if_needed()
    await screenshot(page, "feedback-phone-ru")
    await page.locator("#language").select_option("en")
    assert not any(findings.values()), findings
    assert width <= 360
