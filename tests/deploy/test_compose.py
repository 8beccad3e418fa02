"""deploy/compose.yaml runs the three services with production settings on a 3-node NATS cluster."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from libs.common import nats as natsx
from tests.support.deploy import (
    COMPOSE,
    COMPOSE_VAR,
    DEPLOY,
    NATS_CLIENT_PORT,
    NATS_NODES,
    PLACEHOLDER,
    PROCESSES,
    PRODUCTION_REPLICAS,
    READYZ,
    SECRET_WORDS,
    SERVICES,
    assert_env_names,
    assert_in_cluster_url,
    compose_env,
    default_port,
    env_example,
    lifeline_compose_services,
    prefix_of,
    settings_from_env,
)
from tests.support.dockerfile import (
    healthcheck_script_in_image,
)


@pytest.mark.parametrize("service", PROCESSES)
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


@pytest.mark.parametrize("service", PROCESSES)
def test_compose_env_names_are_settings_fields(compose: dict[str, Any], service: str) -> None:
    assert_env_names(service, compose_env(compose["services"][service]), f"compose {service}")


def test_compose_sets_no_lifeline_env_on_other_containers(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        if name not in PROCESSES:
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
            # CONSOLE_URL is for people's browsers: the public address (test_console.py).
            if name.endswith("_URL") and not name.endswith(("DATABASE_URL", "CONSOLE_URL")):
                for url in value.split(","):
                    assert_in_cluster_url(url, hosts)
        if service != "sharing":
            sharing = urlsplit(env[f"{prefix_of(service)}SHARING_URL"])
            assert (sharing.hostname, sharing.port) == ("sharing", default_port("sharing"))


@pytest.mark.parametrize("service", PROCESSES)
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
    for name, value in env_example().items():
        # Secrets and pins are placeholders; anything else (the console's public address) is
        # no secret and has a working example value.
        assert value == PLACEHOLDER or not SECRET_WORDS.search(name), f".env.example: {name}"
    assert {"POSTGRES_PASSWORD", "SHARING_HPKE_FINGERPRINTS"} <= {
        name for name, value in env_example().items() if value == PLACEHOLDER
    }
    ignored = [line for line in (DEPLOY / ".gitignore").read_text().split("\n") if line]
    assert [line for line in ignored if not line.startswith("#")] == [".env", "bus/"]


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
