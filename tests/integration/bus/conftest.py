"""A secured bus per test (its own CA and nats-server; cheap: one EC key per party)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bus import SecuredBus, start_secured_bus


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SecuredBus]:
    """A nats-server configured as `lifeline up` configures it."""
    secured = start_secured_bus(tmp_path)
    try:
        yield secured
    finally:
        secured.server.stop()
