"""The production bus bundle: a CA meant to be kept offline, a certificate per NATS node, one for
the cluster's routes, one per service, and each node's nats-server configuration.

It uses `lifeline up`'s issuing and configuration code (`lifeline/bus_pki.py`, `lifeline/bus.py`),
so the services' users and permissions are those of `libs/common/bus.py`. Routes are mutual TLS
as well: every node shows the route certificate, whose e-mail SAN `route@bus.lifeline` is the
cluster's only user (`verify_and_map`), so a service's certificate cannot join the cluster and
the route certificate maps to no client user. Nodes tell clients of no other node
(`no_advertise`): a client uses the node names it was given, which the node certificates carry
(a gossiped address would not be).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from libs.common.bus import ROLES
from lifeline.bus import authorization, config_text, tls_block
from lifeline.bus_pki import (
    Authority,
    BusFiles,
    host_names,
    is_current,
    issue_services,
    open_authority,
    write_leaf,
)

NAMESPACE = "lifeline"  # the Kubernetes namespace of deploy/k8s
HEADLESS = "nats-headless"  # the StatefulSet's headless Service: nats-0.nats-headless, …
CLIENT_SERVICE = "nats"  # the Kubernetes Service clients may use instead of a node's name
MOUNT = "/etc/nats/bus"  # where a node finds the bundle's files (compose and Kubernetes)
CLUSTER = "lifeline"
ROUTES = "routes"  # the party whose certificate every node shows on its cluster port
ROUTE_USER = "route@bus.lifeline"
NODES = "nodes"  # what `renew` calls the node and route certificates


class BundleError(ValueError):
    """The bundle cannot be made as asked (the message says why)."""


@dataclass(frozen=True)
class Node:
    """One NATS node: its name, the names it answers to, where it listens and keeps its store."""

    name: str
    hosts: tuple[str, ...]  # names (or addresses) clients and peers reach it by
    route_host: str  # the name the other nodes' routes dial
    bind: str = "0.0.0.0"  # noqa: S104 - a container listens on its own network
    client_port: int = 4222
    cluster_port: int = 6222
    http_port: int = 8222
    store_dir: str = "/data/jetstream"


def cluster_nodes(
    count: int, namespace: str = NAMESPACE, extra_hosts: Sequence[str] = ()
) -> list[Node]:
    """`count` nodes `nats-0`…, named as compose and the Kubernetes StatefulSet name them."""
    if count < 3 or count % 2 == 0:
        raise BundleError(f"--nodes {count}: a JetStream cluster of R3 streams needs 3, 5 or 7")
    service = f"{CLIENT_SERVICE}.{namespace}"
    shared = (CLIENT_SERVICE, service, f"{service}.svc", f"{service}.svc.cluster.local")
    nodes = []
    for i in range(count):
        name = f"nats-{i}"
        pod = f"{name}.{HEADLESS}"
        own = (name, pod, f"{pod}.{namespace}", f"{pod}.{namespace}.svc")
        hosts = (*own, f"{pod}.{namespace}.svc.cluster.local", *shared, *extra_hosts)
        nodes.append(Node(name, tuple(dict.fromkeys(hosts)), route_host=pod))
    return nodes


def node_config(node: Node, nodes: Sequence[Node], mount: str = MOUNT) -> str:
    """One node's nats-server configuration: JetStream, client and route mutual TLS, the users."""
    files = BusFiles(Path(mount))  # the paths as the node sees them
    ca = str(files.ca)
    return config_text(
        {
            "server_name": node.name,
            "listen": f"{node.bind}:{node.client_port}",
            "http": f"{node.bind}:{node.http_port}",
            "lame_duck_duration": "30s",
            "lame_duck_grace_period": "10s",
            "jetstream": {"store_dir": node.store_dir, "max_file_store": 9 * 2**30},
            "tls": tls_block(str(files.cert(node.name)), str(files.key(node.name)), ca),
            "authorization": authorization(),
            "cluster": {
                "name": CLUSTER,
                "listen": f"{node.bind}:{node.cluster_port}",
                "no_advertise": True,
                "tls": tls_block(str(files.cert(ROUTES)), str(files.key(ROUTES)), ca),
                # With verify_and_map, a peer is let in only if its certificate names this user.
                "authorization": {"user": ROUTE_USER},
                "routes": [f"nats-route://{n.route_host}:{n.cluster_port}" for n in nodes],
            },
        }
    )


def node_files(node: str) -> list[str]:
    """The bundle's files one node needs (its configuration first)."""
    names = BusFiles(Path())
    parties = [names.ca, names.cert(node), names.key(node), names.cert(ROUTES), names.key(ROUTES)]
    return [f"{node}.conf", *(p.name for p in parties)]


