"""Sharing policies and the audit log in headless Chromium, on a network of their own.

In file order: the operator opens a partner's lawyer policy (set with the CLI), adds a field,
previews it — the diff and what it means for the partner's lawyers name the field — and saves;
the CLI reads the saved policy. A document sharing refuses shows its error at the path it names
and saves nothing. The audit log lists the change newest first, sharing filters to it, the
chain verifies, and the signed checkpoint, downloaded, is one the CLI checks the log against.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.console.conftest import (
    axe_findings,
    browser_faults,
    cli_env,
    enrol_confirmed,
    recorded_page,
)
from tests.support.browser import chromium
from tests.support.cli import run_cli
from tests.support.network import RunningNetwork, lifeline_up

PARTNER = "Almaty Legal Aid"
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
class Desk:
    """The network, the operator's CLI profile, its enrolled browser and a partner."""

    net: RunningNetwork
    env: dict[str, str]
    admin: list[str]
    page: Page
    tmp: Path
    partner: str
    requests: list[str] = field(default_factory=list)

    @property
    def console(self) -> str:
        """The console's origin."""
        return self.net.urls["console"]

    async def cli(self, *args: str) -> Any:
        """Run the CLI as the operator."""
        return await run_cli(self.env, *args, *self.admin)

    async def lawyer_policy(self) -> dict[str, Any]:
        """The partner's lawyer policy as the CLI shows it."""
        shown = await self.cli("admin", "policy", "show", self.partner, "--role", "lawyer")
        (stored,) = shown["policies"]
        return dict(stored)


