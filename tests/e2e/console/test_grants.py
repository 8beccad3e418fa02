"""An NGO shares fields of a TLP:RED report with another partner, and releases what a lawyer
asked for, in the console.

On a network of its own: the operator sets up by CLI an NGO (a submitting tool, and a case desk
lead whose browser is enrolled with a one-time code: a reader that may manage the partner's
reports), a second NGO with a reader (its own sealed-read key) and a bar whose lawyer watches
the person the report is about (its policy stops at AMBER, so the RED report raises a release
request). The grant is made in the browser and checked by reading as the other partner.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

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

# Setting up three partners, their clients, keys and profiles starts some 25 CLI processes
# (about 1 s each on an idle machine, several on a busy one): more than the default 120 s
# may pass before the first test runs.
pytestmark = pytest.mark.timeout(360)

UNKNOWN_PARTNER = "ptn_00000000deadbeef"
GRANTED = {"legal_basis", "place.locality"}


@dataclass
class Desk:
    """The network, its people's CLI profiles and the NGO's signed-in browser."""

    env: dict[str, str]
    admin: list[str]
    other: list[str]  # the second NGO's reader
    other_id: str  # the second NGO's partner id
    other_key: Path  # its reader's sealed-read key
    lawyer: list[str]
    ngo: list[str]  # the NGO's submitting tool
    tmp: Path
    bar_id: str  # the lawyer's partner
    report_id: str
    console: str
    page: Page
    seen: list[str]


async def _report(tmp: Path, env: dict[str, str], ngo: list[str], ref: str) -> str:
    """The NGO's tool submits a TLP:RED detention report; its id."""
    (report,) = await run_cli(env, "report", "template", json_flag=False)
    report["tlp"] = "RED"
    report["client_report_id"] = ref
    path = tmp / f"{ref}.json"
    path.write_text(json.dumps([report]))
    submitted = await run_cli(env, "report", "submit", str(path), *ngo)
    assert submitted["accepted"] == 1, submitted
    return str(submitted["reports"][0]["report_id"])


@pytest.fixture(scope="module")
async def desk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Desk]:
    tmp = tmp_path_factory.mktemp("grants")
    env = cli_env(tmp)
    keys = tmp / "keys"
    keys.mkdir()
    admin, ngo, other, lawyer = (["--profile", str(tmp / f"{w}.json")] for w in "anol")
    async with chromium() as browser:
        with lifeline_up(tmp) as net:
            urls = net.urls
            await run_cli(env, "admin", "init", "--sharing-url", urls["sharing"], "--data-dir",
                          str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            # Independent steps run side by side: each CLI call starts a Python process.
            kg, kz, bar = await asyncio.gather(
                *(run_cli(env, "admin", "partner", "create", name, *admin)
                  for name in ("Bishkek Legal Aid", "Almaty Rights Desk", "Tbilisi Bar"))
            )  # fmt: skip
            tool, reader, law, lead = await asyncio.gather(
                keyed_client(env, admin, kg["id"], "case tool", ("reports:submit",), "submitter",
                             keys),
                keyed_client(env, admin, kz["id"], "kz reader", ("reports:read",), "reader",
                             keys),
                keyed_client(env, admin, bar["id"], "lawyer", LAWYER_SCOPES, "lawyer", keys),
                # The case desk lead submits, reads and manages the NGO's reports (grants them).
                run_cli(env, "admin", "client", "create", "--partner", kg["id"], "--name",
                        "case desk lead", "--role", "reader", "--scope", "reports:submit",
                        "--scope", "reports:read", "--scope", "reports:manage", *admin),
            )  # fmt: skip
            await asyncio.gather(
                *(run_cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url",
                          urls["intake"], "--alerts-url", urls["alerts"], "--client-id",
                          client_id, "--key", str(keys / f"{client_id}.pem"), *profile)
                  for profile, client_id in ((ngo, tool), (other, reader), (lawyer, law)))
            )  # fmt: skip
            other_key = tmp / "kz-hpke.pem"
            policy = tmp / "bar-lawyers.json"
            policy.write_text(json.dumps({"partner": bar["id"], "role": "lawyer", "grants": [{
                "id": "alerts", "from": ["*"], "incident_types": ["detention"],
                "countries": ["*"], "legal_bases": ["*"], "max_tlp": "AMBER",
                "fields": ["incident_type", "occurred_at", "place.country", "narrative"]}]}))  # fmt: skip
            await asyncio.gather(
                run_cli(env, "report", "keygen", "--out", str(other_key), *other),
                run_cli(env, "admin", "policy", "set", str(policy), *admin),
                run_cli(env, "watchlist", "add", "--name", "Лев Скорякин", "--dob", "1999-03-14",
                        "--label", "client 9", *lawyer),
            )  # fmt: skip

            context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}
            )
            seen: list[str] = []
            page = await recorded_page(context, seen)
            report_id, _ = await asyncio.gather(
                _report(tmp, env, ngo, "kg-2026-0042"),
                enrol_confirmed(env, admin, page, lead["id"], "case desk lead laptop"),
            )
            await page.get_by_role("link", name="Continue").click()
            yield Desk(env, admin, other, kz["id"], other_key, lawyer, ngo, tmp, bar["id"],
                       report_id, urls["console"], page, seen)  # fmt: skip
            await context.close()


