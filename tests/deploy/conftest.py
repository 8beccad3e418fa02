"""Fixtures of the deploy/ checks: the parsed compose and Kubernetes files, the apps' routes.

No container engine runs here, so these tests are what keeps deploy/ honest: the same three
services, the settings' default ports, environment names that are real settings fields, health
routes that exist in the apps, R3 streams, a 3-node JetStream cluster, a hash-pinned image build
and no secrets in the files.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest

from tests.support.deploy import (
    APPS,
    DEPLOY,
    SETTINGS,
    load_compose,
    load_k8s,
)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """deploy/compose.yaml, parsed."""
    return load_compose()


@pytest.fixture(scope="session")
def k8s() -> list[dict[str, Any]]:
    """deploy/k8s/*.yaml, parsed."""
    return load_k8s()


@pytest.fixture(scope="session")
def app_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The routes of each app; building an app connects nothing (that happens in the lifespan)."""
    paths = {}
    for service, create_app in APPS.items():
        settings = SETTINGS[service](data_dir=tmp_path_factory.mktemp(service))
        paths[service] = set(create_app(settings).openapi()["paths"])
    return paths


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    """deploy/healthcheck.py, imported as a module."""
    spec = importlib.util.spec_from_file_location("deploy_healthcheck", DEPLOY / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
