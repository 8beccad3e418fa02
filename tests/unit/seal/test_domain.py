"""The sealing rules: sealed blobs bound to their purpose, the passphrase wrap, SLIP-39 shares."""

from __future__ import annotations

import itertools
import secrets

import pytest

from libs.common.seal.domain import (
    Argon2Params,
    UnsealError,
    check_value,
    combine_shares,
    is_sealed,
    matches,
    open_blob,
    read_share,
    seal_blob,
    split_shares,
    unwrap_with_passphrase,
    wrap_with_passphrase,
)

ROOT = secrets.token_bytes(32)
FAST = Argon2Params(memory_kib=1024, iterations=1, lanes=1)


def test_a_sealed_blob_opens_only_with_its_root_and_purpose() -> None:
    blob = seal_blob(ROOT, "sharing-kek.json", b'{"kek": "secret"}')
    assert is_sealed(blob) and b"secret" not in blob
    assert open_blob(ROOT, "sharing-kek.json", blob) == b'{"kek": "secret"}'
    with pytest.raises(UnsealError):  # copied over another key file
        open_blob(ROOT, "sharing-prf.json", blob)
    with pytest.raises(UnsealError):
        open_blob(secrets.token_bytes(32), "sharing-kek.json", blob)


def test_a_changed_sealed_blob_does_not_open() -> None:
    blob = bytearray(seal_blob(ROOT, "k", b"x" * 40))
    at = blob.index(b'"ciphertext": "') + 20
    blob[at] = ord("A") if blob[at] != ord("A") else ord("B")
    with pytest.raises(UnsealError):
        open_blob(ROOT, "k", bytes(blob))


def test_plain_files_are_not_taken_for_sealed_ones() -> None:
    assert not is_sealed(b'{"format": "lifeline-secret-key/1"}')
    assert not is_sealed(b"-----BEGIN PRIVATE KEY-----")
    assert not is_sealed(b"{not json")


def test_the_passphrase_unwraps_the_root_and_a_wrong_one_does_not() -> None:
    wrap = wrap_with_passphrase(ROOT, "correct horse battery", FAST)
    assert wrap["kdf"] == "argon2id" and wrap["memory_kib"] == 1024  # recorded with the wrap
    assert unwrap_with_passphrase(wrap, "correct horse battery") == ROOT
    with pytest.raises(UnsealError, match="wrong passphrase"):
        unwrap_with_passphrase(wrap, "correct horse battery!")


def test_the_default_argon2_cost_is_rfc9106_grade() -> None:
    params = Argon2Params()
    assert params.memory_kib >= 65536 and params.iterations >= 3


def test_any_three_of_five_shares_recover_the_root_and_two_do_not() -> None:
    identifier, shares = split_shares(ROOT, 3, 5)
    assert len(shares) == 5 and len(shares[0].split()) == 33  # 256-bit secret: 33 words
    for three in itertools.combinations(shares, 3):
        assert combine_shares(list(three)) == ROOT
    assert {read_share(s).identifier for s in shares} == {identifier}
    with pytest.raises(UnsealError):
        combine_shares(shares[:2])


def test_a_mistyped_share_is_refused_by_its_checksum() -> None:
    _, shares = split_shares(ROOT, 3, 5)
    words = shares[0].split()
    words[5] = "academic" if words[5] != "academic" else "acid"
    with pytest.raises(UnsealError, match="not a valid share"):
        read_share(" ".join(words))


def test_shares_of_two_sets_do_not_combine() -> None:
    _, ours = split_shares(ROOT, 3, 5)
    _, theirs = split_shares(secrets.token_bytes(32), 3, 5)
    with pytest.raises(UnsealError):
        combine_shares([ours[0], ours[1], theirs[2]])


def test_the_check_value_tells_the_right_root() -> None:
    assert matches(ROOT, check_value(ROOT))
    assert not matches(secrets.token_bytes(32), check_value(ROOT))
