"""The lawyer's language: alert emails and the ack-link page in English or Russian."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import erased_event, receiver, until
from tests.integration.alerts.test_delivery import _decrypted, page_lev, setup_lawyer

DATA = Path(__file__).parent / "data"
HTML = {"Accept": "text/html"}


async def _set_language(stack: AlertsStack, body: dict[str, Any]) -> dict[str, Any]:
    resp = await stack.call("PUT", "/v1/lawyer/profile", json=body)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_the_profile_keeps_the_language_and_a_put_without_it_means_english(
    stack: AlertsStack,
) -> None:
    email = {"address": "lawyer@example.org"}
    assert (await stack.call("GET", "/v1/lawyer/profile")).json()["language"] == "en"
    assert (await _set_language(stack, {"email": email, "language": "ru"}))["language"] == "ru"
    assert (await stack.call("GET", "/v1/lawyer/profile")).json()["language"] == "ru"
    # A PUT replaces the whole profile: without a language it is the default again.
    assert (await _set_language(stack, {"email": email}))["language"] == "en"
    bad = await stack.call("PUT", "/v1/lawyer/profile", json={"email": email, "language": "de"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["path"] == "language"
    assert (await stack.call("GET", "/v1/lawyer/profile")).json()["language"] == "en"


async def test_a_russian_lawyer_gets_russian_alert_emails(stack: AlertsStack) -> None:
    await setup_lawyer(stack)
    await _set_language(stack, {"email": {"address": "lawyer@example.org"}, "language": "ru"})
    report_id = await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert mail["Subject"] == "Оповещение Lifeline — требуются действия"
    assert isinstance(mail, EmailMessage)
    body = str(mail.get_content())
    assert body.startswith("Партнёр сообщил")
    assert "Приоритет:  наивысший" in body
    assert "Войдите, чтобы увидеть оповещение: " in body
    assert "lifeline alerts ack" in body  # the command is the command in any language
    for english in ("A partner reported", "Priority", "Sign in"):
        assert english not in body
    # So is every later message about the alert: its withdrawal, say.
    await stack.publish(erased_event(report_id))
    assert await until(lambda: len(stack.mailbox.to("lawyer@example.org")) == 2)
    notice = stack.mailbox.to("lawyer@example.org")[1]
    assert notice["Subject"] == "Оповещение Lifeline — отозвано"
    assert isinstance(notice, EmailMessage)
    assert "отозвано" in str(notice.get_content())


async def test_a_russian_test_alert_is_russian(stack: AlertsStack) -> None:
    async with receiver() as hook:
        profile = await setup_lawyer(stack, hook=hook)
        await _set_language(stack, {
            "webhook": {"url": hook.url}, "email": {"address": "lawyer@example.org"},
            "language": "ru",
        })  # fmt: skip
        by_role = {c["role"]: c["id"] for c in profile["contacts"]}
        for role in ("primary", "secondary"):
            resp = await stack.call(
                "POST", "/v1/lawyer/profile/test", json={"contact": by_role[role]}
            )
            assert resp.json()["delivered"] is True, resp.text
        assert hook.hits[0].payload["data"]["message"].startswith("Это тестовое оповещение")
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert mail["Subject"] == "Тестовое оповещение Lifeline"


async def test_the_ack_page_speaks_the_lawyers_language_whatever_the_browser_asks(
    stack: AlertsStack,
) -> None:
    public = (DATA / "lawyer-public.asc").read_text()
    await setup_lawyer(stack, pgp=public)
    email = {"address": "lawyer@example.org", "pgp_public_key": public}
    await _set_language(stack, {"email": email, "language": "ru"})
    await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert mail["Subject"] == "Оповещение Lifeline — требуются действия"
    text = _decrypted(mail)
    assert "Подтвердить (эскалация остановится; ссылка действует один раз): " in text
    assert "Запись:     client 12" in text
    link = re.search(r"(http://\S+/v1/ack/\S+)", text)
    assert link is not None
    english = {**HTML, "Accept-Language": "en-GB,en;q=0.9"}
    async with httpx.AsyncClient() as browser:
        page = await browser.get(link.group(1), headers=english)
        assert page.status_code == 200 and '<html lang="ru">' in page.text
        assert "Беру на себя — подтвердить" in page.text and "acknowledge" not in page.text
        done = await browser.post(link.group(1), headers=english)
        assert done.status_code == 200 and "Подтверждено" in done.text
        again = await browser.post(link.group(1), headers=english)
        assert again.status_code == 409 and "Ссылка уже использована" in again.text


@pytest.mark.parametrize(
    ("accept_language", "expected", "lang"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "Ссылка недействительна.", "ru"),
        ("de-DE,en;q=0.5,ru;q=0.4", "This link is not valid.", "en"),
        ("en;q=0.3, ru;q=0.8", "Ссылка недействительна.", "ru"),
        ("", "This link is not valid.", "en"),
    ],
)
async def test_an_invalid_link_page_follows_accept_language(
    stack: AlertsStack, accept_language: str, expected: str, lang: str
) -> None:
    headers = {**HTML, "Accept-Language": accept_language}
    for method in ("GET", "POST"):
        page = await stack.http.request(method, "/v1/ack/not-a-link", headers=headers)
        assert page.status_code == 422
        assert expected in page.text and f'<html lang="{lang}">' in page.text
    api = await stack.http.post("/v1/ack/not-a-link", headers={"Accept-Language": "ru"})
    assert api.status_code == 422 and api.json()["code"] == "invalid_input"
