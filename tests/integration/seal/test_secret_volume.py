"""Key files as a Kubernetes Secret volume shows them: read; anything looser: refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from libs.common.crypto.encoding import b64u_encode
from libs.common.keyfile import KeyFileError
from libs.common.seal import root as seal_root
from libs.common.seal.domain import seal_blob
from libs.common.secretfile import SecretFileError, read_key_file, read_private
from libs.common.secretkey import load_or_create_secret_key

ROOT_OR_ME = 0 if os.geteuid() == 0 else os.geteuid()
OTHER = 4242  # a user and a group this process is not


def _key_doc(byte: int) -> bytes:
    return json.dumps(
        {"format": "lifeline-secret-key/1", "key": b64u_encode(bytes([byte]) * 32)}
    ).encode()


def _secret_volume(mount: Path, files: dict[str, bytes], *, stamp: str = "1") -> None:
    """What the kubelet writes: `..<stamp>/<name>` 0440, `..data -> ..<stamp>`,
    `<name> -> ..data/<name>`, owned by root (when this runs as root) in our group."""
    copy = mount / f"..2026_12_03_13_00_00.{stamp}"
    copy.mkdir(parents=True)
    for name, data in files.items():
        (copy / name).write_bytes(data)
        os.chown(copy / name, ROOT_OR_ME, os.getegid())
        (copy / name).chmod(0o440)
        if not (mount / name).is_symlink():
            (mount / name).symlink_to(f"..data/{name}")
    tmp = mount / "..data_tmp"
    tmp.symlink_to(copy.name)
    tmp.replace(mount / "..data")  # the kubelet swaps the link atomically the same way


def _payload(mount: Path, name: str) -> Path:
    return (mount / "..data").resolve() / name


def test_a_key_from_a_secret_volume_loads_and_an_update_is_seen(tmp_path: Path) -> None:
    mount = tmp_path / "keys"
    _secret_volume(mount, {"alerts-secrets.key": _key_doc(1), "bus-key.pem": b"PEM"})
    assert read_key_file(mount / "bus-key.pem") == b"PEM"
    assert load_or_create_secret_key(mount / "alerts-secrets.key") == b"\x01" * 32
    # The Secret changes (a rotation): the kubelet writes a new copy and swaps `..data`.
    _secret_volume(mount, {"alerts-secrets.key": _key_doc(2)}, stamp="2")
    assert load_or_create_secret_key(mount / "alerts-secrets.key") == b"\x02" * 32


def test_a_sealed_key_in_a_secret_volume_opens_with_the_root_key(tmp_path: Path) -> None:
    root = os.urandom(32)
    mount = tmp_path / "keys"
    name = "intake-content-mac.key"
    _secret_volume(mount, {name: seal_blob(root, name, _key_doc(3))})
    seal_root.activate(root)
    try:
        assert load_or_create_secret_key(mount / name) == b"\x03" * 32
        assert json.loads(read_private(mount / name))["format"] == "lifeline-secret-key/1"
    finally:
        seal_root.forget()


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        (0o444, "world-readable"),
        (0o442, "world-writable"),
        (0o460, "group-writable"),
        (0o640, "group-readable yet writable: not a handed key"),
        (0o450, "group-executable"),
    ],
)
def test_a_looser_mode_is_refused(tmp_path: Path, mode: int, why: str) -> None:
    mount = tmp_path / "keys"
    _secret_volume(mount, {"k.pem": b"PEM"})
    _payload(mount, "k.pem").chmod(mode)
    with pytest.raises(SecretFileError, match="mode"):
        read_key_file(mount / "k.pem")


def test_group_read_for_a_group_this_service_is_not_in_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mount = tmp_path / "keys"
    _secret_volume(mount, {"k.pem": b"PEM"})
    if os.geteuid() == 0:
        os.chown(_payload(mount, "k.pem"), -1, OTHER)
    else:  # not root: cannot give the file away, so this process leaves the group instead
        monkeypatch.setattr(os, "getegid", lambda: OTHER)
        monkeypatch.setattr(os, "getgroups", lambda: [])
    with pytest.raises(SecretFileError, match="mode 0440"):
        read_key_file(mount / "k.pem")


def test_a_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = tmp_path / "keys"
    _secret_volume(mount, {"k.pem": b"PEM"})
    if os.geteuid() == 0:
        os.chown(_payload(mount, "k.pem"), OTHER, -1)
    else:  # not root: the file is this user's; this process pretends to be another one
        monkeypatch.setattr(os, "geteuid", lambda: OTHER)
    with pytest.raises(SecretFileError, match="another user"):
        read_key_file(mount / "k.pem")


def test_links_of_any_other_shape_are_refused(tmp_path: Path) -> None:
    mount = tmp_path / "keys"
    _secret_volume(mount, {"k.pem": b"PEM"})
    (mount / "plain-link.pem").symlink_to(_payload(mount, "k.pem"))
    with pytest.raises(SecretFileError, match="symlink"):
        read_key_file(mount / "plain-link.pem")
    # The Secret shape, but `..data` planted to lead elsewhere.
    elsewhere = tmp_path / "elsewhere"
    _secret_volume(elsewhere, {"k.pem": b"PLANTED"})
    (mount / "..data").unlink()
    (mount / "..data").symlink_to(elsewhere / "..data")
    with pytest.raises(SecretFileError, match="out of its directory"):
        read_key_file(mount / "k.pem")
    with pytest.raises(KeyFileError):
        load_or_create_secret_key(mount / "k.pem")
