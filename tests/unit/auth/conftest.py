"""Fixtures for the auth tests."""

from __future__ import annotations

import pytest

from tests.unit.auth.helpers import Env, make_env


@pytest.fixture
def env() -> Env:
    """A fresh verifier environment per test."""
    return make_env()
