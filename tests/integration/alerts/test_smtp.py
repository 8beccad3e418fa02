"""Email over a real SMTP server (aiosmtpd): TLS unless told otherwise, 5xx final, 4xx retried."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.alerts.delivery.channels.email import EmailChannel, from_settings
from services.alerts.delivery.domain import Outgoing, SendResult
from services.alerts.delivery.models import Delivery, DeliveryAttempt
from services.alerts.settings import AlertsSettings
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import Mailbox, smtp_server, until
from tests.integration.alerts.test_delivery import page_lev, setup_lawyer
from tests.support.natsd import free_port
from tests.support.tls import self_signed
from tests.unit.alerts.test_adapters import VIEW

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
ATTEMPTS = DeliveryAttempt.__table__  # type: ignore[attr-defined]


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A throwaway certificate for 127.0.0.1 (its own CA) and a server context holding it."""
    cert_file, key_file = self_signed("127.0.0.1", tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


async def _send(tmp_path: Path, port: int, **settings: Any) -> SendResult:
    """One email through the channel as the service builds it from its settings."""
    config = AlertsSettings(
        data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_s=5, **settings
    )
    channel: EmailChannel = from_settings(config)
    message = Outgoing("d-1", "lawyer@example.org", None, None, VIEW)
    return await channel.send(message, datetime.now(UTC))


@pytest.fixture
async def starttls_server(
    cert: tuple[Path, ssl.SSLContext],
) -> AsyncIterator[tuple[Mailbox, int]]:
    """An SMTP server that offers STARTTLS and takes no mail before it."""
    async with smtp_server(starttls=cert[1]) as server:
        yield server


async def test_mail_goes_over_starttls_by_default(
    tmp_path: Path, cert: tuple[Path, ssl.SSLContext], starttls_server: tuple[Mailbox, int]
) -> None:
    box, port = starttls_server
    result = await _send(tmp_path, port, smtp_ca_file=cert[0])
    assert result == SendResult("delivered")
    assert [m["Message-ID"] for m in box.messages] == ["<d-1@lifeline-alerts>"]


async def test_a_server_without_starttls_gets_nothing_unless_plaintext_is_chosen(
    tmp_path: Path,
) -> None:
    async with smtp_server() as (box, port):
        refused = await _send(tmp_path, port)
        assert (refused.outcome, refused.error, box.messages) == (
            "retry",
            "smtp_starttls_unavailable",
            [],
        )
        # Tests and a relay on this host: plaintext, chosen explicitly.
        assert await _send(tmp_path, port, smtp_tls="none") == SendResult("delivered")
        assert len(box.messages) == 1


async def test_a_certificate_that_does_not_verify_gets_nothing(
    tmp_path: Path, starttls_server: tuple[Mailbox, int]
) -> None:
    box, port = starttls_server
    result = await _send(tmp_path, port)  # the throwaway CA is not trusted
    assert (result.outcome, result.error, box.messages) == (
        "retry",
        "SSLCertVerificationError",
        [],
    )


async def test_implicit_tls(tmp_path: Path, cert: tuple[Path, ssl.SSLContext]) -> None:
    async with smtp_server(implicit_tls=cert[1]) as (box, port):
        result = await _send(tmp_path, port, smtp_tls="tls", smtp_ca_file=cert[0])
        assert result == SendResult("delivered") and len(box.messages) == 1
        untrusted = await _send(tmp_path, port, smtp_tls="tls")  # the system CAs do not know it
        assert (untrusted.outcome, untrusted.error) == ("retry", "SSLCertVerificationError")
        assert len(box.messages) == 1


async def test_login_with_the_password_from_its_file_and_a_wrong_one_is_retried(
    tmp_path: Path, cert: tuple[Path, ssl.SSLContext]
) -> None:
    password = tmp_path / "smtp-password"
    password.write_text("s3cret\n")
    async with smtp_server(starttls=cert[1], login=("alerts", "s3cret")) as (box, port):
        settings = {
            "smtp_ca_file": cert[0],
            "smtp_username": "alerts",
            "smtp_password_file": password,
        }
        assert await _send(tmp_path, port, **settings) == SendResult("delivered")
        assert len(box.messages) == 1
        # Without a login the server refuses the sender; with a wrong password, the login.
        assert await _send(tmp_path, port, smtp_ca_file=cert[0]) == SendResult(
            "retry", error="smtp_530"
        )
        password.write_text("wrong")
        assert await _send(tmp_path, port, **settings) == SendResult("retry", error="smtp_535")
        assert len(box.messages) == 1


async def test_a_login_the_server_cannot_take_sends_nothing(tmp_path: Path) -> None:
    async with smtp_server() as (box, port):  # plaintext: it offers no AUTH
        result = await _send(tmp_path, port, smtp_tls="none", smtp_username="alerts")
    assert (result.outcome, result.error, box.messages) == ("retry", "smtp_auth_unavailable", [])


async def test_no_server_or_a_silent_one_is_retried(tmp_path: Path) -> None:
    result = await _send(tmp_path, free_port(), smtp_tls="none")  # nothing listens there
    assert (result.outcome, result.error) == ("retry", "ConnectionRefusedError")

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the connection, never greets

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        config = AlertsSettings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                                smtp_tls="none", smtp_timeout_s=0.5)  # fmt: skip
        message = Outgoing("d-1", "lawyer@example.org", None, None, VIEW)
        result = await from_settings(config).send(message, datetime.now(UTC))
    assert (result.outcome, result.error) == ("retry", "TimeoutError")


