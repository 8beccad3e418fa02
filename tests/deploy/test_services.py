"""The three services, their health routes and health probe script, and no keys in deploy/."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.support.deploy import (
    CONSOLE,
    HEALTHZ,
    PROCESSES,
    READYZ,
    SERVICES,
    SETTINGS,
    assert_importable_service,
    default_port,
    deploy_files,
    deployment_container,
    k8s_kind,
    lifeline_compose_services,
    module_of,
    prefix_of,
    settings_from_env,
)


def test_settings_know_the_three_services() -> None:
    assert {default_port(s) for s in SERVICES} == {8101, 8102, 8103}
    for service in SERVICES:
        assert SETTINGS[service].model_fields["service_name"].default == service
        assert SETTINGS[service].model_fields["stream_replicas"].default == 1, (
            "streams default to R1 locally, so production configs must set 3"
        )


def test_compose_runs_the_three_services_and_the_console(compose: dict[str, Any]) -> None:
    services = lifeline_compose_services(compose)
    assert set(services) == set(PROCESSES)
    for name, svc in services.items():
        assert_importable_service(module_of(svc["command"]), name)


def test_k8s_runs_the_three_services_and_the_console(k8s: list[dict[str, Any]]) -> None:
    deployments = k8s_kind(k8s, "Deployment")
    assert set(deployments) == set(PROCESSES)
    assert set(PROCESSES) <= set(k8s_kind(k8s, "Service"))
    for name, dep in deployments.items():
        assert_importable_service(module_of(deployment_container(dep)["command"]), name)


def test_health_routes_exist_in_every_app(app_paths: dict[str, set[str]]) -> None:
    for service, paths in app_paths.items():
        assert {HEALTHZ, READYZ} <= paths, f"{service} lacks health routes: {sorted(paths)}"


def test_healthcheck_finds_the_service_from_its_command(healthcheck: ModuleType) -> None:
    for service in PROCESSES:
        argv = ["python", "-m", f"services.{service}"]
        assert healthcheck.service_from_cmdline(argv) == service
        assert healthcheck.service_from_cmdline(["/opt/venv/bin/python", *argv[1:]]) == service
    assert healthcheck.service_from_cmdline(["python", "-m", "services.nope"]) is None
    assert healthcheck.service_from_cmdline(["nats-server", "-js"]) is None
    assert set(healthcheck.SERVICES) == {*SERVICES, CONSOLE}


@pytest.mark.parametrize("service", PROCESSES)
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
