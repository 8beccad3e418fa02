"""`lifeline bus deploy-bundle`: what it writes, where the CA key goes, what a rerun keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from libs.common.bus import ROLES
from lifeline.bus_deploy import ROUTE_USER, ROUTES
from lifeline.bus_pki import BusFiles, bus_user
from lifeline.cli.main import main


def _bundle(tmp_path: Path, *extra: str) -> BusFiles:
    argv = ["bus", "deploy-bundle", "--out", str(tmp_path / "bus"), "--ca-dir",
            str(tmp_path / "ca"), "--host", "nats.example.org", *extra]  # fmt: skip
    assert main(argv) == 0
    return BusFiles(tmp_path / "bus")


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _names(path: Path, kind: type[x509.GeneralName]) -> list[object]:
    san = _cert(path).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return list(san.get_values_for_type(kind))  # type: ignore[arg-type]


def test_the_ca_key_stays_out_of_the_bundle_and_keys_are_private(tmp_path: Path) -> None:
    files = _bundle(tmp_path)
    assert not list(files.root.glob("ca-key*"))
    assert (tmp_path / "ca" / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    for directory in (files.root, tmp_path / "ca"):
        assert directory.stat().st_mode & 0o777 == 0o700
    keys = sorted(p.name for p in files.root.glob("*-key.pem"))
    parties = [ROUTES, *ROLES, "nats-0", "nats-1", "nats-2"]
    signers = [s for s, role in ROLES.items() if role.publishes]
    assert keys == sorted(
        [f"{p}-key.pem" for p in parties] + [f"{s}-events-key.pem" for s in signers]
    )
    assert all(files.root.joinpath(k).stat().st_mode & 0o777 == 0o600 for k in keys)


def test_each_certificate_names_what_it_is(tmp_path: Path) -> None:
    files = _bundle(tmp_path)
    for service in ROLES:
        assert _names(files.cert(service), x509.RFC822Name) == [bus_user(service)]
    for i in range(3):
        names = _names(files.cert(f"nats-{i}"), x509.DNSName)
        headless = f"nats-{i}.nats-headless"
        assert {f"nats-{i}", headless, f"{headless}.lifeline.svc.cluster.local"} <= set(names)
        assert {"nats", "nats.example.org"} <= set(names)
    assert _names(files.cert(ROUTES), x509.RFC822Name) == [ROUTE_USER]
    usage = _cert(files.cert(ROUTES)).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert set(usage.value) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}


def test_a_rerun_keeps_everything_and_renew_replaces_one_service(tmp_path: Path) -> None:
    files = _bundle(tmp_path)
    parties = [ROUTES, *ROLES, "nats-0", "nats-1", "nats-2"]
    before = {p: files.key(p).read_bytes() for p in parties}
    ca = files.ca.read_bytes()
    _bundle(tmp_path)
    assert {p: files.key(p).read_bytes() for p in parties} == before
    signing = {s: files.event_key(s).read_bytes() for s in ("intake", "sharing")}
    _bundle(tmp_path, "--renew", "intake")
    after = {p: files.key(p).read_bytes() for p in parties}
    assert [p for p in parties if after[p] != before[p]] == ["intake"]
    assert files.event_key("intake").read_bytes() != signing["intake"], "its signing key too"
    assert files.event_key("sharing").read_bytes() == signing["sharing"]
    assert files.ca.read_bytes() == ca
    _cert(files.cert("intake")).verify_directly_issued_by(_cert(files.ca))
    _bundle(tmp_path, "--renew", "nodes")
    renewed = {p for p, key in after.items() if files.key(p).read_bytes() != key}
    assert renewed == {ROUTES, "nats-0", "nats-1", "nats-2"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nodes", "4"], "--nodes 4: a JetStream cluster of R3 streams needs 3, 5 or 7\n"),
        (["--ca-dir", "{tmp}/bus/ca"], "must not contain each other"),
    ],
)
def test_bad_input_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    base = [
        "bus",
        "deploy-bundle",
        "--out",
        str(tmp_path / "bus"),
        "--ca-dir",
        str(tmp_path / "ca"),
    ]
    assert main([*base, *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lifeline: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "bus" / "nats-0.conf").exists()


def test_a_bundle_is_not_reissued_by_another_ca_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _bundle(tmp_path)
    key = files.key("intake").read_bytes()
    argv = ["bus", "deploy-bundle", "--out", str(files.root), "--ca-dir", str(tmp_path / "typo")]
    assert main(argv) == 1
    assert "was issued by a CA that is not in" in capsys.readouterr().err
    assert files.key("intake").read_bytes() == key and not (tmp_path / "typo").exists()
    assert main([*argv, "--new-ca"]) == 0
    assert files.ca.read_bytes() == (tmp_path / "typo" / "ca.pem").read_bytes()
    _cert(files.cert("intake")).verify_directly_issued_by(_cert(files.ca))
    _cert(files.cert("nats-0")).verify_directly_issued_by(_cert(files.ca))
