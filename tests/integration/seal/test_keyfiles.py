"""Every key file is sealed once the process holds a root key, without its store knowing."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.crypto.signing import dump_signing_key
from libs.common.crypto.signing_file import SigningKeyFile
from libs.common.keyfile import KeyFileError
from libs.common.seal import root as seal_root
from libs.common.seal.domain import is_sealed
from libs.common.secretfile import SecretFileError, read_private, write_private
from libs.common.secretkey import load_or_create_secret_key
from services.sharing.audit.service import CHECKPOINT_KEY_FORMAT
from services.sharing.identity.keystore import PrfKeyStore
from services.sharing.settings import SharingSettings


@pytest.fixture
def root() -> Iterator[bytes]:
    key = secrets.token_bytes(32)
    seal_root.activate(key)
    yield key
    seal_root.forget()


def test_a_key_store_is_sealed_on_disk_and_opens_again(tmp_path: Path, root: bytes) -> None:
    path = tmp_path / "keys" / "alerts-secrets.key"
    key = load_or_create_secret_key(path)
    raw = path.read_bytes()
    assert is_sealed(raw) and key.hex() not in raw.decode() and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret_key(path) == key
    seal_root.forget()  # a process without the root key (a seized disk) opens nothing
    with pytest.raises(KeyFileError, match="sealed"):
        load_or_create_secret_key(path)


def test_swapped_key_files_do_not_open(tmp_path: Path, root: bytes) -> None:
    first, second = tmp_path / "keys" / "a.key", tmp_path / "keys" / "b.key"
    load_or_create_secret_key(first)
    load_or_create_secret_key(second)
    shutil.copy(first, second)
    with pytest.raises(KeyFileError, match="does not open"):
        load_or_create_secret_key(second)


def test_a_planted_plain_key_file_is_refused(tmp_path: Path, root: bytes) -> None:
    path = tmp_path / "keys" / "sharing-prf.json"
    seal_root.forget()
    PrfKeyStore.open(path)  # written in the clear by a process without a root key
    seal_root.activate(root)
    with pytest.raises(KeyFileError, match="not sealed"):
        PrfKeyStore.open(path)


def test_another_root_key_opens_nothing(tmp_path: Path, root: bytes) -> None:
    path = tmp_path / "keys" / "sharing-prf.json"
    PrfKeyStore.open(path)
    seal_root.activate(secrets.token_bytes(32))
    with pytest.raises(KeyFileError, match="does not open"):
        PrfKeyStore.open(path)


def test_secret_files_written_directly_are_sealed_too(tmp_path: Path, root: bytes) -> None:
    path = tmp_path / "bus" / "intake-key.pem"
    write_private(path, b"-----BEGIN PRIVATE KEY-----\nMC4C\n")
    assert is_sealed(path.read_bytes())
    assert read_private(path).startswith(b"-----BEGIN PRIVATE KEY-----")
    plain = tmp_path / "admin-bootstrap-secret"
    write_private(plain, b"one-time\n", seal=False)  # a file that is never sealed, on purpose
    assert read_private(plain, seal=False) == b"one-time\n"
    with pytest.raises(SecretFileError):
        read_private(plain)


def test_the_audit_checkpoint_key_is_sealed(tmp_path: Path, root: bytes) -> None:
    path = SharingSettings(data_dir=tmp_path).audit_signing_key_file()
    signer = SigningKeyFile(path, format=CHECKPOINT_KEY_FORMAT)
    raw = path.read_bytes()
    assert is_sealed(raw) and dump_signing_key(signer.active()).encode() not in raw
    seal_root.forget()  # a seized disk: no checkpoint can be forged with it
    with pytest.raises(KeyFileError, match="sealed"):
        SigningKeyFile(path, format=CHECKPOINT_KEY_FORMAT)