@pytest.mark.parametrize(
    ("answer", "outcome", "error"),
    [
        ("550 5.1.1 no such user", "failed", "smtp_550"),
        ("451 4.3.0 try again later", "retry", "smtp_451"),
    ],
)
async def test_a_5xx_refusal_is_final_and_a_4xx_is_retried(
    tmp_path: Path, answer: str, outcome: str, error: str
) -> None:
    async with smtp_server() as (box, port):
        box.rcpt_answer = answer
        result = await _send(tmp_path, port, smtp_tls="none")
    assert (result.outcome, result.error) == (outcome, error)


async def _email_deliveries(stack: AlertsStack) -> list[Any]:
    rows = await stack.db(
        select(DELIVERIES.c.id, DELIVERIES.c.status, DELIVERIES.c.last_error).where(
            DELIVERIES.c.channel == "email"
        )
    )
    return list(rows)


async def _attempts(stack: AlertsStack, delivery_id: str) -> list[Any]:
    query = select(ATTEMPTS.c.outcome, ATTEMPTS.c.error).where(
        ATTEMPTS.c.delivery_id == delivery_id
    )
    return list(await stack.db(query.order_by(ATTEMPTS.c.id)))


async def test_a_refused_recipient_ends_the_delivery_with_its_reason(stack: AlertsStack) -> None:
    stack.mailbox.rcpt_answer = "550 5.1.1 no such user"
    await setup_lawyer(stack)  # email only: the first page goes there
    await page_lev(stack)

    async def ended() -> bool:
        return any(d.status == "failed" for d in await _email_deliveries(stack))

    assert await until(ended, timeout=10)
    (delivery,) = await _email_deliveries(stack)
    assert delivery.last_error == "smtp_550"
    # Not retried: one attempt, and none later.
    await asyncio.sleep(1.5)  # several retry delays of the stack's fast schedule
    assert await _attempts(stack, delivery.id) == [("failed", "smtp_550")]
    alert_id = (await stack.call("GET", "/v1/alerts")).json()["alerts"][0]["id"]
    detail = (await stack.call("GET", f"/v1/alerts/{alert_id}")).json()
    (email,) = [d for d in detail["deliveries"] if d["channel"] == "email"]
    assert email["status"] == "failed"
    assert [(a["outcome"], a["error"]) for a in email["attempts"]] == [("failed", "smtp_550")]


async def test_a_deferred_recipient_is_retried_until_it_is_taken(stack: AlertsStack) -> None:
    stack.mailbox.rcpt_answer = "451 4.3.0 try again later"
    await setup_lawyer(stack)
    await page_lev(stack)

    async def retried() -> bool:
        (delivery,) = await _email_deliveries(stack) or [None]
        return delivery is not None and len(await _attempts(stack, delivery.id)) >= 2

    assert await until(retried, timeout=10)
    stack.mailbox.rcpt_answer = "250 OK"
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"), timeout=10)
    (delivery,) = await _email_deliveries(stack)

    async def recorded() -> bool:
        # The server has the mail a moment before the worker records the attempt's outcome.
        return (await _attempts(stack, delivery.id))[-1] == ("delivered", None)

    assert await until(recorded, timeout=10)
    attempts = await _attempts(stack, delivery.id)
    assert attempts[0] == ("retry", "smtp_451")
