"""One versioned key-file store: created once, re-read when changed, changed under a lock."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from libs.common.keyfile import KeyCodec, KeyFile, KeyFileError


def _parse(doc: dict[str, Any]) -> list[int]:
    keys = [int(k) for k in doc["keys"]]
    if not keys:
        raise ValueError("no keys")
    return keys


CODEC = KeyCodec("test-keys/1", _parse, lambda keys: {"keys": keys})


def test_created_once_with_mode_0600_and_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.json"
    first = KeyFile(path, CODEC, initial=lambda: [1])
    assert first.current() == [1]
    assert path.stat().st_mode & 0o777 == 0o600
    second = KeyFile(path, CODEC, initial=lambda: [99])  # a second replica starting later
    assert second.current() == [1]
    assert json.loads(path.read_text())["format"] == "test-keys/1"


def test_a_change_by_another_process_is_seen_at_the_next_use(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    mine, theirs = KeyFile(path, CODEC, initial=lambda: [1]), KeyFile(path, CODEC)
    theirs.update(lambda keys: [*keys, 2])
    assert mine.current() == [1, 2]


def test_a_refused_or_unreadable_change_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    store = KeyFile(path, CODEC, initial=lambda: [1])
    before = path.read_bytes()

    def refuse(keys: list[int]) -> list[int]:
        raise KeyFileError("refused")

    with pytest.raises(KeyFileError, match="refused"):
        store.update(refuse)
    with pytest.raises(KeyFileError, match="corrupt"):
        store.update(lambda keys: [])  # the codec could not read this back
    assert path.read_bytes() == before and store.current() == [1]


def test_concurrent_updates_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    stores = [KeyFile(path, CODEC, initial=lambda: [0]) for _ in range(4)]

    def add(store: KeyFile[list[int]], base: int) -> None:
        for i in range(10):
            store.update(lambda keys, n=base + i: [*keys, n])

    threads = [threading.Thread(target=add, args=(s, 100 * i)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores[0].current()) == 41


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"format": "other/1", "keys": [1]}', b'{"format": "test-keys/1"}']
)
def test_foreign_or_corrupt_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k.json"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        KeyFile(path, CODEC)


def test_loose_permissions_a_symlink_or_a_missing_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    KeyFile(path, CODEC, initial=lambda: [1])
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(KeyFileError):
        KeyFile(link, CODEC)
    path.chmod(0o640)
    with pytest.raises(KeyFileError, match="0600"):
        KeyFile(path, CODEC)
    with pytest.raises(KeyFileError, match="does not exist"):
        KeyFile(tmp_path / "absent.json", CODEC)


def test_a_deleted_file_stops_the_store(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    store = KeyFile(path, CODEC, initial=lambda: [1])
    os.unlink(path)
    with pytest.raises(KeyFileError, match="gone"):
        store.current()
