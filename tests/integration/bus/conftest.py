"""A secured bus per test (its own CA and nats-server; cheap: one EC key per party), and a
3-node cluster from a production bundle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bus import (
    DeployCluster,
    SecuredBus,
    start_deploy_cluster,
    start_secured_bus,
    wait_for,
)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SecuredBus]:
    """A nats-server configured as `lifeline up` configures it."""
    secured = start_secured_bus(tmp_path)
    try:
        yield secured
    finally:
        secured.server.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[DeployCluster]:
    """Three nodes from a fresh bundle, JetStream ready on each."""
    started = start_deploy_cluster(tmp_path)
    try:
        wait_for(lambda: all(started.ready(i) for i in range(3)), "the cluster never formed")
        yield started
    finally:
        started.stop()