def service_files(service: str) -> list[str]:
    """The bundle's files one service needs: the CA, its certificate and key, and its event-
    signing certificate and key if it publishes."""
    names = BusFiles(Path())
    paths = [names.ca, names.cert(service), names.key(service)]
    if ROLES[service].publishes:
        paths += [names.event_cert(service), names.event_key(service)]
    return [p.name for p in paths]


def kustomization(nodes: Sequence[Node]) -> str:
    """The bundle's kustomization: one Secret for the nodes and one per service (JSON is YAML)."""
    nats = list(dict.fromkeys(f for n in nodes for f in node_files(n.name)))
    generators = [{"name": "nats-bus", "files": nats}]
    generators += [{"name": f"{s}-bus", "files": service_files(s)} for s in ROLES]
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "generatorOptions": {"labels": {"app.kubernetes.io/part-of": "lifeline"}},
        "secretGenerator": generators,
    }
    header = "# Made by `lifeline bus deploy-bundle`; deploy/k8s/kustomization.yaml includes it.\n"
    return header + json.dumps(doc, indent=2) + "\n"


def _names(cert_file: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(name.value) for name in san}


def _keep(files: BusFiles, party: str, names: list[x509.GeneralName], ca: Authority) -> bool:
    """Whether `party`'s certificate is current and names exactly `names`."""
    if not files.key(party).exists() or not is_current(files.cert(party), ca[0]):
        return False
    return _names(files.cert(party)) == {str(name.value) for name in names}


def _same_ca(bundle: BusFiles, authority: BusFiles) -> bool:
    """Whether the bundle's CA certificate is the one in the CA's directory."""
    return authority.ca.exists() and authority.ca.read_bytes() == bundle.ca.read_bytes()


def _issue_nodes(files: BusFiles, nodes: Sequence[Node], ca: Authority, renew: bool) -> None:
    server = [ExtendedKeyUsageOID.SERVER_AUTH]
    for node in nodes:
        names = host_names(node.hosts)
        if renew or not _keep(files, node.name, names, ca):
            write_leaf(files, node.name, names, server, ca)
    # Each node dials its routes as a client and answers them as a server, with this one name.
    routes: list[x509.GeneralName] = [x509.RFC822Name(ROUTE_USER)]
    routes += host_names(tuple(dict.fromkeys(n.route_host for n in nodes)))
    if renew or not _keep(files, ROUTES, routes, ca):
        write_leaf(files, ROUTES, routes, [*server, ExtendedKeyUsageOID.CLIENT_AUTH], ca)


def write_bundle(
    out: Path,
    ca_dir: Path,
    nodes: Sequence[Node],
    *,
    mount: str = MOUNT,
    renew: Collection[str] = (),
    new_ca: bool = False,
) -> BusFiles:
    """Make or refresh the bundle in `out`, signed by the CA in `ca_dir` (made if missing).

    A certificate is kept while it is current, of this CA and (for nodes) names the same hosts;
    `renew` names services, or "nodes", to issue anew regardless (rotation). A bundle of
    another CA is refused unless `new_ca`: an empty or mistyped `ca_dir` must not replace it.
    """
    out, ca_dir = out.resolve(), ca_dir.resolve()
    if out == ca_dir or out in ca_dir.parents or ca_dir in out.parents:
        raise BundleError(
            f"the CA directory {ca_dir} and the bundle {out} must not contain each other: "
            "the bundle is copied to the servers, the CA key stays offline"
        )
    unknown = set(renew) - {*ROLES, NODES}
    if unknown:
        raise BundleError(
            f"cannot renew {', '.join(sorted(unknown))} (one of {', '.join(ROLES)}, nodes)"
        )
    authority_files, files = BusFiles(ca_dir), BusFiles(out)
    if files.ca.exists() and not new_ca and not _same_ca(files, authority_files):
        raise BundleError(
            f"{out} was issued by a CA that is not in {ca_dir}: give that CA's directory, or "
            "--new-ca to replace the CA (every certificate is then issued anew)"
        )
    for directory in (out, ca_dir):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.chmod(0o700)
    ca = open_authority(authority_files)
    files.ca.write_bytes(authority_files.ca.read_bytes())
    _issue_nodes(files, nodes, ca, NODES in renew)
    issue_services(files, ca, set(renew) & set(ROLES))
    for node in nodes:
        (out / f"{node.name}.conf").write_text(node_config(node, nodes, mount))
    (out / "kustomization.yaml").write_text(kustomization(nodes))
    return files
