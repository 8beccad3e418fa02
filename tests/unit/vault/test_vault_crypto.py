"""The vault's crypto composition: every field encrypted, AAD from the row, routing checked."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto.encoding import encode_context
from libs.common.crypto.errors import DecryptionFailed, KekVersionUnavailable
from libs.common.crypto.kek import KekState, KekVersionInfo, WrappedKey
from libs.common.reports import CATALOGUE as REPORT_FIELDS
from libs.common.reports import ReportIn
from libs.common.reports.model import build_models
from services.sharing.vault.crypto import (
    ReportUnreadable,
    StoredRow,
    encrypt_report,
    ensure_wrap_usable,
    field_values,
    occurred_on,
    open_fields,
)
from services.sharing.vault.policy.domain import readable
from tests.support.reports import GROWN, report_body
from tests.unit.crypto._util import bit_flips

CATALOGUE = readable(REPORT_FIELDS)  # the fields stored, one blob each
ROUTING_FIELDS = REPORT_FIELDS.routing
nest = REPORT_FIELDS.nest


class MemoryKek:
    """A KekProvider in memory (the real file one is tested in tests/unit/crypto)."""

    def __init__(self) -> None:
        self.keys: dict[int, bytes | None] = {1: os.urandom(32)}
        self.primary = 1

    def _aad(self, version: int, aad: bytes) -> bytes:
        return encode_context("test/kek", kek_version=version, aad=aad)

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        key = self.keys[self.primary]
        assert key is not None
        nonce = os.urandom(12)
        return WrappedKey(
            self.primary, nonce + AESGCM(key).encrypt(nonce, data_key, self._aad(self.primary, aad))
        )

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        key = self.keys.get(wrapped.kek_version)
        if key is None:
            raise KekVersionUnavailable
        try:
            ct = wrapped.ciphertext
            return AESGCM(key).decrypt(ct[:12], ct[12:], self._aad(wrapped.kek_version, aad))
        except InvalidTag:
            raise DecryptionFailed from None

    def versions(self) -> list[KekVersionInfo]:
        return [
            KekVersionInfo(
                v, KekState.RETIRED if k is None else KekState.ACTIVE, v == self.primary, ""
            )
            for v, k in sorted(self.keys.items())
        ]

    def stage(self) -> int:
        number = max(self.keys) + 1
        self.keys[number] = os.urandom(32)
        return number

    def promote(self, version: int) -> None:
        self.primary = version

    def retire(self, version: int) -> None:
        self.keys[version] = None


REPORT = ReportIn.model_validate(report_body())


def _stored(
    kek: MemoryKek, report: ReportIn = REPORT, partner: str = "ptn_a"
) -> tuple[StoredRow, bytes, dict[str, bytes]]:
    enc = encrypt_report(kek, report_id="r-1", partner_id=partner, values=field_values(report))
    row = StoredRow(
        report_id="r-1",
        partner_id=partner,
        data_key_id=enc.data_key.key_id,
        field_kek_version=enc.field_kek_version,
        incident_type=report.incident_type.value,
        legal_basis=report.legal_basis.value,
        country=report.place.country,
        tlp=report.tlp.value,
    )
    return row, enc.wrapped.to_bytes(), enc.blobs


def test_every_catalogue_field_is_stored_and_comes_back_in_report_shape() -> None:
    values = field_values(REPORT)
    assert values.keys() == CATALOGUE
    expected = REPORT.model_dump(mode="json")
    del expected["client_report_id"]
    del expected["follows"]  # a link, kept in the row's clear column (like the partner id)
    assert nest(values) == expected


def test_only_the_wanted_fields_come_back() -> None:
    kek = MemoryKek()
    row, wrapped, blobs = _stored(kek)
    assert set(blobs) == CATALOGUE
    got = open_fields(kek, row, wrapped, blobs, frozenset({"narrative", "place.locality"}))
    assert got == {"narrative": REPORT.narrative, "place.locality": "Bishkek"}
    assert nest(got) == {"narrative": REPORT.narrative, "place": {"locality": "Bishkek"}}
    # The routing fields are checked even when the reader may not see them.
    assert ROUTING_FIELDS <= CATALOGUE


@pytest.mark.parametrize(
    "change",
    [
        {"tlp": "CLEAR"},
        {"country": "DE"},
        {"incident_type": "release"},
        {"legal_basis": "unknown"},
    ],
)
def test_relabelled_routing_columns_are_caught(change: dict[str, str]) -> None:
    kek = MemoryKek()
    row, wrapped, blobs = _stored(kek)
    with pytest.raises(ReportUnreadable) as info:
        open_fields(kek, replace(row, **change), wrapped, blobs, frozenset({"status"}))
    assert info.value.reason == "routing_mismatch"


@pytest.mark.parametrize(
    "change",
    [
        {"partner_id": "ptn_b"},
        {"report_id": "r-2"},
        {"data_key_id": "other"},
        {"field_kek_version": 2},
    ],
)
def test_every_row_binding_is_checked(change: dict[str, object]) -> None:
    kek = MemoryKek()
    row, wrapped, blobs = _stored(kek)
    with pytest.raises(ReportUnreadable):
        open_fields(kek, replace(row, **change), wrapped, blobs, frozenset({"narrative"}))


def test_a_single_flipped_bit_anywhere_fails() -> None:
    kek = MemoryKek()
    row, wrapped, blobs = _stored(kek)
    for _, mutated in bit_flips(blobs["tlp"]):
        with pytest.raises(ReportUnreadable):
            open_fields(kek, row, wrapped, blobs | {"tlp": mutated}, frozenset())
    for _, mutated in bit_flips(wrapped):
        with pytest.raises(ReportUnreadable):
            open_fields(kek, row, mutated, blobs, frozenset())


def test_missing_key_or_field_and_swapped_fields_fail() -> None:
    kek = MemoryKek()
    row, wrapped, blobs = _stored(kek)
    with pytest.raises(ReportUnreadable, match="integrity"):
        open_fields(kek, row, None, blobs, frozenset())
    without = {k: v for k, v in blobs.items() if k != "narrative"}
    with pytest.raises(ReportUnreadable):
        open_fields(kek, row, wrapped, without, frozenset({"narrative"}))
    swapped = blobs | {"narrative": blobs["contact_instructions"]}
    with pytest.raises(ReportUnreadable):
        open_fields(kek, row, wrapped, swapped, frozenset({"narrative"}))


def test_a_retired_kek_makes_old_wraps_unreadable_but_rewraps_keep_fields() -> None:
    kek = MemoryKek()
    row, wrapped, blobs = _stored(kek)
    kek.promote(kek.stage())
    enc = encrypt_report(kek, report_id="r-9", partner_id="ptn_a", values=field_values(REPORT))
    assert enc.wrapped.kek_version == enc.field_kek_version == 2
    kek.retire(1)
    with pytest.raises(ReportUnreadable) as info:
        open_fields(kek, row, wrapped, blobs, frozenset())
    assert info.value.reason == "kek_retired"


def test_a_wrap_whose_kek_was_retired_before_commit_is_redone() -> None:
    kek = MemoryKek()
    enc = encrypt_report(kek, report_id="r-1", partner_id="ptn_a", values=field_values(REPORT))
    assert ensure_wrap_usable(kek, enc, report_id="r-1") is enc.wrapped
    kek.promote(kek.stage())
    kek.retire(1)
    fresh = ensure_wrap_usable(kek, enc, report_id="r-1")
    assert fresh.kek_version == 2
    row = StoredRow(
        "r-1",
        "ptn_a",
        enc.data_key.key_id,
        enc.field_kek_version,
        "detention",
        "cis_interstate_search",
        "KG",
        "AMBER",
    )
    # Field AAD keeps the version they were encrypted under; the key moved on.
    assert row.field_kek_version == 1
    assert open_fields(kek, row, fresh.to_bytes(), enc.blobs, frozenset({"tlp"})) == {
        "tlp": "AMBER"
    }


def test_nest_leaves_withheld_fields_out_entirely() -> None:
    assert nest({"place.country": "KG"}) == {"place": {"country": "KG"}}
    assert nest({"requesting_state": None}) == {"requesting_state": None}
    assert nest({}) == {}
    # Top-level keys in catalogue order, each once (the place's parts nest under "place").
    in_catalogue = [f.name.partition(".")[0] for f in REPORT_FIELDS.fields if f.grantable]
    assert list(nest(field_values(REPORT))) == list(dict.fromkeys(in_catalogue))
    assert list(nest(field_values(REPORT)))[:4] == [
        "incident_type", "legal_basis", "occurred_at", "place"
    ]  # fmt: skip


def test_occurred_on_is_the_submitters_local_day() -> None:
    late = ReportIn.model_validate(report_body(occurred_at="2026-01-02T01:30:00+06:00"))
    day = ReportIn.model_validate(report_body(occurred_at="2026-01-02"))
    assert str(occurred_on(late.occurred_at)) == str(occurred_on(day.occurred_at)) == "2026-01-02"


def test_a_field_the_row_predates_reads_as_null_not_as_tampering() -> None:
    kek = MemoryKek()
    row, wrapped, blobs = _stored(kek)  # stored under today's catalogue
    got = open_fields(
        kek, row, wrapped, blobs, frozenset({"narrative", "later_field"}), catalogue=GROWN
    )
    assert got == {"narrative": REPORT.narrative, "later_field": None}
    # A field the row's own version has is still required: its blob missing is tampering.
    without = {k: v for k, v in blobs.items() if k != "narrative"}
    with pytest.raises(ReportUnreadable):
        open_fields(kek, row, wrapped, without, frozenset({"narrative"}), catalogue=GROWN)
    # A row relabelled to a later catalogue version lacks that version's blobs: unreadable.
    with pytest.raises(ReportUnreadable):
        open_fields(
            kek,
            replace(row, catalogue_version=GROWN.version),
            wrapped,
            blobs,
            frozenset({"later_field"}),
            catalogue=GROWN,
        )


def test_a_report_stored_under_a_grown_catalogue_has_a_blob_for_the_new_field() -> None:
    grown_in = build_models(GROWN)[1]
    report = grown_in.model_validate(report_body(later_field="7/26"))
    values = field_values(report, GROWN)
    assert values["later_field"] == "7/26" and values.keys() == GROWN.stored_in(GROWN.version)
    kek = MemoryKek()
    enc = encrypt_report(kek, report_id="r-1", partner_id="ptn_a", values=values)
    row, _, _ = _stored(kek)
    row = replace(row, data_key_id=enc.data_key.key_id, catalogue_version=GROWN.version)
    got = open_fields(
        kek, row, enc.wrapped.to_bytes(), enc.blobs, frozenset({"later_field"}), catalogue=GROWN
    )
    assert got == {"later_field": "7/26"}
