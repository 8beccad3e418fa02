"""Pure enrolment rules: codes, their hashes, statuses, the link a browser opens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

# 32 random bytes (256 bits): guessing one within its lifetime is out of reach, so the code
# alone may act as the credential of the public enrol route.
CODE_BYTES = 32
ENROL_PATH = "/enrol"


class EnrolmentStatus(StrEnum):
    """An open code can be used once; a used or cancelled one never again."""

    OPEN = "open"
    USED = "used"
    CANCELLED = "cancelled"


def new_enrolment_id() -> str:
    """A random enrolment id (ids reach logs and the audit log; the code never does)."""
    return f"enr_{secrets.token_hex(8)}"


def new_code() -> str:
    """A fresh one-time code, URL-safe so it fits a link and a QR code."""
    return secrets.token_urlsafe(CODE_BYTES)


def code_hash(code: str) -> str:
    """What is stored and looked up: SHA-256 of the code (it has full entropy, no salt needed)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def enrol_link(public_url: str, code: str) -> str:
    """The console's enrolment page; the code rides in the fragment, never sent to a server."""
    return f"{public_url.rstrip('/')}{ENROL_PATH}#code={code}"


def same_fingerprint(shown: str, registered: str) -> bool:
    """Whether the fingerprint an admin typed is the key's (spaces and case do not matter)."""
    a = "".join(shown.split()).lower()
    b = "".join(registered.split()).lower()
    return hmac.compare_digest(a.encode(), b.encode())
