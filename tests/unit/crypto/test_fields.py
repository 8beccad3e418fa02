"""Field-level encryption: round trips, every binding of the AAD, tamper and format checks."""

from __future__ import annotations

import dataclasses

import pytest

from libs.common.crypto import fields
from libs.common.crypto.encoding import JSONValue
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.fields import DataKey, FieldContext
from tests.unit.crypto._util import bit_flips

REPORT: dict[str, JSONValue] = {
    "narrative": "Detained at Tbilisi airport on arrival; told a CIS interstate search is open. "
    * 8,
    "locality": "Tbilisi",
    "charges": [{"state": "RU", "code": "CC", "article": "207.3"}],
    "facility_kind": "airport",
    "detained": True,
    "age": 34,
    "note": None,
    "empty": "",
}


@pytest.fixture
def data_key() -> DataKey:
    return fields.new_data_key()


@pytest.fixture
def ctx(data_key: DataKey) -> FieldContext:
    return FieldContext("ngo-a", "rep-1", data_key.key_id, kek_version=1)


@pytest.fixture
def blobs(data_key: DataKey, ctx: FieldContext) -> dict[str, bytes]:
    return fields.encrypt_fields(data_key, ctx, REPORT)


def test_report_round_trip(data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]) -> None:
    assert fields.decrypt_fields(data_key, ctx, blobs) == REPORT
    assert all(b"Tbilisi" not in blob for blob in blobs.values())


def test_blob_layout_is_version_suite_nonce_ciphertext(blobs: dict[str, bytes]) -> None:
    blob = blobs["locality"]
    assert blob[0] == fields.FORMAT_VERSION
    assert blob[1] == fields.SUITE_HKDF_SHA256_AES256GCM
    # 2 header bytes, 12 nonce bytes, padded plaintext, 16 tag bytes.
    assert (len(blob) - 2 - 12 - 16) % fields.PAD_BLOCK == 0


def test_length_is_padded_to_hide_exact_size(data_key: DataKey, ctx: FieldContext) -> None:
    short = fields.encrypt_field(data_key, ctx, "locality", "Bar")
    longer = fields.encrypt_field(data_key, ctx, "locality", "Tbilisi-Vake")
    assert len(short) == len(longer)


def test_same_value_encrypts_differently_each_time(data_key: DataKey, ctx: FieldContext) -> None:
    assert fields.encrypt_field(data_key, ctx, "locality", "x") != fields.encrypt_field(
        data_key, ctx, "locality", "x"
    )


def test_field_moved_to_another_field_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    with pytest.raises(DecryptionFailed):
        fields.decrypt_field(data_key, ctx, "narrative", blobs["locality"])


@pytest.mark.parametrize(
    "change",
    [
        {"report_id": "rep-2"},
        {"partner_id": "ngo-b"},
        {"kek_version": 2},
    ],
    ids=["other-report", "other-partner", "other-kek-version"],
)
def test_field_moved_to_another_row_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes], change: dict[str, object]
) -> None:
    moved_ctx = dataclasses.replace(ctx, **change)  # type: ignore[arg-type]
    with pytest.raises(DecryptionFailed):
        fields.decrypt_field(data_key, moved_ctx, "locality", blobs["locality"])


def test_field_under_another_reports_data_key_fails(
    ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    other = fields.new_data_key()
    with pytest.raises(DecryptionFailed):
        fields.decrypt_field(
            other, dataclasses.replace(ctx, data_key_id=other.key_id), "locality", blobs["locality"]
        )


def test_same_key_material_under_another_key_id_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    relabelled = DataKey("other-id", data_key.key)
    other_ctx = dataclasses.replace(ctx, data_key_id="other-id")
    with pytest.raises(DecryptionFailed):
        fields.decrypt_field(relabelled, other_ctx, "locality", blobs["locality"])


def test_key_that_does_not_match_row_key_id_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    with pytest.raises(DecryptionFailed):
        fields.decrypt_field(fields.new_data_key(), ctx, "locality", blobs["locality"])
    with pytest.raises(ValueError):
        fields.encrypt_field(fields.new_data_key(), ctx, "locality", "x")


def test_field_moved_to_another_report_with_its_own_key_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    other_key = fields.new_data_key()
    other_ctx = FieldContext("ngo-a", "rep-2", other_key.key_id, 1)
    other_blobs = fields.encrypt_fields(other_key, other_ctx, {"locality": "Batumi"})
    swapped = {**other_blobs, "locality": blobs["locality"]}
    with pytest.raises(DecryptionFailed):
        fields.decrypt_fields(other_key, other_ctx, swapped)


def test_every_single_bit_flip_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    for bit, mutated in bit_flips(blobs["charges"]):
        with pytest.raises(DecryptionFailed):
            fields.decrypt_field(data_key, ctx, "charges", mutated)
            pytest.fail(f"bit {bit} flipped went unnoticed")


def test_every_truncation_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    blob = blobs["locality"]
    for length in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            fields.decrypt_field(data_key, ctx, "locality", blob[:length])


@pytest.mark.parametrize(("index", "value"), [(0, 0), (0, 2), (0, 255), (1, 0), (1, 2), (1, 255)])
def test_unknown_version_or_suite_fails(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes], index: int, value: int
) -> None:
    mutated = bytearray(blobs["locality"])
    mutated[index] = value
    with pytest.raises(DecryptionFailed):
        fields.decrypt_field(data_key, ctx, "locality", bytes(mutated))


