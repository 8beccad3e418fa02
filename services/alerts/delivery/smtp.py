"""Handing one message to the SMTP server: over TLS unless told otherwise, honest about refusals.

TLS is STARTTLS (port 587) or implicit TLS (465), with the server's certificate and name checked;
a server that does not offer STARTTLS gets nothing, never the message in the clear. `none`
(plaintext) exists for tests and a relay on the same host, and must be chosen explicitly.

A 4xx answer is transient and retried. A 5xx answer to this message (its recipient or its
content) is permanent: retrying cannot help, so the delivery ends with that code as its reason.
A 5xx to the session itself (greeting, sender, login) is this deployment's configuration, which
an operator can fix: it is retried like a network failure rather than losing the alert.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Final, Literal

from services.alerts.delivery.domain import SendResult

SmtpTls = Literal["starttls", "tls", "none"]
DEFAULT_PORTS: Final[dict[str, int]] = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over."""

    host: str
    port: int
    sender: str
    tls: SmtpTls = "starttls"
    ca_file: Path | None = None  # trust this CA (PEM) instead of the system's
    username: str = ""
    password: str = ""
    timeout_s: float = 10.0


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Certificate and host name verified, against `ca_file` if set (a private relay's CA)."""
    return ssl.create_default_context(cafile=config.ca_file)


def classify(exc: smtplib.SMTPException) -> SendResult:
    """The verdict of a refusal: permanent for a 5xx to this message, a retry otherwise."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
    elif isinstance(exc, smtplib.SMTPDataError):
        codes = [exc.smtp_code]
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendResult("retry", error="smtp_starttls_unavailable")
    elif isinstance(exc, smtplib.SMTPResponseException):
        return SendResult("retry", error=f"smtp_{exc.smtp_code}")
    else:
        return SendResult("retry", error=type(exc).__name__[:64])
    error = f"smtp_{codes[0]}" if codes else "smtp_refused"
    permanent = bool(codes) and all(500 <= code < 600 for code in codes)
    return SendResult("failed" if permanent else "retry", error=error)


class SmtpTransport:
    """One connection per message, in a worker thread (smtplib is blocking)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.context = None if config.tls == "none" else tls_context(config)

    async def submit(self, message: Message) -> SendResult:
        """Hand `message` over; refusals and network failures are results, not errors."""
        try:
            await asyncio.to_thread(self._submit_blocking, message)
        except smtplib.SMTPException as exc:
            return classify(exc)
        except OSError as exc:  # refused, timed out, or a certificate that does not verify
            return SendResult("retry", error=type(exc).__name__[:64])
        return SendResult("delivered")

    def _submit_blocking(self, message: Message) -> None:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.tls == "tls":
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=self.context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
        with smtp:
            if cfg.tls == "starttls":
                # Raises SMTPNotSupportedError when the server offers no STARTTLS: no downgrade.
                smtp.starttls(context=self.context)
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
            smtp.send_message(message)
