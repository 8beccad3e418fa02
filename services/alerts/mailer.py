"""Email delivery over SMTP (optionally STARTTLS), PGP/MIME-encrypted when a key is registered."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.utils import formatdate

from services.alerts.webhook import SendResult

Encrypt = Callable[[str, bytes], bytes]


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout_s: float = 10.0


def build_message(
    config: SmtpConfig,
    *,
    to: str,
    subject: str,
    text: str,
    message_id: str,
    pgp_key: str | None,
    encrypt: Encrypt | None,
) -> Message:
    """A plain text message, or RFC 3156 PGP/MIME when the recipient registered a key."""
    inner = EmailMessage()
    inner.set_content(text)
    if pgp_key and encrypt is not None:
        outer: Message = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
        control = MIMEApplication(b"Version: 1\n", "pgp-encrypted", _encoder=_noop)
        body = MIMEApplication(
            encrypt(pgp_key, inner.as_bytes()), "octet-stream", _encoder=_noop, name="encrypted.asc"
        )
        body.add_header("Content-Disposition", "inline", filename="encrypted.asc")
        outer.attach(control)
        outer.attach(body)
    else:
        outer = inner
    outer["Subject"] = subject
    outer["From"] = config.sender
    outer["To"] = to
    outer["Date"] = formatdate(usegmt=True)
    # Constant across retries, like the webhook-id: a mail system can drop the duplicate.
    outer["Message-ID"] = f"<{message_id}@lifeline-alerts>"
    return outer


def _noop(_: Message) -> None:
    """Armoured OpenPGP is already 7-bit text: no transfer encoding on top."""


class Mailer:
    """Sends one message per call in a worker thread (smtplib is blocking)."""

    def __init__(self, config: SmtpConfig, encrypt: Encrypt | None) -> None:
        self.config = config
        self.encrypt = encrypt

    async def send(
        self, to: str, subject: str, text: str, message_id: str, pgp_key: str | None
    ) -> SendResult:
        """One attempt; any SMTP or network failure is a retry."""
        if not self.config.host:
            return SendResult("retry", error="smtp_not_configured")
        if pgp_key and self.encrypt is None:
            return SendResult("retry", error="openpgp_unavailable")
        try:
            message = build_message(
                self.config,
                to=to,
                subject=subject,
                text=text,
                message_id=message_id,
                pgp_key=pgp_key,
                encrypt=self.encrypt,
            )
        except ValueError:
            return SendResult("retry", error="openpgp_key_unusable")
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except smtplib.SMTPResponseException as exc:
            return SendResult("retry", error=f"smtp_{exc.smtp_code}")
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult("retry", error=type(exc).__name__[:64])
        return SendResult("delivered")

    def _send_blocking(self, message: Message) -> None:
        cfg = self.config
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
            smtp.send_message(message)
