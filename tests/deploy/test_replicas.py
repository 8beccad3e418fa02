"""The deploy files run N replicas of each service through rolling restarts: every key the
replicas must share is on storage they share, one PUBLIC_URL each, the database connections
fit, and compose can `--scale`."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from libs.common import db
from tests.support.deploy import (
    K8S,
    PROCESSES,
    SERVICES,
    compose_env,
    compose_mounts,
    default_port,
    deployment_container,
    k8s_env,
    k8s_kind,
    pod_mounts,
    prefix_of,
    settings_from_env,
)

# PostgreSQL's default `max_connections`, less its `superuser_reserved_connections`.
PG_USABLE = 100 - 3


def _mount_of(path: Path, mounts: dict[str, Any]) -> tuple[str, Any]:
    """The mount a file lives on (the longest mount path above it)."""
    above = [m for m in mounts if PurePosixPath(m) in PurePosixPath(path).parents]
    assert above, f"{path} is on the container's read-only root: nothing could write or share it"
    best = max(above, key=len)
    return best, mounts[best]


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_keys_the_replicas_share_are_on_a_shared_claim_or_a_secret(
    k8s: list[dict[str, Any]], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    settings = settings_from_env(monkeypatch, service, k8s_env(k8s, dep))
    mounts = pod_mounts(dep["spec"]["template"]["spec"], deployment_container(dep))
    claims = k8s_kind(k8s, "PersistentVolumeClaim")
    assert settings.shared_key_files(), f"{service} names the keys its replicas share"
    for path in settings.shared_key_files():
        where, volume = _mount_of(path, mounts)
        assert "emptyDir" not in volume, f"{service}: {path} would be one pod's own ({where})"
        if "secret" in volume:
            assert volume["readOnly"], f"{service}: mount the Secret at {where} read-only"
            continue
        claim = claims[volume["persistentVolumeClaim"]["claimName"]]
        assert "ReadWriteMany" in claim["spec"]["accessModes"], f"{service}: {where}"


@pytest.mark.parametrize("service", PROCESSES)
def test_k8s_only_tmp_is_an_empty_dir(k8s: list[dict[str, Any]], service: str) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    mounts = pod_mounts(dep["spec"]["template"]["spec"], deployment_container(dep))
    assert [m for m, v in mounts.items() if "emptyDir" in v] == ["/tmp"]


@pytest.mark.parametrize("service", SERVICES)
def test_compose_keys_the_replicas_share_are_on_the_named_volume(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = compose["services"][service]
    settings = settings_from_env(monkeypatch, service, compose_env(svc))
    for path in settings.shared_key_files():
        where, (source, _) = _mount_of(path, compose_mounts(svc))
        # A named volume is one for all of `--scale`'s containers; a bind mount of the host's
        # directory would be too, but none is writable here.
        assert source in compose["volumes"], f"{service}: {path} is on {source} ({where})"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_publishes_no_fixed_host_port(compose: dict[str, Any], service: str) -> None:
    for entry in compose["services"][service]["ports"]:
        assert isinstance(entry, dict), f"{service}: long syntax, no host port: {entry}"
        assert entry == {"target": default_port(service), "host_ip": "127.0.0.1", "protocol": "tcp"}


def test_every_replica_has_the_one_public_url(
    compose: dict[str, Any], k8s: list[dict[str, Any]]
) -> None:
    for service in PROCESSES:
        key = f"{prefix_of(service)}PUBLIC_URL"
        assert compose_env(compose["services"][service]).get(key), f"compose {service}"
        dep = k8s_kind(k8s, "Deployment")[service]
        # From the service's ConfigMap, so one value for all its pods (not one per pod).
        literal = [e["name"] for e in deployment_container(dep).get("env", [])]
        assert key not in literal and k8s_env(k8s, dep).get(key), f"k8s {service}"


def test_k8s_database_connections_fit_postgresql_through_a_rollout(
    k8s: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 0
    # The console opens no database connection (test_console.py: it is given no database).
    for service in SERVICES:
        dep = k8s_kind(k8s, "Deployment")[service]
        settings = settings_from_env(monkeypatch, service, k8s_env(k8s, dep))
        surge = dep["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        total += (dep["spec"]["replicas"] + surge) * settings.db_max_connections()
    # And the KEK rewrap job (`python -m services.sharing.vault.keys.rewrap`) beside them.
    defaults = inspect.signature(db.create_engine).parameters
    total += defaults["pool_size"].default + defaults["max_overflow"].default
    assert total <= PG_USABLE, f"{total} connections at most, against {PG_USABLE}"


@pytest.mark.parametrize("service", SERVICES)
def test_seal_init_runs_a_pod_on_the_service_claim(
    k8s: list[dict[str, Any]], service: str, tmp_path: Path
) -> None:
    # A stand-in kubectl that prints what it was asked (there is no cluster here).
    fake = tmp_path / "kubectl"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["sh", str(K8S / "seal-init.sh"), service, "lifeline:0.1.0", "--threshold", "2"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"},
        check=True,
    )
    argv = result.stdout.split("\0")
    assert argv[:5] == ["-n", "lifeline", "run", f"seal-init-{service}", "--rm"]
    pod = json.loads(next(a for a in argv if a.startswith("--overrides=")).split("=", 1)[1])
    (container,) = pod["spec"]["containers"]
    assert container["command"] == [
        "lifeline",
        "seal",
        "init",
        "--data-dir",
        "/var/lib/lifeline",
        "--threshold",
        "2",
    ]
    dep = k8s_kind(k8s, "Deployment")[service]
    data_dir = k8s_env(k8s, dep)[f"{prefix_of(service)}DATA_DIR"]
    mounts = pod_mounts(pod["spec"], container)
    assert (
        mounts[data_dir]["persistentVolumeClaim"]
        == pod_mounts(dep["spec"]["template"]["spec"], deployment_container(dep))[data_dir][
            "persistentVolumeClaim"
        ]
    ), "the claim the service's replicas mount"
    assert pod["spec"]["securityContext"] == dep["spec"]["template"]["spec"]["securityContext"]
