"""The hash chain of the audit log: one rule, used by sharing to append and by the CLI to verify.

Entry `n` stores `hash_n = SHA-256(hash_{n-1} || canonical JSON of entry n)` with `hash_0` =
64 zeros. Editing, inserting or deleting any entry changes every later hash, so recomputing
the chain from the start finds the first entry that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is, no NaN: one spelling for one value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(
    prev_hash: str,
    *,
    seq: int,
    at: str,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any],
) -> str:
    """The hash of one entry chained to the hash of the entry before it (hex)."""
    body = canonical_json(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "details": dict(details),
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry that does not fit the chain, and why."""

    seq: int
    reason: str  # "gap" (missing/reordered entry), "prev_hash", "hash", "malformed"

    def describe(self) -> str:
        """One line for a person reading the verification result."""
        what = {
            "gap": "an entry is missing or out of order before it",
            "prev_hash": "it does not point at the previous entry's hash",
            "hash": "its contents do not match its hash (edited)",
            "malformed": "it cannot be read",
        }[self.reason]
        return f"audit chain broken at entry {self.seq}: {what}"


@dataclass(frozen=True, slots=True)
class ChainResult:
    """How many entries were checked, the last good hash, and the first break if any."""

    checked: int
    head: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        """True when every entry fits."""
        return self.broken is None


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> ChainResult:
    """Recompute the chain over entries in `seq` order from the first; stop at the first break."""
    prev, expected, checked = GENESIS_HASH, 1, 0
    for entry in entries:
        seq = entry.get("seq")
        if type(seq) is not int:
            return ChainResult(checked, prev, ChainBreak(expected, "malformed"))
        if seq != expected:
            return ChainResult(checked, prev, ChainBreak(expected, "gap"))
        if entry.get("prev_hash") != prev:
            return ChainResult(checked, prev, ChainBreak(seq, "prev_hash"))
        try:
            recomputed = entry_hash(
                prev,
                seq=seq,
                at=_text(entry, "at"),
                actor=_text(entry, "actor"),
                action=_text(entry, "action"),
                target=_text(entry, "target"),
                details=_details(entry.get("details")),
            )
        except (TypeError, ValueError):
            return ChainResult(checked, prev, ChainBreak(seq, "malformed"))
        if entry.get("hash") != recomputed:
            return ChainResult(checked, prev, ChainBreak(seq, "hash"))
        prev, expected, checked = recomputed, expected + 1, checked + 1
    return ChainResult(checked, prev, None)


def _text(entry: Mapping[str, Any], name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str):
        raise TypeError(name)
    return value


def _details(value: object) -> Mapping[str, Any]:
    # Stored as JSON text in the database, delivered as an object by the API.
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, Mapping):
        raise TypeError("details")
    return value
