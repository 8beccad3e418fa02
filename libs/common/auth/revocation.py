"""Revocations fed by `lifeline.auth.revoked.v1`: tokens issued before a cut-off stop working."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from libs.common.auth.jwk import is_safe_kid
from libs.common.auth.principal import Principal
from libs.common.errors import InvalidInput

log = logging.getLogger("libs.common.auth")

# A revocation only has to outlive the tokens it can hit: anything issued before not_before
# expires at most max lifetime (600 s) + leeway later, so entries are dropped after this.
DEFAULT_RETENTION_SECONDS = 900.0


class RevocationKind(StrEnum):
    """What a revocation targets."""

    CLIENT = "client"  # an API client: every token issued to it
    CLIENT_KEY = "client_key"  # one registered client key: tokens obtained with it
    ORG = "org"  # a partner organisation: every token of every client it has
    # One of sharing's token-signing keys (header kid). Whoever holds a leaked signing key
    # writes any iat they like, so this kind refuses every token under that kid, for good.
    SIGNING_KEY = "signing_key"


# The id goes under the allow-listed log field that names it (libs/common/logging.py).
_LOG_FIELD = {
    RevocationKind.CLIENT: "client_id",
    RevocationKind.CLIENT_KEY: "key_id",
    RevocationKind.ORG: "partner_id",
    RevocationKind.SIGNING_KEY: "key_id",
}


def revocation_event_data(
    kind: RevocationKind, ident: str, revoked_at: float, *, grace_seconds: float = 2.0
) -> dict[str, Any]:
    """The `data` of a `lifeline.auth.revoked.v1` event, as `RevocationList.apply` reads it."""
    # Another token-endpoint replica may have checked the registry just before the revocation
    # committed and mint a moment after it; the grace covers such in-flight tokens.
    not_before = revoked_at + grace_seconds
    stamp = datetime.fromtimestamp(not_before, tz=UTC).isoformat(timespec="microseconds")
    return {"kind": kind.value, "id": ident, "not_before": stamp.replace("+00:00", "Z")}


class RevocationList:
    """In-memory (kind, id) -> not-before time; a token issued earlier than that is refused."""

    def __init__(
        self,
        *,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._entries: dict[tuple[RevocationKind, str], float] = {}
        self._signing_kids: set[str] = set()
        self._retention = retention_seconds
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries) + len(self._signing_kids)

    def revoke(self, kind: RevocationKind, ident: str, not_before: float) -> None:
        """Refuse tokens of `ident` issued before `not_before` (epoch seconds); keeps the latest."""
        if not ident or len(ident) > 256 or not math.isfinite(not_before):
            raise InvalidInput("invalid revocation")
        if kind is RevocationKind.SIGNING_KEY:
            self._signing_kids.add(ident)
        else:
            key = (kind, ident)
            self._entries[key] = max(not_before, self._entries.get(key, not_before))
            self.prune()
        log.info("revocation applied", extra={"reason": kind.value, _LOG_FIELD[kind]: ident})

    def apply(self, event_data: Mapping[str, Any]) -> None:
        """Apply the `data` of a `lifeline.auth.revoked.v1` event (see `revocation_event_data`)."""
        try:
            kind = RevocationKind(event_data["kind"])
            ident = event_data["id"]
            not_before = _epoch(event_data["not_before"])
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidInput("invalid revocation event") from exc
        if not isinstance(ident, str):
            raise InvalidInput("invalid revocation event")
        if kind in (RevocationKind.CLIENT_KEY, RevocationKind.SIGNING_KEY) and not is_safe_kid(
            ident
        ):
            raise InvalidInput("invalid revocation event")
        self.revoke(kind, ident, not_before)

    def is_revoked(self, principal: Principal) -> bool:
        """True when any revocation covering this principal's token postdates its `iat`."""
        if self._signing_kids and principal.signing_kid in self._signing_kids:
            return True
        if not self._entries:
            return False
        get = self._entries.get
        # iat is whole seconds rounded down and not_before is exact, so a token minted in the
        # same second as the revocation but before it is still caught (iat < not_before).
        for key in (
            (RevocationKind.CLIENT, principal.client_id),
            (RevocationKind.CLIENT_KEY, principal.client_kid),
            (RevocationKind.ORG, principal.partner_id),
        ):
            not_before = get(key)
            if not_before is not None and principal.iat < not_before:
                return True
        return False

    def forget_signing_keys_except(self, published: Collection[str]) -> list[str]:
        """Forget revoked signing keys the issuer no longer publishes; returns those forgotten.

        A token under a kid missing from the JWKS fails verification anyway, so the revocation
        has done its work; kept, it would outlive every restart and key rotation.
        """
        gone = sorted(self._signing_kids - set(published))
        self._signing_kids.difference_update(gone)
        for kid in gone:
            log.info("signing key revocation pruned", extra={"key_id": kid})
        return gone

    def prune(self) -> None:
        """Forget revocations whose affected tokens have all expired (signing keys: see
        `forget_signing_keys_except`)."""
        horizon = self._clock() - self._retention
        stale = [key for key, not_before in self._entries.items() if not_before < horizon]
        for key in stale:
            del self._entries[key]


def _epoch(value: object) -> float:
    """An RFC 3339 timestamp with a zone, or epoch seconds, as epoch seconds."""
    if isinstance(value, bool):
        raise TypeError("not a time")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("timestamp without a zone")
        result = parsed.timestamp()
    else:
        raise TypeError("not a time")
    if not math.isfinite(result):
        raise ValueError("not a finite time")
    return result
