"""The bus's identities: a CA, nats-server's certificate, one client certificate per service,
and the nats-server configuration that maps each certificate to its user and permissions.

Mutual TLS with `verify_and_map` (rather than NKeys or JWT accounts): one mechanism gives the
encryption the production bus needs anyway and each service's identity, from `cryptography`
alone (no operator/resolver to run), and the server's configuration holds no secret. A service's
certificate carries the e-mail SAN `<service>@bus.lifeline`, which nats-server maps to the user
of that name; `libs/common/bus.py` says what each user may do. A client without a certificate
of this CA cannot finish the TLS handshake, and no anonymous user exists.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from libs.common.bus import ROLES, permissions
from libs.common.provenance import producer_uri
from libs.common.secretfile import read_private, write_private
from lifeline.cli.base import CliError

CERT_DAYS = 397  # what browsers accept for a leaf; the CA lives ten years
CA_DAYS = 3650
# The CA's certificate and key, loaded once to issue several certificates.
Authority = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
RENEW_DAYS = 30  # a service certificate this close to its end is issued anew at start


def bus_user(service: str) -> str:
    """The user (e-mail SAN) a service's certificate names."""
    return f"{service}@bus.lifeline"


@dataclass(frozen=True)
class BusFiles:
    """Where one bus's PKI and configuration live (a directory only the operator can read)."""

    root: Path

    @property
    def ca(self) -> Path:
        """The CA certificate every party trusts."""
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        """The CA's private key: it issues and rotates certificates."""
        return self.root / "ca-key.pem"

    @property
    def config(self) -> Path:
        """The nats-server configuration file."""
        return self.root / "nats.conf"

    def cert(self, party: str) -> Path:
        """The certificate of `party` (a service, or "server")."""
        return self.root / f"{party}.pem"

    def key(self, party: str) -> Path:
        """The private key of `party`."""
        return self.root / f"{party}-key.pem"

    def event_cert(self, service: str) -> Path:
        """The certificate naming `service` as the producer of its events."""
        return self.root / f"{service}-events.pem"

    def event_key(self, service: str) -> Path:
        """The Ed25519 key `service` signs its events with."""
        return self.root / f"{service}-events-key.pem"


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lifeline bus"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pem_key(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_ca(files: BusFiles) -> Authority:
    cert = x509.load_pem_x509_certificate(files.ca.read_bytes())
    key = serialization.load_pem_private_key(read_private(files.ca_key), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def _make_ca(files: BusFiles) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Lifeline bus CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    write_private(files.ca_key, _pem_key(key))
    files.ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def host_names(hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    """Subject alternative names for host names and IP addresses."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def write_leaf(
    files: BusFiles,
    party: str,
    names: list[x509.GeneralName],
    usages: list[x509.ObjectIdentifier],
    authority: Authority,
) -> None:
    """A fresh key (0600) and a certificate for `party`, naming `names`, signed by the CA."""
    ca_cert, ca_key = authority
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(party))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # nats-server reads its key from the file: it cannot be sealed (docs/sealing.md).
    write_private(files.key(party), _pem_key(key), seal=party != "server")
    files.cert(party).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def issue(
    files: BusFiles, party: str, hosts: tuple[str, ...] = (), authority: Authority | None = None
) -> None:
    """A fresh key and certificate for `party`: the server (for `hosts`) or a service.

    Issuing again is how a service's bus credentials are rotated: the old certificate still
    verifies until it expires, so rotate the CA as well to cut off a stolen one at once.
    """
    authority = authority or _load_ca(files)
    if party == "server":
        write_leaf(files, party, host_names(hosts), [ExtendedKeyUsageOID.SERVER_AUTH], authority)
    else:
        names: list[x509.GeneralName] = [x509.RFC822Name(bus_user(party))]
        write_leaf(files, party, names, [ExtendedKeyUsageOID.CLIENT_AUTH], authority)


def issue_producer(files: BusFiles, service: str, authority: Authority | None = None) -> None:
    """A fresh Ed25519 event-signing key for `service` and the CA's certificate naming it."""
    ca_cert, ca_key = authority or _load_ca(files)
    key = ed25519.Ed25519PrivateKey.generate()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{service} events"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(producer_uri(service))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(files.event_key(service), _pem_key(key))
    files.event_cert(service).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def issue_service(files: BusFiles, service: str, authority: Authority | None = None) -> None:
    """Every credential of a service: its TLS identity and, if it publishes, its signing key."""
    authority = authority or _load_ca(files)
    issue(files, service, authority=authority)
    if ROLES[service].publishes:
        issue_producer(files, service, authority)


def stale_services(files: BusFiles, ca: x509.Certificate, renew: Collection[str] = ()) -> list[str]:
    """Services whose credentials are asked to be renewed, missing, near their end or of
    another CA."""
    stale = []
    for party, role in ROLES.items():
        certs = [files.cert(party), *([files.event_cert(party)] if role.publishes else [])]
        if (
            party in renew
            or not files.key(party).exists()
            or not all(is_current(c, ca) for c in certs)
        ):
            stale.append(party)
    return stale


def issue_services(files: BusFiles, authority: Authority, renew: Collection[str] = ()) -> None:
    """Each stale service's credentials issued anew (see `stale_services`); the others kept."""
    for party in stale_services(files, authority[0], renew):
        issue_service(files, party, authority)


def authorization() -> dict[str, Any]:
    """One user per service, named by its certificate, with its role's permissions."""
    return {
        "users": [
            {"user": bus_user(name), "permissions": permissions(role)}
            for name, role in ROLES.items()
        ]
    }


def tls_block(cert: str, key: str, ca: str) -> dict[str, Any]:
    """A `tls` block: this certificate, and peers must show one of this CA, mapped to a user."""
    return {"cert_file": cert, "key_file": key, "ca_file": ca, "verify_and_map": True, "timeout": 5}


def config_text(entries: dict[str, Any]) -> str:
    """nats-server configuration text; the format reads JSON, so every value is written as JSON."""
    return "".join(f"{name}: {json.dumps(value, indent=2)}\n" for name, value in entries.items())


def server_config(
    files: BusFiles, *, host: str, port: int, store_dir: Path, server_name: str
) -> str:
    """nats-server's configuration: JetStream, mutual TLS, and one user per service."""
    return config_text(
        {
            "server_name": server_name,
            "host": host,
            "port": port,
            "jetstream": {"store_dir": str(store_dir)},
            "tls": tls_block(str(files.cert("server")), str(files.key("server")), str(files.ca)),
            "authorization": authorization(),
        }
    )


def open_authority(files: BusFiles) -> Authority:
    """The CA whose certificate and key live in `files`, made on first use."""
    if not files.ca_key.exists():
        _make_ca(files)
    return _load_ca(files)


def ensure_bus(
    root: Path,
    *,
    host: str,
    port: int,
    store_dir: Path,
    server_name: str,
    can_issue: bool = True,
) -> BusFiles:
    """The bus's files under `root`, made on first use; the configuration is rewritten always.

    `can_issue` False (a sealed CA key and no root key at hand): the certificates on disk are
    used as they are, and one that would have to be issued is an error.
    """
    files = BusFiles(root)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    if not files.ca_key.exists():
        _needs_issuing(can_issue, "the bus has no CA yet")
        _make_ca(files)
    ca_cert = x509.load_pem_x509_certificate(files.ca.read_bytes())
    authority: Authority | None = None
    hosts = tuple(dict.fromkeys((host, "127.0.0.1", "localhost")))
    # The server's certificate is made anew at every start (it then always names this host),
    # unless nothing can be issued: then the one on disk must name this host already.
    if can_issue or not _serves(files, ca_cert, hosts):
        _needs_issuing(can_issue, f"the server certificate does not name {host}")
        authority = _load_ca(files)
        issue(files, "server", hosts, authority)
    stale = stale_services(files, ca_cert)
    if stale:
        _needs_issuing(
            can_issue, f"certificates of {', '.join(stale)} are missing or near their end"
        )
        issue_services(files, authority or _load_ca(files))
    text = server_config(files, host=host, port=port, store_dir=store_dir, server_name=server_name)
    files.config.write_text(text)
    return files


def _needs_issuing(can_issue: bool, why: str) -> None:
    if not can_issue:
        raise BusSealedError(
            f"{why}, and the bus's CA key is sealed: issue it on a start that holds the root "
            "key (docs/sealing.md)"
        )


class BusSealedError(CliError):
    """A certificate must be issued but the CA key is sealed and no root key is at hand."""


def _serves(files: BusFiles, ca: x509.Certificate, hosts: tuple[str, ...]) -> bool:
    """Whether the server certificate on disk is current and names every one of `hosts`."""
    if not is_current(files.cert("server"), ca):
        return False
    cert = x509.load_pem_x509_certificate(files.cert("server").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    named = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    named |= set(names.get_values_for_type(x509.DNSName))
    return set(hosts) <= named


def is_current(cert_file: Path, ca: x509.Certificate) -> bool:
    """Whether the certificate exists, the current CA signed it, and it has a month left."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        cert.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_after_utc - _now() > dt.timedelta(days=RENEW_DAYS)


def rotate(root: Path, service: str | None = None) -> list[str]:
    """Retire bus credentials; the next `ensure_bus` issues new ones. Returns what was retired.

    With a service: only its key and certificate (routine rotation; the old certificate still
    verifies until it expires). Without: the CA too, so that every certificate issued before,
    a stolen one included, stops working once the server restarts with the new configuration.
    """
    files = BusFiles(root)
    if service is not None and service not in ROLES:
        raise ValueError(f"no service {service!r} on the bus (one of {', '.join(ROLES)})")
    parties = [service] if service else ["ca", "server", *ROLES]
    for party in parties:
        paths = (
            (files.ca, files.ca_key)
            if party == "ca"
            else (
                files.cert(party),
                files.key(party),
                files.event_cert(party),
                files.event_key(party),
            )
        )
        for path in paths:
            path.unlink(missing_ok=True)
    return parties
