"""The audit hash chain: intact chains verify; an edit, a deletion or a reordering is found."""

from __future__ import annotations

from typing import Any

from libs.common.auth.audit import GENESIS_HASH, canonical_json, entry_hash, verify_chain


def _chain(n: int) -> list[dict[str, Any]]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        entry = {
            "seq": seq,
            "at": f"2026-01-01T00:00:{seq:02d}.000000Z",
            "actor": "cli_admin",
            "action": "partner.create",
            "target": f"ptn_{seq}",
            "details": {"name": f"Partner {seq}", "nested": {"b": 1, "a": [1, 2]}},
        }
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(
            prev, **{k: entry[k] for k in ("seq", "at", "actor", "action", "target", "details")}
        )
        entries.append(entry)
    return entries


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    chain = _chain(5)
    result = verify_chain(chain)
    assert result.ok and result.checked == 5 and result.head == chain[-1]["hash"]
    assert verify_chain([]).ok


def test_details_as_stored_text_or_as_objects_hash_the_same() -> None:
    chain = _chain(3)
    as_text = [{**e, "details": canonical_json(e["details"])} for e in chain]
    assert verify_chain(as_text).ok


def test_an_edited_entry_is_the_first_break() -> None:
    chain = _chain(5)
    chain[2]["details"] = {"name": "Someone else"}
    broken = verify_chain(chain).broken
    assert broken is not None and (broken.seq, broken.reason) == (3, "hash")
    assert "entry 3" in broken.describe()


def test_a_rehashed_edit_breaks_the_next_link() -> None:
    chain = _chain(5)
    chain[1]["actor"] = "cli_other"
    chain[1]["hash"] = entry_hash(
        chain[1]["prev_hash"],
        **{k: chain[1][k] for k in ("seq", "at", "actor", "action", "target", "details")},
    )
    broken = verify_chain(chain).broken
    assert broken is not None and (broken.seq, broken.reason) == (3, "prev_hash")


def test_missing_reordered_or_unreadable_entries_are_found() -> None:
    chain = _chain(5)
    assert verify_chain(chain[:1] + chain[2:]).broken.reason == "gap"  # type: ignore[union-attr]
    assert verify_chain([chain[1], chain[0], *chain[2:]]).broken.seq == 1  # type: ignore[union-attr]
    mangled = [*chain[:3], {**chain[3], "details": "{not json"}, chain[4]]
    assert verify_chain(mangled).broken.reason == "malformed"  # type: ignore[union-attr]
    assert verify_chain([{**chain[0], "seq": "1"}]).broken.reason == "malformed"  # type: ignore[union-attr]


def test_canonical_json_has_one_spelling() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