@pytest.fixture(scope="module")
async def desk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Desk]:
    """The first operator (`admin init`), its browser enrolled and confirmed with the CLI, and
    a partner whose lawyers may read incident type and country of detentions in KG and KZ."""
    tmp = tmp_path_factory.mktemp("console-policies")
    env = cli_env(tmp)
    admin = ["--profile", str(tmp / "operator.json")]
    async with chromium() as browser:
        with lifeline_up(tmp) as net:
            made = await run_cli(env, "admin", "init", "--sharing-url", net.urls["sharing"],
                                 "--data-dir", str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            operator_id = made["client"]["id"]
            partner = await run_cli(env, "admin", "partner", "create", PARTNER, *admin)
            document = {"partner": partner["id"], "role": "lawyer", "grants": [GRANT]}
            (tmp / "policy.json").write_text(json.dumps(document))
            await run_cli(env, "admin", "policy", "set", str(tmp / "policy.json"), *admin)
            context = await browser.new_context(
                locale="en-GB", viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            seen: list[str] = []
            page = await recorded_page(context, seen)
            await enrol_confirmed(env, admin, page, operator_id, "operator's laptop")
            await page.get_by_role("link", name="Continue").click()
            await expect(page.get_by_role("heading", name="Partners", level=1)).to_be_visible()
            yield Desk(net, env, admin, page, tmp, partner["id"], seen)
            await context.close()


async def _open_lawyer_policy(desk: Desk) -> None:
    page = desk.page
    sections = page.get_by_role("navigation", name="Administration sections")
    await sections.get_by_role("link", name="Sharing policies").click()
    await expect(page.get_by_role("heading", name="Sharing policies", level=1)).to_be_visible()
    await page.get_by_label("Reading partner").select_option(label=PARTNER)
    await expect(page.get_by_label("Whose policy")).to_have_value("lawyer")
    await expect(page.locator("[data-policy-version]")).to_have_attribute(
        "data-policy-version", str((await desk.lawyer_policy())["version"])
    )


async def test_a_policy_change_is_previewed_and_saved(desk: Desk) -> None:
    started = time.monotonic()
    page = desk.page
    await _open_lawyer_policy(desk)
    editor = page.get_by_label("Policy document (JSON)")
    shown = json.loads(await editor.input_value())
    assert shown["grants"] == [GRANT]
    # Nothing to save before a preview.
    await expect(page.get_by_role("button", name="Save this policy")).to_have_count(0)

    shown["grants"][0]["fields"].append("narrative")
    await editor.fill(json.dumps(shown, indent=2))
    await page.get_by_role("button", name="Preview the change").click()
    diff = page.locator("[data-policy-diff] li")
    await expect(diff).to_have_count(1)
    await expect(diff).to_contain_text("fields added: What happened (narrative)")
    meaning = page.locator("[data-policy-effects] li")
    await expect(meaning).to_have_count(1)
    await expect(meaning).to_contain_text(
        f"Lawyers of {desk.partner} will be able to read What happened (narrative)"
    )
    await expect(meaning).to_contain_text("countries: KG, KZ")
    assert await axe_findings(page) == []

    await page.get_by_role("button", name="Save this policy").click()
    await expect(
        page.get_by_role("status").filter(has_text="Policy saved (version 2).")
    ).to_be_visible()
    await expect(page.locator("[data-policy-version]")).to_have_attribute(
        "data-policy-version", "2"
    )

    stored = await desk.lawyer_policy()
    assert stored["version"] == 2
    (grant,) = stored["document"]["grants"]
    assert grant["fields"] == ["incident_type", "place.country", "narrative"]
    assert time.monotonic() - started < 30


async def test_an_invalid_policy_shows_the_field_error_and_saves_nothing(desk: Desk) -> None:
    page = desk.page
    await page.reload()
    await _open_lawyer_policy(desk)
    editor = page.get_by_label("Policy document (JSON)")
    shown = json.loads(await editor.input_value())
    shown["grants"][0]["fields"].append("home_address")
    shown["grants"][0]["max_tlp"] = "RED"
    await editor.fill(json.dumps(shown))
    await page.get_by_role("button", name="Preview the change").click()
    refused = page.get_by_role("list", name="Parts of the document the server refused")
    await expect(refused.locator('[data-error-path="grants.0.fields.3"]')).to_contain_text(
        "not a field of the catalogue"
    )
    await expect(refused.locator('[data-error-path="grants.0.max_tlp"]')).to_contain_text("RED")
    await expect(editor).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("button", name="Save this policy")).to_have_count(0)
    # Not even JSON: caught here, nothing sent.
    await editor.fill('{"partner": ')
    await page.get_by_role("button", name="Preview the change").click()
    await expect(page.get_by_role("alert")).to_contain_text("This is not valid JSON")
    assert (await desk.lawyer_policy())["version"] == 2


async def test_the_audit_log_lists_filters_and_verifies_the_change(desk: Desk) -> None:
    page = desk.page
    sections = page.get_by_role("navigation", name="Administration sections")
    await sections.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    entries = page.locator("li[data-audit-seq]")
    await expect(entries.first).to_be_visible()
    # Newest first: the browser's policy change is above the CLI's.
    changes = page.locator('li[data-action="policy.set"]')
    await expect(changes).to_have_count(2)
    await expect(changes.first).to_contain_text(f"{desk.partner}/lawyer")
    seqs = [int(s) for s in await entries.evaluate_all("els => els.map(e => e.dataset.auditSeq)")]
    assert seqs == sorted(seqs, reverse=True)

    # Filtered by sharing, so an entry far back in a long log is found as easily.
    search = page.get_by_role("search", name="Filter the audit log")
    await search.get_by_label("Action (or its beginning, e.g. policy.)").fill("policy.")
    await search.get_by_label("Target (or its beginning, e.g. a partner id)").fill(desk.partner)
    await search.get_by_role("button", name="Show matching entries").click()
    await expect(entries).to_have_count(2)
    await expect(changes).to_have_count(2)  # nothing else about the partner is a policy change
    await changes.first.get_by_text("Details").click()
    await expect(changes.first.locator("pre")).to_contain_text("fields added: narrative")
    await search.get_by_label("From").fill("2099-01-01T00:00")
    await search.get_by_role("button", name="Show matching entries").click()
    await expect(page.get_by_text("No entry matches the filter.")).to_be_visible()
    await expect(entries).to_have_count(0)
    await search.get_by_role("button", name="Clear the filter").click()
    await expect(entries).not_to_have_count(0)
    await expect(search.get_by_label("From")).to_have_value("")

    await page.get_by_role("button", name="Verify the log").click()
    await expect(page.locator('[data-verified="ok"]')).to_contain_text("The chain holds")

    # The checkpoint, downloaded, is what a partner keeps: the CLI checks the log against it.
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download this checkpoint (JSON)").click()
    kept = desk.tmp / "kept.json"
    await (await download.value).save_as(kept)
    size = int(await page.locator("[data-checkpoint-size]").inner_text())
    assert json.loads(kept.read_text())["checkpoint"]["size"] == size
    verified = await desk.cli("admin", "audit", "verify", "--against", str(kept))
    assert verified["ok"] and verified["against"]["ok"]


async def test_policies_and_audit_are_usable_360_px_wide(desk: Desk) -> None:
    page = desk.page
    await page.set_viewport_size({"width": 360, "height": 740})
    findings: dict[str, list[str]] = {}
    for lang in ("en", "ru"):
        for name, path, ready in (
            ("policies", f"/admin/policies/{desk.partner}", "[data-policy-version]"),
            ("audit", "/admin/audit", "li[data-audit-seq]"),
        ):
            await page.goto(desk.console + path)
            await page.locator("#language").select_option(lang)
            await page.locator(ready).first.wait_for()
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 360, (lang, name, wide)
            findings[f"{lang} {name}"] = await axe_findings(page)
    await page.locator("#language").select_option("en")
    assert not any(findings.values()), findings
    assert browser_faults(desk.requests) == []
