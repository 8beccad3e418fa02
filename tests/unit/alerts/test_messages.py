"""Message catalogues: every language says everything, with the same placeholders; texts render."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import get_args

import pytest

from services.alerts.alerts.domain import OUTCOMES, AlertStatus
from services.alerts.alerts.schemas import Outcome
from services.alerts.delivery.domain import NOTICE_KINDS, PAGE_KINDS
from services.alerts.delivery.messages import (
    DEFAULT,
    LANGUAGES,
    catalogue,
    negotiate,
    placeholders,
    text,
)
from services.alerts.delivery.messages.mail import chat_text, email_subject, email_text, ping_text
from services.alerts.delivery.profiles.probe import probe_view
from services.alerts.delivery.secrets import SecretBox
from tests.unit.alerts.test_adapters import VIEW


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != DEFAULT])
def test_every_catalogue_has_the_same_keys_and_placeholders(language: str) -> None:
    default, other = catalogue(DEFAULT), catalogue(language)
    assert set(other) == set(default)
    differ = {k for k in default if placeholders(default[k]) != placeholders(other[k])}
    assert differ == set()
    assert all(value.strip() for value in other.values())


def test_the_checks_can_fail() -> None:
    assert placeholders("Alert {alert_id} by {who}") == {"alert_id", "who"}
    assert placeholders("Alert {alert_id}") != placeholders("Оповещение {id}")


def test_russian_is_russian() -> None:
    ru = catalogue("ru")
    assert ru["ack.form.button"] == "Беру на себя — подтвердить"
    assert ru["page.title"] == "Оповещение Lifeline"
    # Beyond names (Lifeline) and the command line, no text is left in English.
    latin_words = {
        k for k, v in ru.items() if any(w in v for w in (" the ", " alert ", "Sign in", "Alert"))
    }
    assert latin_words == set()


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("de,ru;q=0.5", "ru"),
        ("ru;q=0, en;q=0.1", "en"),
        ("RU", "ru"),
        ("fr, de", DEFAULT),
        ("ru;q=bad, en;q=0.2", "en"),
        ("", DEFAULT),
        (None, DEFAULT),
    ],
)
def test_accept_language_picks_the_best_language_we_have(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_an_unknown_language_reads_the_default() -> None:
    assert text("xx", "ack.done.title") == text(DEFAULT, "ack.done.title") == "Acknowledged"


def test_a_russian_email_is_russian_and_still_carries_nothing_in_the_clear() -> None:
    view = dataclasses.replace(VIEW, language="ru")
    assert email_subject(view) == "Оповещение Lifeline — требуются действия"
    plain = email_text(view, encrypted=False)
    assert "client 12" not in plain and "KG" not in plain and view.ack_url not in plain
    assert "Приоритет:  наивысший" in plain and view.alert_url in plain
    secret = email_text(view, encrypted=True)
    assert "Запись:     client 12" in secret and view.ack_url in secret
    acked = dataclasses.replace(
        view, kind="ack_notice", acked_by="lawyer-1", acked_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert email_subject(acked) == "Оповещение Lifeline — принято"
    assert "lawyer-1 в 2026-01-01 00:00 UTC" in email_text(acked, encrypted=False)


def test_a_console_link_replaces_the_sign_in_lines_and_the_report_address() -> None:
    link = "https://console.example/alerts/a-1"
    view = dataclasses.replace(VIEW, alert_url=link, report_url=link, console=True)
    plain = email_text(view, encrypted=False)
    assert f"Open the alert in the Lifeline console: {link}" in plain
    assert "/v1/" not in plain and plain.count(link) == 1
    sealed = email_text(view, encrypted=True)
    assert view.ack_url in sealed and link in sealed  # the ack link still acts where it may


def test_a_test_message_names_no_alert_and_holds_no_link() -> None:
    for language in LANGUAGES:
        view = probe_view(language)
        assert email_subject(view) == text(language, "email.subject.test")
        body = email_text(view, encrypted=False)
        assert body.strip() == text(language, "test.message") and "http" not in body


def test_outcomes_and_statuses() -> None:
    assert get_args(Outcome) == OUTCOMES
    assert "resolved" in {s.value for s in AlertStatus}


def test_a_note_is_bound_to_its_alert_and_apart_from_secrets() -> None:
    box = SecretBox(b"k" * 32)
    blob = box.seal_note("alert-1", "Лев is held")
    assert "Лев".encode() not in blob and box.open_note("alert-1", blob) == "Лев is held"
    for wrong in (lambda: box.open_note("alert-2", blob), lambda: box.open("alert-1", blob)):
        with pytest.raises(Exception, match="cannot be decrypted"):
            wrong()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", (*PAGE_KINDS, *NOTICE_KINDS, "test"))
def test_every_kind_of_send_has_a_content_free_ping(language: str, kind: str) -> None:
    # An SMS is the ping alone: a kind without one would fail at send time, not here.
    ping = ping_text(dataclasses.replace(VIEW, kind=kind, language=language))
    assert ping.startswith("Lifeline")
    assert VIEW.label not in ping and VIEW.alert_id not in ping


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", (*PAGE_KINDS, *NOTICE_KINDS, "test"))
def test_every_kind_of_send_has_a_subject_and_a_body(language: str, kind: str) -> None:
    # A kind without its texts crashes its send, which is retried until it gives up: an
    # escalation step did, on email and on every chat channel (they take the email's texts).
    warning = "failing" if kind == "contact_warning" else ""  # what a warning is about
    view = dataclasses.replace(
        VIEW, kind=kind, step=0 if kind == "alert" else 1, language=language, warning=warning
    )
    assert "Lifeline" in email_subject(view)
    for sealed in (False, True):
        assert email_text(view, encrypted=sealed).strip()
        assert chat_text(view, details=sealed).startswith(email_subject(view))
