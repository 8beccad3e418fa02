"""Email delivery over SMTP (TLS: `delivery/smtp.py`), PGP/MIME-encrypted when a key is registered.

Encryption is OpenPGP with Sequoia-PGP (`pysequoia`): a maintained, memory-safe implementation
shipped as a wheel with no system dependency (like rbcl for the OPRF). Encrypting to a v4 key,
which is what GnuPG makes, yields a message GnuPG 2.2+ decrypts (checked by the tests with real
gpg when it is installed, and always by decrypting with Sequoia itself).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.utils import formatdate
from typing import TYPE_CHECKING, Final

from libs.common.errors import InvalidInput
from services.alerts.delivery.domain import PGP_KEY, ContactSpec, Outgoing, SendResult
from services.alerts.delivery.messages.mail import email_subject, email_text
from services.alerts.delivery.smtp import DEFAULT_PORTS, SmtpConfig, SmtpTransport
from services.alerts.settings import AlertsSettings

if TYPE_CHECKING:
    import pysequoia

KIND: Final = "email"
Encrypt = Callable[[str, bytes], bytes]
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")


def valid_email(value: str) -> str:
    """A plausible email address (the mail server has the final word); no control characters."""
    if has_control_characters(value):
        # CR/LF would end the To: header and start one of the sender's choosing; NUL, ESC, DEL
        # and invisible format characters have no place in an address either.
        raise ValueError("control characters are not allowed in an email address")
    if not _EMAIL.fullmatch(value):
        raise ValueError("not an email address")
    return value


def has_control_characters(value: str) -> bool:
    """Whether `value` holds a control, format or other non-printing character (category C)."""
    return any(unicodedata.category(char).startswith("C") for char in value)


# --- OpenPGP -----------------------------------------------------------------------------


def _field_error(detail: str, reason: str) -> InvalidInput:
    return InvalidInput(detail, fields=[{"path": "pgp_public_key", "reason": reason}])


def _cert(armored: str) -> pysequoia.Cert:
    # Sequoia is loaded when a key is first used, not by every idle alerts process (~2 MB).
    import pysequoia

    try:
        return pysequoia.Cert.from_bytes(armored.encode())
    except Exception:  # the parser raises its own error types for every kind of bad input
        raise _field_error("not a usable OpenPGP public key", "unparsable") from None


def check_key(armored: str) -> None:
    """Refuse private keys, revoked keys and keys nothing can be encrypted to."""
    cert = _cert(armored)
    with warnings.catch_warnings():
        # Deprecated in favour of parsing as a Tsk, which also accepts public keys: useless here.
        warnings.simplefilter("ignore", DeprecationWarning)
        secret = cert.has_secret_keys
    if secret:
        raise _field_error("that is a private key: register the public key only", "private key")
    if cert.is_revoked:
        raise _field_error("the key is revoked", "revoked")
    try:
        encrypt(armored, b"probe")
    except ValueError:
        raise _field_error("the key has no usable encryption subkey", "cannot encrypt") from None


def key_expiry(armored: str | None) -> datetime | None:
    """When the key expires (None: never, or no usable key); read once, as it is saved."""
    if not armored:
        return None
    import pysequoia

    try:
        value = pysequoia.Cert.from_bytes(armored.encode()).expiration
    except Exception:  # checked when saved: an unreadable key has no expiry to warn of
        return None
    return value if isinstance(value, datetime) else None


def encrypt(armored: str, data: bytes) -> bytes:
    """ASCII-armoured OpenPGP message of `data` for the key; ValueError if it cannot be done."""
    import pysequoia

    try:
        return pysequoia.encrypt(data, recipients=[pysequoia.Cert.from_bytes(armored.encode())])
    except Exception as exc:  # expired, no encryption subkey, unparsable …
        raise ValueError("encryption to this key failed") from exc


# --- the message --------------------------------------------------------------------------


def build_message(
    config: SmtpConfig,
    *,
    to: str,
    subject: str,
    text: str,
    message_id: str,
    pgp_key: str | None,
    encrypt: Encrypt | None,
    now: datetime,
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
    outer["Date"] = formatdate(now.timestamp(), usegmt=True)
    # Constant across retries, like the webhook-id: a mail system can drop the duplicate.
    outer["Message-ID"] = f"<{message_id}@lifeline-alerts>"
    return outer


def _noop(_: Message) -> None:
    """Armoured OpenPGP is already 7-bit text: no transfer encoding on top."""


class Mailer:
    """Builds each message (PGP/MIME when it can) and hands it to the SMTP transport."""

    def __init__(self, config: SmtpConfig, encrypt: Encrypt | None) -> None:
        self.config = config
        self.encrypt = encrypt
        self.transport = SmtpTransport(config)

    async def send(
        self,
        to: str,
        subject: str,
        text: str,
        message_id: str,
        pgp_key: str | None,
        *,
        now: datetime,
    ) -> SendResult:
        """One attempt; a 5xx refusal of the message is final, other failures are retried."""
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
                now=now,
            )
        except ValueError:
            return SendResult("retry", error="openpgp_key_unusable")
        return await self.transport.submit(message)


class EmailChannel:
    """Email: in the clear the alert id, priority and sign-in links; details and the ack link
    when PGP-encrypted."""

    kind = KIND
    accepts = frozenset({PGP_KEY})
    carries_details = False
    encrypts_with_pgp_key = True
    carries_action_links = False

    def __init__(self, mailer: Mailer, *, check_pgp_key: Callable[[str], None]) -> None:
        self.mailer = mailer
        self.check_pgp_key = check_pgp_key
        self.timeout_s = mailer.config.timeout_s

    def parse_address(self, address: str) -> str:
        """A plausible email address."""
        return valid_email(address)

    def parse_secret(self, secret: str) -> str:
        """Email takes no secret (`accepts` says so first)."""
        raise ValueError("email takes no secret")

    def acts_for(self, address: str, secret: str | None) -> bool:
        """Only through OpenPGP (`encrypts_with_pgp_key`)."""
        return False

    def check(self, contact: ContactSpec) -> None:
        """Refuse an OpenPGP key nothing can be encrypted to."""
        if contact.pgp_key:
            self.check_pgp_key(contact.pgp_key)

    def new_secret(self) -> str | None:
        """Email signs nothing."""
        return None

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        """Hand the message to the SMTP server (PGP/MIME if the contact has a key)."""
        view, encrypted = message.view, bool(message.pgp_key)
        return await self.mailer.send(
            message.address,
            email_subject(view),
            email_text(view, encrypted=encrypted),
            message.delivery_id,
            message.pgp_key,
            now=now,
        )

    async def aclose(self) -> None:
        """Nothing held between sends (one SMTP connection per message)."""


def from_settings(settings: AlertsSettings) -> EmailChannel:
    """The email channel over the configured SMTP server (deliveries fail if there is none)."""
    password = ""
    if settings.smtp_password_file is not None:
        password = settings.smtp_password_file.read_text().strip()
    config = SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_tls],
        sender=settings.smtp_from,
        tls=settings.smtp_tls,
        ca_file=settings.smtp_ca_file,
        username=settings.smtp_username,
        password=password,
        timeout_s=settings.smtp_timeout_s,
    )
    return EmailChannel(Mailer(config, encrypt), check_pgp_key=check_key)