def test_one_bad_field_fails_the_whole_dict(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    broken = {**blobs, "age": blobs["age"][:-1]}
    with pytest.raises(DecryptionFailed):
        fields.decrypt_fields(data_key, ctx, broken)


def test_values_are_encoded_canonically(data_key: DataKey, ctx: FieldContext) -> None:
    blob = fields.encrypt_field(data_key, ctx, "charges", {"b": 1, "a": [1.5, "é"]})
    assert fields.decrypt_field(data_key, ctx, "charges", blob) == {"a": [1.5, "é"], "b": 1}


def test_non_json_values_and_bad_field_names_are_refused(
    data_key: DataKey, ctx: FieldContext
) -> None:
    with pytest.raises(ValueError):
        fields.encrypt_field(data_key, ctx, "x", float("inf"))
    with pytest.raises(TypeError):
        fields.encrypt_field(data_key, ctx, "x", {"when": object()})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        fields.encrypt_field(data_key, ctx, "", "x")


def test_reencrypt_rebinds_to_new_context(
    data_key: DataKey, ctx: FieldContext, blobs: dict[str, bytes]
) -> None:
    new_ctx = dataclasses.replace(ctx, kek_version=2)
    moved = fields.reencrypt_fields(data_key, ctx, new_ctx, blobs)
    assert fields.decrypt_fields(data_key, new_ctx, moved) == REPORT
    with pytest.raises(DecryptionFailed):
        fields.decrypt_fields(data_key, ctx, moved)


def test_data_key_is_random_and_hidden_from_repr(data_key: DataKey) -> None:
    assert len(data_key.key) == 32
    assert data_key.key != fields.new_data_key().key
    assert data_key.key.hex() not in repr(data_key)
    assert str(list(data_key.key)) not in repr(data_key)
    with pytest.raises(ValueError):
        DataKey("id", b"short")


# Written by the first implementation (a `cryptography` HKDFExpand per field): stored reports
# hold blobs like these, so they must open unchanged.
_KAT_KEY = DataKey("dk-kat", bytes(range(32)))
_KAT_CTX = FieldContext("ngo-a", "rep-kat", "dk-kat", kek_version=3)
_KAT_BLOBS = {
    "place.locality": "0101bf3d8dbaaf7b85984c536a540f6094c2b56f0296e8f0573e66d294f3e5180e528983a4"
    "1f69c4e57cad17d43c460508a71019d3ccc56efe0c7b00fef5",
    "charges": "0101ee00787bd433ff0efcb65a1f89cd3dc980d50ec3c89683d2de73367a4434e3a61cff17ed9e90"
    "024f970e8b5dc6927f3656b7359c6882185f1395cf5404e8d814fdae7996d030bb4babaedcf168b779674388dd1a"
    "8d02af72c8e177e4",
}


def test_blobs_written_before_the_keyed_hmac_still_open() -> None:
    blobs = {f: bytes.fromhex(h) for f, h in _KAT_BLOBS.items()}
    assert fields.decrypt_fields(_KAT_KEY, _KAT_CTX, blobs) == {
        "place.locality": "Bishkek",
        "charges": [{"state": "RU", "code": "CC", "article": "207.3"}],
    }


@pytest.mark.parametrize("field", ["narrative", "place.locality", "x", "é" * 40, "f" * 128])
def test_field_subkeys_are_hkdf_expand(data_key: DataKey, field: str) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    from libs.common.crypto.encoding import lp

    info = fields._SUBKEY_INFO + lp(field.encode())
    expected = HKDFExpand(hashes.SHA256(), 32, info).derive(data_key.key)
    block, _ = fields._field_parts(field)
    nonce = bytes(12)
    # Same key <=> the same ciphertext for the same nonce and input.
    ours = fields._Subkeys(data_key).aead(block).encrypt(nonce, b"probe", b"")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    assert ours == AESGCM(expected).encrypt(nonce, b"probe", b"")
