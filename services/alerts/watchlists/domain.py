"""Pure rules of watchlists: which reports an entry alerts on, and which tokens it may hold.

No I/O here: the watchlist use cases and matching call these with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from libs.common.crypto.encoding import b64u_decode
from libs.common.crypto.errors import InvalidKey
from libs.common.identity.canonical import Kind
from libs.common.identity.tokenvalue import Token
from libs.common.reports import IdentityToken, IncidentType

# The default: what gets a client extradited, on any legal basis.
DEFAULT_INCIDENT_TYPES: Final = frozenset(
    {
        IncidentType.DETENTION,
        IncidentType.EXTRADITION_REQUEST,
        IncidentType.EXTRADITION_DECISION,
        IncidentType.DEPORTATION,
        IncidentType.ABDUCTION,
    }
)


@dataclass(frozen=True)
class EntryRule:
    """Which reports about an entry alert: incident types, legal bases, countries (empty = any)."""

    incident_types: frozenset[str] = DEFAULT_INCIDENT_TYPES
    legal_bases: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    def applies(self, incident_type: str, legal_basis: str, country: str) -> bool:
        """True when a report with this routing metadata should alert."""
        return (
            incident_type in self.incident_types
            and (not self.legal_bases or legal_basis in self.legal_bases)
            and (not self.countries or country in self.countries)
        )

    def columns(self) -> dict[str, str]:
        """Storage form (sorted, comma-separated)."""
        return {
            "incident_types": ",".join(sorted(self.incident_types)),
            "legal_bases": ",".join(sorted(self.legal_bases)),
            "countries": ",".join(sorted(self.countries)),
        }

    @classmethod
    def from_columns(cls, incident_types: str, legal_bases: str, countries: str) -> EntryRule:
        """Inverse of `columns`."""
        return cls(_split(incident_types), _split(legal_bases), _split(countries))


def _split(text: str) -> frozenset[str]:
    return frozenset(part for part in text.split(",") if part)


def decode_tokens(tokens: Iterable[IdentityToken]) -> list[Token]:
    """Identity tokens as the match rule reads them; kinds it does not know are ignored."""
    out = []
    for token in tokens:
        try:
            out.append(Token(Kind(token.kind), token.version, b64u_decode(token.value)))
        except (ValueError, InvalidKey):
            continue
    return out


def valid_watchlist_tokens(tokens: Sequence[IdentityToken]) -> bool:
    """A watchlist entry needs tokens the match rule understands (64-byte values, known kinds)."""
    decoded = decode_tokens(tokens)
    return len(decoded) == len(tokens) and all(len(t.value) == 64 for t in decoded)
