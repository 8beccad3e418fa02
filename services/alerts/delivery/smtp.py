"""Handing one message to the SMTP server: over TLS unless told otherwise, honest about refusals.

The client is aiosmtplib: asyncio-native and well kept, so a send is a coroutine on the service's
own loop rather than a blocking smtplib session in a worker thread.

TLS is STARTTLS (port 587) or implicit TLS (465), with the server's certificate and name checked;
a server that does not offer STARTTLS gets nothing, never the message in the clear. `none`
(plaintext) exists for tests and a relay on the same host, and must be chosen explicitly.

A 4xx answer is transient and retried. A 5xx answer to this message (its recipient or its
content) is permanent: retrying cannot help, so the delivery ends with that code as its reason.
A 5xx to the session itself (greeting, sender, login) is this deployment's configuration, which
an operator can fix: it is retried like a network failure rather than losing the alert.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Final, Literal

import aiosmtplib

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


class Unavailable(Exception):
    """The server lacks an extension this configuration needs (STARTTLS, AUTH)."""

    def __init__(self, extension: str) -> None:
        super().__init__(extension)
        self.extension = extension


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Certificate and host name verified, against `ca_file` if set (a private relay's CA)."""
    return ssl.create_default_context(cafile=config.ca_file)


def failure_name(exc: BaseException) -> str:
    """What went wrong on the network, named as the OS or TLS layer names it (not the wrapper)."""
    if isinstance(exc, TimeoutError):
        return "TimeoutError"
    cause = exc.__cause__
    while isinstance(cause, OSError) and isinstance(cause.__cause__, OSError):
        cause = cause.__cause__
    # aiosmtplib wraps a refused connection or a failed handshake; the cause is the reason.
    named = cause if isinstance(cause, OSError) else exc
    return type(named).__name__[:64]


def classify(exc: aiosmtplib.SMTPException) -> SendResult:
    """The verdict of a refusal: permanent for a 5xx to this message, a retry otherwise."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
    elif isinstance(exc, aiosmtplib.SMTPDataError):
        codes = [exc.code]
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendResult("retry", error=f"smtp_{exc.code}")
    else:
        return SendResult("retry", error=failure_name(exc))
    error = f"smtp_{codes[0]}" if codes else "smtp_refused"
    permanent = bool(codes) and all(500 <= code < 600 for code in codes)
    return SendResult("failed" if permanent else "retry", error=error)


class SmtpTransport:
    """One connection per message, on the event loop (no thread)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.context = None if config.tls == "none" else tls_context(config)

    async def submit(self, message: Message) -> SendResult:
        """Hand `message` over; refusals and network failures are results, not errors."""
        try:
            await self._submit(message)
        except Unavailable as exc:
            return SendResult("retry", error=f"smtp_{exc.extension}_unavailable")
        except aiosmtplib.SMTPException as exc:
            return classify(exc)
        except OSError as exc:  # refused, timed out, or a certificate that does not verify
            return SendResult("retry", error=failure_name(exc))
        return SendResult("delivered")

    async def _submit(self, message: Message) -> None:
        cfg = self.config
        smtp = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            timeout=cfg.timeout_s,
            use_tls=cfg.tls == "tls",
            start_tls=False,  # done below, required rather than "if offered"
            tls_context=self.context,
        )
        async with smtp:
            if cfg.tls == "starttls":
                if not await offers(smtp, "starttls"):
                    raise Unavailable("starttls")  # no downgrade to plaintext
                await smtp.starttls()
            if cfg.username:
                if not await offers(smtp, "auth"):
                    raise Unavailable("auth")
                await smtp.login(cfg.username, cfg.password)
            await smtp.send_message(message)


async def offers(smtp: aiosmtplib.SMTP, extension: str) -> bool:
    """Whether the server offers `extension`, greeting it first if need be (EHLO, else HELO)."""
    if smtp.is_ehlo_or_helo_needed:
        try:
            await smtp.ehlo()
        except aiosmtplib.SMTPHeloError:
            await smtp.helo()  # an old server without ESMTP: it offers no extensions
    return smtp.supports_extension(extension)
