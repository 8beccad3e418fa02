"""CSV uploads in the console: a lawyer adds clients from a file, an NGO submits reports from a
spreadsheet saved by a Russian Excel; names are tokenised in a Web Worker in the browser.

On a network of its own: the operator sets up by CLI a bar's lawyer (a browser enrolled with a
code) and an NGO with a case desk (a browser enrolled with a code) and a case tool (a CLI key).
Every request each browser makes is recorded with its body: no uploaded name, in any case or
escaping, is ever in one.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, Request, expect

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

WATCHED = "Лев Скорякин"  # as the lawyer's file writes it, with his full date of birth
WATCHED_LATIN = "Lev Skoryakin"  # as the NGO's case tool writes him
WATCHLIST_CSV = (
    "label,name,dob\r\n"
    f"client A,{WATCHED},1999-03-14\r\n"
    "client B,Maria Yolkina,1990\r\n"
    "client C,Иван Петров,31.02.1990\r\n"  # no such date: refused in the browser
)
# A Russian Excel's "CSV": Windows-1251 and ';'; a narrative with a quoted newline and a ';'.
REPORTS_CSV = (
    "person_name;person_dob;person_sex;incident_type;legal_basis;occurred_at;country;locality;"
    "facility_kind;requesting_state;charges;tlp;narrative\r\n"
    "Ёлкина Мария;1990;female;detention;cis_interstate_search;2026-11-20;KG;Бишкек;airport;RU;"
    'RU:CC:207.3;AMBER;"Задержана на паспортном контроле;\r\nдоставлена в ИВС"\r\n'  # noqa: RUF001
    "Пётр Сидоров;12.05.1985;male;deportation;administrative;2026-11-21;XX;Тбилиси;street;;;"
    "GREEN;Депортирован\r\n"
    "Анна Гусева;;unknown;interrogation;unknown;2026-11-22;GE;Батуми;police_station;;;AMBER;"
    "Допрос в отделении\r\n"
)
NAMES = (WATCHED, WATCHED_LATIN, "Maria Yolkina", "Иван Петров", "Ёлкина Мария", "Пётр Сидоров",
         "Анна Гусева")  # fmt: skip
# Two browsers enrolled, then a thousand rows: more than the default per-test bound on a busy
# machine (the time each step may take is bounded by its own expectation).
pytestmark = pytest.mark.timeout(300)


@dataclass
class Desk:
    """One person's signed-in browser and everything it sent."""

    page: Page
    seen: list[str]
    bodies: list[str] = field(default_factory=list)


@dataclass
class Net:
    """The network, the CLI's profiles and both browsers."""

    env: dict[str, str]
    ngo_cli: list[str]
    console: str
    tmp: Path
    lawyer: Desk
    ngo: Desk


async def _desk(context: BrowserContext) -> Desk:
    seen: list[str] = []
    desk = Desk(await recorded_page(context, seen), seen)

    def on_request(request: Request) -> None:
        if request.post_data:
            desk.bodies.append(request.post_data)

    desk.page.on("request", on_request)
    return desk


@pytest.fixture(scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Net]:
    tmp = tmp_path_factory.mktemp("uploads")
    env = cli_env(tmp)
    keys = tmp / "keys"
    keys.mkdir()
    admin, ngo_cli = (["--profile", str(tmp / f"{who}.json")] for who in ("a", "n"))
    async with chromium() as browser:
        with lifeline_up(tmp) as network:
            urls = network.urls
            await run_cli(env, "admin", "init", "--sharing-url", urls["sharing"], "--data-dir",
                          str(network.data_dir), "--no-passphrase", *admin)  # fmt: skip
            bar = await run_cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
            kg = await run_cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
            flags = [arg for scope in LAWYER_SCOPES for arg in ("--scope", scope)]
            law = await run_cli(env, "admin", "client", "create", "--partner", bar["id"], "--name",
                                "lawyer", "--role", "lawyer", *flags, *admin)  # fmt: skip
            desk = await run_cli(env, "admin", "client", "create", "--partner", kg["id"], "--name",
                                 "case desk", "--role", "reader", "--scope", "reports:submit",
                                 "--scope", "reports:read", *admin)  # fmt: skip
            tool = await keyed_client(env, admin, kg["id"], "case tool", ("reports:submit",),
                                      "submitter", keys)  # fmt: skip
            await run_cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url",
                          urls["intake"], "--alerts-url", urls["alerts"], "--client-id", tool,
                          "--key", str(keys / f"{tool}.pem"), *ngo_cli)  # fmt: skip
            contexts = []
            desks = []
            for client_id, device in ((law["id"], "lawyer's laptop"), (desk["id"], "case desk")):
                context = await browser.new_context(
                    locale="en-GB", viewport={"width": 1280, "height": 900}
                )
                contexts.append(context)
                person = await _desk(context)
                await enrol_confirmed(env, admin, person.page, client_id, device)
                await person.page.get_by_role("link", name="Continue").click()
                desks.append(person)
            yield Net(env, ngo_cli, urls["console"], tmp, *desks)
            for context in contexts:
                await context.close()


