"""An identity token as a value: its kind, key version and pseudonym, and its text form.

Apart from `tokens` (the OPRF client side) so that a service that only stores and compares
tokens (alerts) never loads the ristretto255 group and libsodium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidInput
from libs.common.identity.canonical import Kind

_TEXT: Final = re.compile(r"([a-z_]+)\.([0-9]{1,9})\.([A-Za-z0-9_-]{86})")


@dataclass(frozen=True, order=True)
class Token:
    """One identity token. Its value is a pseudonym: it is never logged or shown."""

    kind: Kind
    key_version: int
    value: bytes = field(repr=False)

    def encode(self) -> str:
        """Text form for events and storage: `<kind>.<key version>.<base64url value>`."""
        return f"{self.kind.value}.{self.key_version}.{b64u_encode(self.value)}"

    @classmethod
    def decode(cls, text: str) -> Token:
        """Parse the text form; raises InvalidInput on anything else."""
        found = _TEXT.fullmatch(text) if isinstance(text, str) else None
        try:
            kind = Kind(found.group(1)) if found else None
            value = b64u_decode(found.group(3)) if found else b""
        except (ValueError, InvalidKey):
            kind = None
        if found is None or kind is None:
            raise InvalidInput("malformed identity token", fields=[{"field": "tokens"}])
        return cls(kind, int(found.group(2)), value)
