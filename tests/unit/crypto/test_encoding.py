"""Canonical encodings: contexts are unambiguous, base64url is strict, JSON is deterministic."""

from __future__ import annotations

import pytest

from libs.common.crypto.encoding import (
    b64u_decode,
    b64u_encode,
    canonical_json,
    encode_context,
    fingerprint_of,
)
from libs.common.crypto.errors import InvalidKey


def test_context_parts_cannot_be_shifted_between_labels() -> None:
    assert encode_context("p", a="ab", b="c") != encode_context("p", a="a", b="bc")
    assert encode_context("p", a="x") != encode_context("px", a="")


def test_context_is_independent_of_keyword_order() -> None:
    assert encode_context("p", report="r", partner="q") == encode_context(
        "p", partner="q", report="r"
    )


def test_context_distinguishes_value_types() -> None:
    assert (
        len({encode_context("p", v="5"), encode_context("p", v=b"5"), encode_context("p", v=5)})
        == 3
    )


def test_context_refuses_bool_and_empty_purpose() -> None:
    with pytest.raises(TypeError):
        encode_context("p", v=True)
    with pytest.raises(ValueError):
        encode_context("", v="x")


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff\xfe", bytes(range(256))])
def test_b64u_round_trip(data: bytes) -> None:
    text = b64u_encode(data)
    assert "=" not in text
    assert b64u_decode(text) == data


@pytest.mark.parametrize("text", ["AA==", "A", "AB+/", "AB C", "AB"])
def test_b64u_rejects_padding_other_alphabets_and_non_canonical(text: str) -> None:
    # "AB" decodes to one byte but leaves a non-zero unused bit: a second spelling of b"\x00".
    with pytest.raises(InvalidKey):
        b64u_decode(text)


def test_canonical_json_is_order_independent_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == canonical_json({"a": [1, "é"], "b": 1})
    assert canonical_json({"a": "é"}) == '{"a":"é"}'.encode()
    with pytest.raises(ValueError):
        canonical_json(float("nan"))


def test_fingerprint_is_sha256_hex_in_groups() -> None:
    fp = fingerprint_of("abc")
    assert fp.replace(" ", "") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert len(fp.split(" ")) == 16