RANDOM = re.compile(r"[A-Za-z0-9_-]{20,}")


def _leaked(desk: Desk) -> list[str]:
    """Any uploaded name (whole or a word of it, any case, JSON-escaped too) in a request."""
    # Tokens, blinded elements and access tokens are long base64url runs: "lev" turns up in
    # them by chance. A name (words split by spaces, Cyrillic, or escaped) is never such a run.
    sent = RANDOM.sub(" ", "\n".join(desk.seen + desk.bodies)).lower()
    words = {w for name in NAMES for w in (name, *name.split())}
    found = []
    for word in words:
        escaped = json.dumps(word.lower()).strip('"')
        if word.lower() in sent or escaped in sent:
            found.append(word)
    return found


async def _narrow_and_accessible(page: Page) -> None:
    await page.set_viewport_size({"width": 360, "height": 800})
    wide = await page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > 361)
            .map((e) => e.tagName + "." + e.className + "#" + e.id)"""
    )
    assert not wide, wide
    assert not await axe_findings(page)


async def test_a_lawyer_adds_clients_from_a_file_and_a_report_in_latin_alerts(net: Net) -> None:
    page = net.lawyer.page
    await expect(page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    await page.goto(f"{net.console}/settings")
    await page.get_by_text("Add clients from a CSV file").click()
    upload = page.locator("details.watchlist-upload")
    csv = {"name": "clients.csv", "mimeType": "text/csv", "buffer": WATCHLIST_CSV.encode()}
    await page.set_input_files("#watchlist-file", files=[csv])
    await expect(upload.locator("[data-encoding]")).to_have_text(
        "Read as UTF-8, columns separated by commas (,)."
    )
    await expect(upload.locator(".rows-found")).to_have_text("Rows found: 3.")
    await upload.get_by_role("button", name="Add 3 clients").click()
    await expect(upload.locator(".upload-finished")).to_have_text(
        "Finished: 2 added, 0 duplicates, 1 refused.", timeout=20_000
    )
    progress = upload.locator("progress")
    await expect(progress).to_have_attribute("value", "3")
    await expect(progress).to_have_attribute("max", "3")
    await expect(upload.locator(".row-ok")).to_have_count(2)
    refused = upload.locator(".row-refused")
    await expect(refused).to_have_count(1)
    await expect(refused).to_have_attribute("data-line", "4")
    await expect(refused).to_contain_text("That date does not exist.")
    # The new entries are listed with their labels.
    entries = page.locator("section.watchlist > ul.cards > li")
    await expect(entries).to_have_count(2)
    await screenshot(page, "watchlist-upload-desktop-en")

    # The same file again: both are already there, and say so.
    await page.set_input_files("#watchlist-file", files=[])
    await page.set_input_files("#watchlist-file", files=[csv])
    await upload.get_by_role("button", name="Add 3 clients").click()
    await expect(upload.locator(".upload-finished")).to_have_text(
        "Finished: 0 added, 2 duplicates, 1 refused.", timeout=20_000
    )
    await expect(upload.locator('.row-duplicate[data-outcome="unchanged"]')).to_have_count(2)
    await expect(entries).to_have_count(2)

    # The NGO's case tool reports him in Latin script: the lawyer's alert arrives.
    (report,) = await run_cli(net.env, "report", "template", json_flag=False)
    report["person"] = {"name": WATCHED_LATIN, "dob": "14.03.1999", "sex": "male"}
    reports = net.tmp / "reports.json"
    reports.write_text(json.dumps([report]))
    submitted = await run_cli(net.env, "report", "submit", str(reports), *net.ngo_cli)
    assert submitted["accepted"] == 1, submitted
    await page.goto(f"{net.console}/")
    item = page.locator("li.alert")
    await expect(item).to_have_count(1, timeout=20_000)
    await expect(item).to_contain_text("client A")

    # The check finds a name where there is one (so its silence means something) …
    assert _leaked(Desk(page, [], ['{"n":"\\u043b\\u0435\\u0432"}', "x"])) == ["Лев"]
    assert _leaked(Desk(page, ["/x?q=MARIA"], [])) == ["Maria"]
    assert _leaked(Desk(page, [], ['{"tokens":["q3LeVx0aB1c2d3e4f5g6h7"]}'])) == []
    # … and there is none in anything the lawyer's browser sent.
    assert not _leaked(net.lawyer)
    # The worker came from the console's own hashed asset, allowed by its one policy.
    assert any(re.search(r"/assets/identity-worker-[A-Z0-9]+\.js$", u) for u in net.lawyer.seen)
    assert not browser_faults(net.lawyer.seen)

    await page.goto(f"{net.console}/settings")
    await page.get_by_text("Add clients from a CSV file").click()
    await page.set_input_files("#watchlist-file", files=[csv])
    await expect(upload.locator(".rows-found")).to_be_visible()
    await _narrow_and_accessible(page)


async def test_an_ngo_uploads_a_russian_excel_file_of_reports(net: Net) -> None:
    page = net.ngo.page
    await expect(page.get_by_role("heading", name="New report", level=1)).to_be_visible()
    await page.get_by_role("link", name="Many reports? Upload a CSV file").click()
    await expect(page.get_by_role("heading", name="Upload reports from a CSV file")).to_be_visible()
    data = REPORTS_CSV.encode("cp1251")
    csv = {"name": "отчёты.csv", "mimeType": "text/csv", "buffer": data}
    await page.set_input_files("#reports-file", files=[csv])
    await expect(page.locator("[data-encoding]")).to_have_text(
        "Read as Windows-1251 (Cyrillic), columns separated by semicolons (;)."
    )
    await expect(page.locator(".rows-found")).to_have_text("Rows found: 3.")
    await expect(page.locator(".rows-bad")).to_contain_text(": 0.")
    await page.get_by_role("button", name="Submit 3 reports").click()
    await expect(page.locator(".upload-finished")).to_have_text(
        "Finished: 2 accepted, 1 refused.", timeout=20_000
    )
    await expect(page.locator("progress")).to_have_attribute("value", "3")
    accepted = page.locator(".upload-results .row-ok")
    await expect(accepted).to_have_count(2)
    ids = [await accepted.nth(i).get_attribute("data-report-id") for i in range(2)]
    assert all(ids) and len(set(ids)) == 2
    refused = page.locator(".upload-results .row-refused")
    await expect(refused).to_have_attribute("data-line", "4")  # the quoted newline counts
    await expect(refused.locator('[data-path="place.country"]')).to_be_visible()
    for i in range(2):
        await expect(accepted.nth(i).locator(".receipt-status")).to_have_attribute(
            "data-status", "stored", timeout=20_000
        )
    await screenshot(page, "reports-upload-desktop-en")

    # The same file after a reload (as after a lost answer): nothing is stored twice.
    await page.reload()
    await page.set_input_files("#reports-file", files=[csv])
    await page.get_by_role("button", name="Submit 3 reports").click()
    await expect(page.locator(".upload-finished")).to_have_text(
        "Finished: 2 accepted, 1 refused.", timeout=20_000
    )
    again = page.locator(".upload-results .row-ok")
    assert [await again.nth(i).get_attribute("data-report-id") for i in range(2)] == ids
    await expect(again.first).to_contain_text("Already received (same reference)")

    await page.get_by_role("link", name="Submissions").click()
    # The partner's submissions: these two (once each) beside the case tool's report.
    items = page.locator("ul.submissions > li")
    for report_id in ids:
        await expect(items.filter(has_text=str(report_id))).to_have_count(1)

    posted = [json.loads(b) for b in net.ngo.bodies if '"client_report_id"' in b]
    assert len(posted) == 6
    assert all(p["subject"]["tokens"] for p in posted)
    assert {p["client_report_id"] for p in posted[:3]} == {
        p["client_report_id"] for p in posted[3:]
    }
    assert not _leaked(net.ngo)
    assert any("/assets/identity-worker-" in u for u in net.ngo.seen)
    assert not browser_faults(net.ngo.seen)
    origin = net.console.rstrip("/")
    assert all(u.startswith(origin) for u in net.ngo.seen if "://" in u)

    await page.goto(f"{net.console}/reports/upload")
    await page.set_input_files("#reports-file", files=[csv])
    await expect(page.locator(".rows-found")).to_be_visible()
    await _narrow_and_accessible(page)
    await page.locator("#language").select_option("ru")
    await expect(
        page.get_by_role("heading", name="Загрузка сообщений из файла CSV")
    ).to_be_visible()
    assert not await axe_findings(page)
    await screenshot(page, "reports-upload-phone-ru")


FIRST = ("Aleksandr Boris Daniil Egor Fedor Gleb Igor Kirill Leonid Makar Nikita Oleg Pavel Roman "
         "Semyon Timur Ulyana Vera Yana Zoya").split()  # fmt: skip
LAST = ("Abramov Belov Chernov Demin Efimov Frolov Gusev Ilyin Kozlov Lebedev Morozov Nikitin "
        "Orlov Popov Rybakov Sokolov Titov Usov Volkov Zhukov Zaitsev Yashin Makarov Lapin "
        "Kuzmin Gromov Danilov Bogdanov Antonov Vinogradov Sorokin Kiselev Tarasov Belyaev "
        "Komarov Fomin Davydov Medvedev Shchukin Kalinin Ershov Nazarov Vlasov Mironov "
        "Savin Kovalev Sergeev Zverev Golubev Baranov").split()  # fmt: skip


async def test_a_thousand_rows_keep_the_page_responsive_and_stop_after_the_current_row(
    net: Net,
) -> None:
    page = net.lawyer.page
    names = [f"{f} {last}" for f in FIRST for last in LAST][:1000]
    lines = ["label,name,dob"] + [f"bulk {i},{n},19{50 + i % 50}" for i, n in enumerate(names)]
    csv = {"name": "bulk.csv", "mimeType": "text/csv", "buffer": "\n".join(lines).encode()}
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{net.console}/settings")
    await page.get_by_text("Add clients from a CSV file").click()
    upload = page.locator("details.watchlist-upload")
    await page.set_input_files("#watchlist-file", files=[csv])
    await expect(upload.locator(".rows-found")).to_have_text("Rows found: 1000.")
    # A heartbeat on the page's thread: the longest gap between ticks is how long it was busy.
    await page.evaluate(
        """() => { window.longest = 0; let last = performance.now();
            window.beat = setInterval(() => { const now = performance.now();
                window.longest = Math.max(window.longest, now - last); last = now; }, 20); }"""
    )
    posts_before = sum('"label"' in b for b in net.lawyer.bodies)
    await upload.get_by_role("button", name="Add 1000 clients").click()
    progress = upload.locator("progress")
    await expect(progress).not_to_have_attribute(
        "value", re.compile(r"^(0|[0-9])$"), timeout=20_000
    )
    await upload.get_by_role("button", name="Stop after this row").click()
    stopped = upload.locator(".progress-text")
    await expect(stopped).to_have_text(re.compile(r"^Stopped: \d+ of 1000 rows were sent"))
    done = int(re.findall(r"\d+", await stopped.inner_text())[0])
    assert 10 <= done < 1000
    await page.wait_for_timeout(1500)
    posts = sum('"label"' in b for b in net.lawyer.bodies) - posts_before
    assert posts == done  # nothing was sent after the row that was under way
    await expect(upload.locator(".row-ok")).to_have_count(done)
    longest = await page.evaluate("window.longest")
    # Blinding a chunk of 50 names takes ~0.4 s of CPU: that is the worker's, not the page's.
    assert longest < 250, f"the page's thread was busy for {longest} ms"
    # The heartbeat does see the thread busy (so its steadiness means something): a 400 ms task.
    await page.evaluate(
        "() => setTimeout(() => { const t = performance.now(); while (performance.now() - t < 400); })"
    )
    await page.wait_for_function("window.longest >= 350", timeout=5_000)
    sent = RANDOM.sub(" ", "\n".join(net.lawyer.seen + net.lawyer.bodies)).lower()
    assert not [n for n in names if n.split()[1].lower() in sent]
    # The CSP's one Trusted Types policy is the console's: no script can make another (nor the
    # same name twice), nor start a worker from any other URL.
    refused = await page.evaluate(
        """() => [
            () => trustedTypes.createPolicy("lifeline-worker", { createScriptURL: (u) => u }),
            () => trustedTypes.createPolicy("mine", { createScriptURL: (u) => u }),
            () => new Worker("/assets/app.js", { type: "module" }),
        ].map((attempt) => { try { attempt(); return "allowed"; } catch (e) { return e.name; } })"""
    )
    assert refused == ["TypeError", "TypeError", "TypeError"], refused
