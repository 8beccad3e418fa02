"""KEKs: the local key file's safety, wrap bindings, and the full rotation lifecycle."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from libs.common.crypto import fields, kek
from libs.common.crypto.errors import DecryptionFailed, KekVersionUnavailable, KeyStoreError
from libs.common.crypto.fields import FieldContext
from libs.common.crypto.kek import KekProvider, KekState, WrappedKey
from libs.common.crypto.kek_file import LocalFileKekProvider
from tests.unit.crypto._util import bit_flips


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "kek.json"


@pytest.fixture
def provider(tmp_path: Path) -> LocalFileKekProvider:
    return LocalFileKekProvider(tmp_path / "kek.json")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_is_created_0600_on_first_run(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    old_umask = os.umask(0o000)  # even a permissive umask must not loosen the file
    try:
        provider = LocalFileKekProvider(path)
    finally:
        os.umask(old_umask)
    assert _mode(path) == 0o600
    assert [(v.version, v.state, v.primary) for v in provider.versions()] == [
        (1, KekState.ACTIVE, True)
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_missing_data_directory_is_created_private(key_path: Path) -> None:
    LocalFileKekProvider(key_path)
    assert _mode(key_path) == 0o600
    assert _mode(key_path.parent) & 0o077 == 0


def test_second_instance_reuses_the_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    first, second = LocalFileKekProvider(path), LocalFileKekProvider(path)
    aad = kek.wrap_aad(report_id="r", data_key_id="k")
    assert second.unwrap(first.wrap(b"\x07" * 32, aad), aad) == b"\x07" * 32


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_key_file_with_looser_permissions_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "kek.json"
    LocalFileKekProvider(path)
    path.chmod(mode)
    with pytest.raises(KeyStoreError, match="0600"):
        LocalFileKekProvider(path)


def test_stricter_0400_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    LocalFileKekProvider(path)
    path.chmod(0o400)
    assert LocalFileKekProvider(path).versions()[0].primary


def test_key_file_owned_by_someone_else_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kek.json"
    LocalFileKekProvider(path)
    # Another user than this one and root (root reads everything anyway, and owns the files
    # of a Secret volume): a real owner when this runs as root, a pretended uid otherwise.
    if os.geteuid() == 0:
        os.chown(path, 4242, -1)
    else:
        monkeypatch.setattr(os, "geteuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(KeyStoreError, match="owned"):
        LocalFileKekProvider(path)


def test_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    LocalFileKekProvider(real)
    link = tmp_path / "kek.json"
    link.symlink_to(real)
    with pytest.raises(KeyStoreError):
        LocalFileKekProvider(link)


def test_missing_file_without_create_and_corrupt_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError):
        LocalFileKekProvider(tmp_path / "absent.json", create=False)
    path = tmp_path / "kek.json"
    LocalFileKekProvider(path)
    doc = json.loads(path.read_text())
    doc["versions"][0]["primary"] = False
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyStoreError):
        LocalFileKekProvider(path)
    path.write_text("{not json")
    with pytest.raises(KeyStoreError):
        LocalFileKekProvider(path)


def test_deleted_key_file_stops_wrapping(provider: LocalFileKekProvider, tmp_path: Path) -> None:
    (tmp_path / "kek.json").unlink()
    with pytest.raises(KeyStoreError):
        provider.wrap(b"\x01" * 32, b"aad")


def test_provider_satisfies_the_protocol(provider: LocalFileKekProvider) -> None:
    assert isinstance(provider, KekProvider)


def test_data_key_round_trip_through_storage_bytes(provider: LocalFileKekProvider) -> None:
    dk = fields.new_data_key()
    stored = kek.wrap_data_key(provider, dk, report_id="rep-1").to_bytes()
    assert dk.key not in stored
    back = kek.unwrap_data_key(
        provider, WrappedKey.from_bytes(stored), report_id="rep-1", data_key_id=dk.key_id
    )
    assert back == dk


def test_wrapped_key_moved_to_another_report_fails(provider: LocalFileKekProvider) -> None:
    dk = fields.new_data_key()
    wrapped = kek.wrap_data_key(provider, dk, report_id="rep-1")
    with pytest.raises(DecryptionFailed):
        kek.unwrap_data_key(provider, wrapped, report_id="rep-2", data_key_id=dk.key_id)
    with pytest.raises(DecryptionFailed):
        kek.unwrap_data_key(provider, wrapped, report_id="rep-1", data_key_id="other-key")


def test_every_bit_flip_and_truncation_of_a_wrapped_key_fails(
    provider: LocalFileKekProvider,
) -> None:
    dk = fields.new_data_key()
    stored = kek.wrap_data_key(provider, dk, report_id="rep-1").to_bytes()

    def unwrap(data: bytes) -> object:
        return kek.unwrap_data_key(
            provider, WrappedKey.from_bytes(data), report_id="rep-1", data_key_id=dk.key_id
        )

    for bit, mutated in bit_flips(stored):
        with pytest.raises(DecryptionFailed):
            unwrap(mutated)
            pytest.fail(f"bit {bit} flipped went unnoticed")
    for length in range(len(stored)):
        with pytest.raises(DecryptionFailed):
            unwrap(stored[:length])


def test_unknown_wrapped_format_version_fails(provider: LocalFileKekProvider) -> None:
    stored = kek.wrap_data_key(provider, fields.new_data_key(), report_id="r").to_bytes()
    with pytest.raises(DecryptionFailed):
        WrappedKey.from_bytes(b"\x02" + stored[1:])


def test_wrap_relabelled_to_another_version_fails_even_with_equal_material(
    tmp_path: Path,
) -> None:
    # Versions never share material in practice, so give v2 a copy of v1's KEK to show that
    # the version itself is bound into the wrap, not merely implied by a different key.
    path = tmp_path / "kek.json"
    provider = LocalFileKekProvider(path)
    provider.stage()
    doc = json.loads(path.read_text())
    doc["versions"][1]["key"] = doc["versions"][0]["key"]
    path.write_text(json.dumps(doc))
    aad = kek.wrap_aad(report_id="r", data_key_id="k")
    wrapped = provider.wrap(b"\x01" * 32, aad)
    assert wrapped.kek_version == 1
    with pytest.raises(DecryptionFailed):
        provider.unwrap(WrappedKey(2, wrapped.ciphertext), aad)


def test_state_changes_that_would_lose_data_are_refused(provider: LocalFileKekProvider) -> None:
    with pytest.raises(KeyStoreError):
        provider.retire(1)  # the primary
    with pytest.raises(KeyStoreError):
        provider.promote(7)  # unknown
    v2 = provider.stage()
    provider.retire(v2)  # abandoning a staged version is fine
    with pytest.raises(KeyStoreError):
        provider.promote(v2)  # its material is gone
    assert [(v.version, v.state, v.primary) for v in provider.versions()] == [
        (1, KekState.ACTIVE, True),
        (2, KekState.RETIRED, False),
    ]


def test_rotation_keeps_old_data_readable_until_retire(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    provider = LocalFileKekProvider(path)
    replica = LocalFileKekProvider(path)  # stands in for another process on the same file

    def new_row(report_id: str) -> tuple[WrappedKey, FieldContext, dict[str, bytes]]:
        dk = fields.new_data_key()
        wrapped = kek.wrap_data_key(provider, dk, report_id=report_id)
        ctx = FieldContext("ngo-a", report_id, dk.key_id, wrapped.kek_version)
        return wrapped, ctx, fields.encrypt_fields(dk, ctx, {"locality": report_id})

    def read(p: KekProvider, row: tuple[WrappedKey, FieldContext, dict[str, bytes]]) -> object:
        wrapped, ctx, blobs = row
        dk = kek.unwrap_data_key(p, wrapped, report_id=ctx.report_id, data_key_id=ctx.data_key_id)
        return fields.decrypt_fields(dk, ctx, blobs)["locality"]

    old_a, old_b = new_row("rep-a"), new_row("rep-b")

    v2 = provider.stage()
    assert new_row("rep-c")[0].kek_version == 1  # staged keys do not wrap yet
    provider.promote(v2)
    new = new_row("rep-d")
    assert new[0].kek_version == v2
    # The replica never reloaded explicitly, yet reads rows wrapped under the new version and
    # wraps under it too (a stale primary would be lost at retire).
    assert read(replica, new) == "rep-d"
    assert replica.wrap(b"\x02" * 32, b"aad").kek_version == v2
    assert read(provider, old_a) == "rep-a"

    rewrapped_a = kek.rewrap_report(provider, *old_a)
    assert rewrapped_a[0].kek_version == v2
    assert rewrapped_a[1].kek_version == v2
    assert kek.rewrap_report(provider, *rewrapped_a)[0] == rewrapped_a[0]  # idempotent
    assert read(provider, rewrapped_a) == "rep-a"
    assert read(provider, old_b) == "rep-b"  # not yet rewrapped: still readable

    old_key = json.loads(path.read_text())["versions"][0]["key"]
    provider.retire(1)
    assert old_key not in path.read_text()  # material destroyed, not just flagged
    assert _mode(path) == 0o600
    assert read(provider, rewrapped_a) == "rep-a"
    assert read(provider, new) == "rep-d"
    with pytest.raises(KekVersionUnavailable):
        read(provider, old_b)  # missed by the rewrap job: gone with the retired KEK
    with pytest.raises(KekVersionUnavailable):
        read(LocalFileKekProvider(path), old_b)
    with pytest.raises(KekVersionUnavailable):
        read(replica, old_b)  # the other process sees the retire at once, not after a restart


def test_plain_rewrap_moves_only_the_wrapped_key(provider: LocalFileKekProvider) -> None:
    aad = kek.wrap_aad(report_id="r", data_key_id="k")
    wrapped = provider.wrap(b"\x05" * 32, aad)
    provider.promote(provider.stage())
    moved = kek.rewrap(provider, wrapped, aad)
    assert moved.kek_version == kek.primary_version(provider) == 2
    assert provider.unwrap(moved, aad) == b"\x05" * 32
