"""The backup file: a tar stream encrypted in authenticated chunks under a per-backup key that
is HPKE-sealed to the operator's backup key (docs/backup.md, "The file")."""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_decode, b64u_encode, encode_context
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.hpke_keys import HpkePrivateKey, HpkePublicKey

MAGIC = b"LIFELINE-BACKUP\n"
FORMAT = "lifeline-backup/1"
CHUNK = 1 << 20  # plaintext bytes per chunk: memory stays flat whatever the backup's size
_LEN = struct.Struct(">I")
_MAX_HEADER = 64 * 1024


class BackupFileError(ValueError):
    """The file is not a backup, was cut short or altered, or is for another key."""


@dataclass(frozen=True)
class Header:
    """The clear part of a backup file: format, when, for which key (no secret, no content)."""

    created_at: str
    recipient: str  # fingerprint of the backup public key the file key is sealed to
    sealed_key: bytes
    nonce_prefix: bytes

    def encode(self) -> bytes:
        """The header's canonical bytes (they are bound into every chunk)."""
        return json.dumps(
            {
                "format": FORMAT,
                "created_at": self.created_at,
                "recipient": self.recipient,
                "sealed_key": b64u_encode(self.sealed_key),
                "nonce_prefix": b64u_encode(self.nonce_prefix),
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Header:
        """Parse a header; anything unexpected is a `BackupFileError`."""
        try:
            doc = json.loads(raw)
            if doc["format"] != FORMAT:
                raise BackupFileError(f"unknown backup format {doc['format']!r}")
            return cls(
                str(doc["created_at"]),
                str(doc["recipient"]),
                b64u_decode(doc["sealed_key"]),
                b64u_decode(doc["nonce_prefix"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, BackupFileError):
                raise
            raise BackupFileError("not a backup file (bad header)") from None


def _key_info(header_without_key: bytes) -> bytes:
    return encode_context("lifeline/backup/v1/key", header=header_without_key)


def _chunk_aad(header: bytes, index: int, final: bool) -> bytes:
    # Index and the final flag in the AAD (the STREAM construction): chunks cannot be
    # reordered, dropped, or the file cut at a chunk boundary without failing to open.
    return encode_context("lifeline/backup/v1/chunk", header=header, index=index, final=int(final))


class EncryptingWriter(io.RawIOBase):
    """A write-only file object: what is written to it goes out as encrypted chunks."""

    def __init__(self, out: BinaryIO, recipient: HpkePublicKey, created_at: str) -> None:
        self._out = out
        self._key = AESGCM.generate_key(bit_length=256)
        prefix = os.urandom(7)
        bare = Header(created_at, recipient.fingerprint(), b"", prefix).encode()
        sealed = hpke.seal(recipient, self._key, _key_info(bare))
        self.header = Header(created_at, recipient.fingerprint(), sealed, prefix)
        self._raw_header = self.header.encode()
        self._aead = AESGCM(self._key)
        self._buf = bytearray()
        self._index = 0
        out.write(MAGIC + _LEN.pack(len(self._raw_header)) + self._raw_header)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._buf += data
        while len(self._buf) > CHUNK:
            self._emit(bytes(self._buf[:CHUNK]), final=False)
            del self._buf[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, final: bool) -> None:
        nonce = self.header.nonce_prefix + struct.pack(">IB", self._index, final)
        sealed = self._aead.encrypt(nonce, plain, _chunk_aad(self._raw_header, self._index, final))
        self._out.write(_LEN.pack(len(sealed)) + sealed)
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buf), final=True)
            self._buf.clear()
        super().close()


def read_header(src: BinaryIO) -> tuple[Header, bytes]:
    """The header of a backup file and its raw bytes."""
    if src.read(len(MAGIC)) != MAGIC:
        raise BackupFileError("not a Lifeline backup file")
    (size,) = _LEN.unpack(_exact(src, _LEN.size))
    if size > _MAX_HEADER:
        raise BackupFileError("not a backup file (header too large)")
    raw = _exact(src, size)
    return Header.decode(raw), raw


class DecryptingReader(io.RawIOBase):
    """A read-only file object over a backup file: every chunk is authenticated before use."""

    def __init__(self, src: BinaryIO, key: HpkePrivateKey) -> None:
        self._src = src
        self.header, self._raw_header = read_header(src)
        if self.header.recipient != key.public_key.fingerprint():
            raise BackupFileError(
                f"the backup is for the key {self.header.recipient}, not for this one"
            )
        bare = Header(self.header.created_at, self.header.recipient, b"", self.header.nonce_prefix)
        try:
            file_key = hpke.open(key, self.header.sealed_key, _key_info(bare.encode()))
        except DecryptionFailed:
            raise BackupFileError(
                "the backup's key does not open: altered or another key"
            ) from None
        self._aead = AESGCM(file_key)
        self._buf = b""
        self._index = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        while not self._buf and not self._done:
            self._buf = self._next_chunk()
        n = min(len(target), len(self._buf))
        target[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def _next_chunk(self) -> bytes:
        head = self._src.read(_LEN.size)
        if len(head) < _LEN.size:
            raise BackupFileError("the backup file is cut short")
        (size,) = _LEN.unpack(head)
        if size > CHUNK + 16:
            raise BackupFileError("the backup file is altered (chunk too large)")
        sealed = _exact(self._src, size)
        for final in (False, True):
            nonce = self.header.nonce_prefix + struct.pack(">IB", self._index, final)
            aad = _chunk_aad(self._raw_header, self._index, final)
            try:
                plain = self._aead.decrypt(nonce, sealed, aad)
            except InvalidTag:  # not this flag: try the other, then refuse
                continue
            self._index += 1
            if final:
                if self._src.read(1):
                    raise BackupFileError("the backup file has bytes after its end")
                self._done = True
            return plain
        raise BackupFileError(f"the backup file is altered (chunk {self._index} fails)")


def verify(path: os.PathLike[str] | str, key: HpkePrivateKey) -> int:
    """Read and authenticate a whole backup file without writing anything; its plain size."""
    total = 0
    with open(path, "rb") as src, DecryptingReader(src, key) as reader:
        while block := reader.read(CHUNK):
            total += len(block)
    return total


def _exact(src: BinaryIO, n: int) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise BackupFileError("the backup file is cut short")
    return data
