"""A service's own secret key: a versioned key file; a raw key of old is converted once."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from libs.common.keyfile import KeyFileError
from libs.common.secretkey import load_or_create_secret_key


def test_the_first_start_creates_the_key_and_later_starts_read_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "service.key"
    key = load_or_create_secret_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["format"] == "lifeline-secret-key/1"
    assert load_or_create_secret_key(path) == key


def test_a_raw_32_byte_key_file_keeps_its_key_and_becomes_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "service.key"
    raw = os.urandom(32)
    path.write_bytes(raw)
    path.chmod(0o600)
    assert load_or_create_secret_key(path) == raw
    assert json.loads(path.read_text())["format"] == "lifeline-secret-key/1"
    assert load_or_create_secret_key(path) == raw  # converted once, read as a key file since


def test_replicas_starting_together_on_a_raw_key_agree_on_it(tmp_path: Path) -> None:
    path = tmp_path / "service.key"
    raw = os.urandom(32)
    path.write_bytes(raw)
    path.chmod(0o600)
    seen: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: seen.append(load_or_create_secret_key(path)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [raw] * 8


@pytest.mark.parametrize("content", [b"short", bytes(range(48))], ids=["short", "48-bytes"])
def test_anything_else_is_refused_and_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "service.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        load_or_create_secret_key(path)
    assert path.read_bytes() == content
