"""The backup file format: only the backup key opens it, and any change to it is refused."""

from __future__ import annotations

import io

import pytest

from libs.common.crypto.hpke_keys import HpkeSuite, generate_private_key
from lifeline.backup import archive
from lifeline.backup.archive import BackupFileError, DecryptingReader, EncryptingWriter

KEY = generate_private_key(HpkeSuite.X25519)
PLAIN = b"narrative: held at the border " * 80_000  # ~2.4 MB: three chunks


def _encrypt(data: bytes = PLAIN) -> bytes:
    out = io.BytesIO()
    with EncryptingWriter(out, KEY.public_key, "2026-12-04T20:00:00+00:00") as writer:
        writer.write(data)
    return out.getvalue()


def _decrypt(blob: bytes, key=KEY) -> bytes:  # type: ignore[no-untyped-def]
    with DecryptingReader(io.BytesIO(blob), key) as reader:
        return reader.read()


def test_it_round_trips_and_reveals_nothing_in_clear() -> None:
    blob = _encrypt()
    assert _decrypt(blob) == PLAIN
    assert b"narrative" not in blob
    assert _decrypt(_encrypt(b"")) == b""


def test_another_key_opens_nothing() -> None:
    with pytest.raises(BackupFileError, match="for the key"):
        _decrypt(_encrypt(), generate_private_key(HpkeSuite.X25519))


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) - 1],  # cut inside the last chunk
        lambda b: b[: len(archive.MAGIC) + 4 + 300 + archive.CHUNK],  # cut at random
        lambda b: b + b"\x00",  # bytes after the end
        lambda b: b[:-40] + bytes([b[-40] ^ 1]) + b[-39:],  # one bit flipped
        lambda b: b.replace(b'"created_at": "2026', b'"created_at": "2025'),  # header changed
        lambda b: b"X" + b[1:],  # not a backup
    ],
)
def test_a_changed_or_cut_file_is_refused(damage) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BackupFileError):
        _decrypt(damage(_encrypt()))


def test_a_file_cut_at_a_chunk_boundary_is_refused() -> None:
    blob = _encrypt()
    header_end = blob.index(b"}") + 1
    first = int.from_bytes(blob[header_end : header_end + 4], "big")
    with pytest.raises(BackupFileError, match="cut short"):
        _decrypt(blob[: header_end + 4 + first])  # only the first, non-final chunk


def test_chunks_cannot_be_swapped() -> None:
    data = bytes(range(256)) * (archive.CHUNK // 128)  # exactly two full chunks and a final
    blob = _encrypt(data)
    header_end = blob.index(b"}") + 1
    size = 4 + archive.CHUNK + 16
    one, two = blob[header_end : header_end + size], blob[header_end + size : header_end + 2 * size]
    swapped = blob[:header_end] + two + one + blob[header_end + 2 * size :]
    with pytest.raises(BackupFileError, match="altered"):
        _decrypt(swapped)
