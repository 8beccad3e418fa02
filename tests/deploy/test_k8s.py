"""deploy/k8s/ runs the three services replicated and hardened, and a 3-node NATS cluster."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from services.sharing.approvals.domain import ApprovalAction
from services.sharing.settings import SharingSettings
from tests.support.deploy import (
    HEALTHZ,
    K8S,
    PLACEHOLDER,
    PROCESSES,
    PRODUCTION_REPLICAS,
    READYZ,
    SECRET_TEMPLATE,
    SECRET_WORDS,
    SERVICES,
    assert_env_names,
    assert_in_cluster_url,
    compose_env,
    default_port,
    deployment_container,
    k8s_env,
    k8s_kind,
    prefix_of,
    secret_template,
    settings_from_env,
)
from tests.support.dockerfile import (
    image_uid,
)


@pytest.mark.parametrize("service", PROCESSES)
def test_k8s_ports_match_settings(k8s: list[dict[str, Any]], service: str) -> None:
    port = default_port(service)
    dep = k8s_kind(k8s, "Deployment")[service]
    container = deployment_container(dep)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    # The /metrics listener is a second, named port (tests/deploy/test_metrics.py).
    assert ports == {"http": port, "metrics": ports["metrics"]}
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


@pytest.mark.parametrize("service", PROCESSES)
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


@pytest.mark.parametrize("service", PROCESSES)
def test_k8s_env_names_are_settings_fields(k8s: list[dict[str, Any]], service: str) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    assert_env_names(service, k8s_env(k8s, dep), f"k8s {service}")


def test_k8s_configmaps_belong_to_one_service(k8s: list[dict[str, Any]]) -> None:
    for name, cm in k8s_kind(k8s, "ConfigMap").items():
        lifeline = [k for k in cm["data"] if k.startswith("LIFELINE_")]
        owners = {s for s in PROCESSES for k in lifeline if k.startswith(prefix_of(s))}
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
        # A node by its pod name (`nats-0.nats-headless`) or the client Service (`nats`).
        labels = parts.hostname.split(".")
        nats_svc = services[labels[1] if labels[0] not in services else labels[0]]
        assert parts.port in {p["port"] for p in nats_svc["spec"]["ports"]}
        sts_labels = k8s_kind(k8s, "StatefulSet")["nats"]["spec"]["template"]["metadata"]
        assert nats_svc["spec"]["selector"].items() <= sts_labels["labels"].items()
    for name, value in env.items():
        # PUBLIC_URL and CONSOLE_URL are external addresses (CONSOLE_URL: test_console.py).
        public = ("DATABASE_URL", "PUBLIC_URL", "CONSOLE_URL")
        if name.endswith("_URL") and not name.endswith(public):
            for url in value.split(","):
                assert_in_cluster_url(url, set(services))
    if service != "sharing":
        sharing = urlsplit(env[f"{prefix_of(service)}SHARING_URL"])
        assert sharing.port == default_port("sharing")
        assert sharing.hostname is not None and sharing.hostname.split(".")[0] == "sharing"


def test_every_production_config_gates_actions_behind_a_second_operator(
    compose: dict[str, Any], k8s: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = k8s_kind(k8s, "Deployment")["sharing"]
    for where, env in (
        ("compose", compose_env(compose["services"]["sharing"])),
        ("k8s", k8s_env(k8s, deployment)),
    ):
        settings = settings_from_env(monkeypatch, "sharing", env)
        assert isinstance(settings, SharingSettings)
        assert settings.approval_required() == frozenset(ApprovalAction), where


def test_stream_replicas_are_three_in_every_production_config(
    compose: dict[str, Any], k8s: list[dict[str, Any]]
) -> None:
    deployments = k8s_kind(k8s, "Deployment")
    for service in SERVICES:
        key = f"{prefix_of(service)}STREAM_REPLICAS"
        assert compose_env(compose["services"][service]).get(key) == "3", f"compose {service}"
        assert k8s_env(k8s, deployments[service]).get(key) == "3", f"k8s {service}"


@pytest.mark.parametrize("service", PROCESSES)
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
    assert listed == (on_disk - {SECRET_TEMPLATE.name}) | {"../bus"}, "and the bus bundle"
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