def _flat(report: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted field names a read returned (`place.locality`, …)."""
    names: set[str] = set()
    for key, value in report.items():
        if isinstance(value, dict):
            names |= _flat(value, f"{prefix}{key}.")
        else:
            names.add(f"{prefix}{key}")
    return names


async def _grants_of(desk: Desk) -> Locator:
    """The report's card on the submissions page, its grants opened."""
    page = desk.page
    await page.goto(desk.console + "/reports")
    item = page.locator(f'ul.submissions li[data-report="{desk.report_id}"]')
    await expect(item.locator(".receipt-status")).to_have_attribute(
        "data-status", "stored", timeout=15_000
    )
    await item.get_by_text("Shared with other partners").click()
    await expect(item.get_by_role("button", name="Grant fields…")).to_be_visible()
    return item


async def _grant_count(desk: Desk) -> int:
    entries = await run_cli(desk.env, "admin", "audit", "list", "--limit", "1000", *desk.admin)
    return sum(1 for e in entries if e["action"] == "report.grant")


async def test_the_ngo_grants_two_fields_after_reading_what_it_shares_with_whom(desk: Desk) -> None:
    page = desk.page
    await expect(page.get_by_role("heading", name="New report", level=1)).to_be_visible()
    await page.get_by_role("navigation").get_by_role("link", name="Submissions").click()
    item = await _grants_of(desk)
    await expect(item.get_by_text("Not granted to any other partner.")).to_be_visible()
    # The id as pasted from a message, spaces and all.
    await item.get_by_label("The partner's id (ptn_…)").fill(f"  {desk.other_id} ")
    await item.get_by_label("Place", exact=True).check()
    await item.get_by_label("Legal basis", exact=True).check()
    await item.get_by_label("Who at that partner").select_option(label="Readers")
    await item.get_by_role("button", name="Grant fields…").click()
    sentence = item.locator(".grant-sentence")
    await expect(sentence).to_have_text(
        f"The readers of partner {desk.other_id} will be able to read these fields of report "
        f"{desk.report_id}, whatever its TLP marking, TLP:RED included: Legal basis and Place."
    )
    await screenshot(page, "grant-confirm-desktop-en")
    await item.get_by_role("button", name="Grant these fields").click()
    await expect(item.get_by_text("Granted.")).to_be_visible()
    granted = item.locator(".grant-list li")
    await expect(granted).to_have_count(1)
    await expect(granted).to_contain_text(desk.other_id)
    await expect(granted).to_contain_text("Readers")
    await expect(granted).to_contain_text("Legal basis, Place")

    # The other partner's reader reads exactly those fields of the RED report, no more.
    view = await run_cli(desk.env, "report", "fetch", desk.report_id, "--hpke-key",
                         str(desk.other_key), *desk.other)  # fmt: skip
    assert _flat(view["report"]) == GRANTED
    assert view["report"]["place"]["locality"] == "Bishkek"
    assert {"narrative", "detaining_authority", "place.country"} <= set(view["withheld"])

    # After a reload the grant is still listed: sharing holds it, not the page.
    item = await _grants_of(desk)
    await expect(item.locator(".grant-list li")).to_have_count(1)


async def test_a_bad_partner_id_is_refused_readably_and_nothing_is_granted(desk: Desk) -> None:
    page = desk.page
    before = await _grant_count(desk)
    item = await _grants_of(desk)
    posts_before = [u for u in desk.seen if u.endswith("/grants")]
    partner = item.get_by_label("The partner's id (ptn_…)")
    # Not an id at all: caught in the browser, nothing is sent.
    await partner.fill("Almaty Rights Desk")
    await item.get_by_label("What happened", exact=True).check()
    await item.get_by_role("button", name="Grant fields…").click()
    await expect(item.get_by_text("This is not a partner id")).to_be_visible()
    await expect(partner).to_have_attribute("aria-invalid", "true")
    assert [u for u in desk.seen if u.endswith("/grants")] == posts_before
    # An id no partner has: sharing refuses it, and the page says so in words.
    await partner.fill(UNKNOWN_PARTNER)
    await item.get_by_role("button", name="Grant fields…").click()
    await expect(item.locator(".grant-sentence")).to_contain_text("What happened")
    await item.get_by_role("button", name="Grant these fields").click()
    await expect(item.get_by_role("alert")).to_have_text(
        "No partner has this id: nothing was granted. Check the id with the partner."
    )
    await expect(partner).to_have_value(UNKNOWN_PARTNER)  # kept, to be corrected
    await expect(item.locator(".grant-list li")).to_have_count(1)
    assert await _grant_count(desk) == before
    item = await _grants_of(desk)
    await expect(item.locator(".grant-list li")).to_have_count(1)
    assert not browser_faults(desk.seen)
    assert page.url.endswith("/reports")


async def test_a_lawyers_release_request_is_approved_in_the_browser(desk: Desk) -> None:
    page = desk.page
    await page.get_by_role("navigation").get_by_role("link", name="Release requests").click()
    await expect(page.get_by_role("heading", name="Release requests", level=1)).to_be_visible()
    pending = page.locator('li[data-status="pending"]')
    await expect(pending).to_have_count(1, timeout=30_000)
    await expect(pending).to_contain_text(desk.report_id)
    await expect(pending).to_contain_text("Asks for")
    await screenshot(page, "releases-desktop-en")
    started = time.monotonic()
    await pending.get_by_role("button", name="Release…").click()
    assert "dialog:confirm" in desk.seen
    approved = page.locator('li[data-status="approved"]')
    await expect(approved).to_have_count(1)
    await expect(approved).to_contain_text("Released")
    await expect(pending).to_have_count(0)
    assert time.monotonic() - started < 10
    entries = await run_cli(desk.env, "admin", "audit", "list", "--limit", "1000", *desk.admin)
    assert any(e["action"] == "report.release_approve" for e in entries)
    # Releasing is a per-report grant to the asking organisation's lawyers: listed as one.
    item = await _grants_of(desk)
    lawyers = item.locator(".grant-list li").filter(has_text=desk.bar_id)
    await expect(lawyers).to_contain_text("Lawyers")
    await expect(item.locator(".grant-list li")).to_have_count(2)


async def test_a_release_request_is_refused_in_the_browser(desk: Desk) -> None:
    page = desk.page
    second = await _report(desk.tmp, desk.env, desk.ngo, "kg-2026-0043")
    await page.goto(desk.console + "/reports/releases")
    pending = page.locator('li[data-status="pending"]')
    await expect(pending).to_have_count(1, timeout=30_000)
    await expect(pending).to_contain_text(second)
    await pending.get_by_role("button", name="Refuse…").click()
    refused = page.locator('li[data-status="denied"]')
    await expect(refused).to_have_count(1)
    await expect(refused).to_contain_text(second)
    await expect(refused).to_contain_text("Refused")
    entries = await run_cli(desk.env, "admin", "audit", "list", "--limit", "1000", *desk.admin)
    assert any(e["action"] == "report.release_deny" for e in entries)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_grants_and_releases_at_360_px_pass_axe(desk: Desk, lang: str) -> None:
    page = desk.page
    await page.set_viewport_size({"width": 360, "height": 800})
    await page.locator("#language").select_option(lang)
    origin = desk.console
    await page.goto(origin + "/reports")
    item = page.locator(f'ul.submissions li[data-report="{desk.report_id}"]')
    await item.locator("details.grants summary").click()
    await expect(item.locator(".grant-list li")).to_have_count(2)
    await item.locator(".grant-form button[type=submit]").click()  # shows both field errors
    await expect(item.locator(".grant-form .error")).to_have_count(2)
    assert await axe_findings(page) == []
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 360, wide
    if lang == "ru":
        await expect(item.locator("details.grants summary")).to_have_text("Доступ других партнёров")
        await screenshot(page, "grants-phone-ru")
    await page.goto(origin + "/reports/releases")
    await expect(page.locator('li[data-status="denied"]')).to_have_count(1)
    assert await axe_findings(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not browser_faults(desk.seen)
