"""The bus's files as `lifeline up` makes them: who is named, what is renewed, what is not."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509

from libs.common.bus import ROLES
from lifeline import bus_pki as bus_files
from lifeline.bus import ensure_bus
from lifeline.bus_pki import BusFiles, bus_user


def _make(root: Path, host: str = "127.0.0.1") -> BusFiles:
    return ensure_bus(root, host=host, port=4999, store_dir=root / "js", server_name="t")


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_each_service_is_named_by_its_certificate_and_its_user(tmp_path: Path) -> None:
    files = _make(tmp_path / "bus")
    config = files.config.read_text()
    for service in ROLES:
        san = _cert(files.cert(service)).extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
        assert san.value.get_values_for_type(x509.RFC822Name) == [bus_user(service)]
        assert f'"user": "{bus_user(service)}"' in config
    assert config.count('"user"') == len(ROLES)  # no other user, so no anonymous one
    assert '"verify_and_map": true' in config


def test_the_server_certificate_follows_the_host(tmp_path: Path) -> None:
    files = _make(tmp_path / "bus")
    _make(tmp_path / "bus", host="10.1.2.3")
    names = _cert(files.cert("server")).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert ipaddress.ip_address("10.1.2.3") in names.value.get_values_for_type(x509.IPAddress)


def test_a_certificate_near_its_end_is_renewed_and_others_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _make(tmp_path / "bus")
    sharing = files.key("sharing").read_bytes()
    monkeypatch.setattr(bus_files, "CERT_DAYS", bus_files.RENEW_DAYS - 1)
    bus_files.issue(files, "intake")
    monkeypatch.undo()
    _make(tmp_path / "bus")
    left = _cert(files.cert("intake")).not_valid_after_utc - bus_files._now()
    assert left.days > bus_files.RENEW_DAYS
    assert files.key("sharing").read_bytes() == sharing
