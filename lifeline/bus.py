"""The bus's nats-server configuration, made with its certificates (`lifeline/bus_pki.py`).

Mutual TLS with `verify_and_map` (rather than NKeys or JWT accounts): one mechanism gives the
encryption the production bus needs anyway and each service's identity, from `cryptography`
alone (no operator/resolver to run), and the server's configuration holds no secret. A service's
certificate carries the e-mail SAN `<service>@bus.lifeline`, which nats-server maps to the user
of that name; `libs/common/bus.py` says what each user may do. A client without a certificate
of this CA cannot finish the TLS handshake, and no anonymous user exists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography import x509

from libs.common.bus import ROLES, permissions
from lifeline.bus_pki import (
    Authority,
    BusFiles,
    bus_user,
    is_current,
    issue,
    issue_services,
    load_ca,
    make_ca,
    stale_services,
)
from lifeline.cli.base import CliError


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
        make_ca(files)
    ca_cert = x509.load_pem_x509_certificate(files.ca.read_bytes())
    authority: Authority | None = None
    hosts = tuple(dict.fromkeys((host, "127.0.0.1", "localhost")))
    # The server's certificate is made anew at every start (it then always names this host),
    # unless nothing can be issued: then the one on disk must name this host already.
    if can_issue or not _serves(files, ca_cert, hosts):
        _needs_issuing(can_issue, f"the server certificate does not name {host}")
        authority = load_ca(files)
        issue(files, "server", hosts, authority)
    stale = stale_services(files, ca_cert)
    if stale:
        _needs_issuing(
            can_issue, f"certificates of {', '.join(stale)} are missing or near their end"
        )
        issue_services(files, authority or load_ca(files))
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
