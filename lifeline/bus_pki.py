"""The bus's certificates: a CA, nats-server's, and each service's TLS identity and event-signing
key (see `lifeline/bus.py` for why mutual TLS, and `docs/bus.md`).

A service's TLS certificate carries the e-mail SAN `<service>@bus.lifeline`, which nats-server
maps to the user of that name; a producer's event certificate names it as
`urn:lifeline:producer:<service>` (`libs/common/bus.py`, checked by `libs/common/provenance.py`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from libs.common.bus import ROLES, producer_uri
from libs.common.secretfile import read_private, write_private

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

    def settings(self, service: str) -> dict[str, Path]:
        """A service's bus settings: its TLS identity and, for a producer, its signing key."""
        values = {
            "nats_ca_file": self.ca,
            "nats_cert_file": self.cert(service),
            "nats_key_file": self.key(service),
        }
        if ROLES[service].publishes:
            values |= {
                "event_key_file": self.event_key(service),
                "event_cert_file": self.event_cert(service),
            }
        return values


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


def load_ca(files: BusFiles) -> Authority:
    cert = x509.load_pem_x509_certificate(files.ca.read_bytes())
    key = serialization.load_pem_private_key(read_private(files.ca_key), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def make_ca(files: BusFiles) -> None:
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


def _leaf(
    common: str, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, ca: x509.Certificate
) -> x509.CertificateBuilder:
    """What every certificate the CA issues has: subject, issuer, key, validity, not a CA."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )


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
        _leaf(party, key, ca_cert)
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
    authority = authority or load_ca(files)
    if party == "server":
        write_leaf(files, party, host_names(hosts), [ExtendedKeyUsageOID.SERVER_AUTH], authority)
    else:
        names: list[x509.GeneralName] = [x509.RFC822Name(bus_user(party))]
        write_leaf(files, party, names, [ExtendedKeyUsageOID.CLIENT_AUTH], authority)


def issue_producer(files: BusFiles, service: str, authority: Authority | None = None) -> None:
    """A fresh Ed25519 event-signing key for `service` and the CA's certificate naming it."""
    ca_cert, ca_key = authority or load_ca(files)
    key = ed25519.Ed25519PrivateKey.generate()
    cert = (
        _leaf(f"{service} events", key, ca_cert)
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
    authority = authority or load_ca(files)
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


def open_authority(files: BusFiles) -> Authority:
    """The CA whose certificate and key live in `files`, made on first use."""
    if not files.ca_key.exists():
        make_ca(files)
    return load_ca(files)


def is_current(cert_file: Path, ca: x509.Certificate) -> bool:
    """Whether the certificate exists, the current CA signed it, and it has a month left."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        cert.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_after_utc - _now() > dt.timedelta(days=RENEW_DAYS)
