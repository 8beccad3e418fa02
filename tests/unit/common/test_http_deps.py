"""httpx's transport finds the async-library probe it imports on every request."""

from __future__ import annotations

import asyncio
import builtins
from typing import Any

import httpcore._synchronization as sync
import pytest


def test_httpcore_imports_sniffio_once_and_for_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without sniffio, httpcore retries a failing `import sniffio` on every request."""
    failed: list[str] = []
    real_import = builtins.__import__

    def spying(name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return real_import(name, *args, **kwargs)
        except ImportError:
            failed.append(name)
            raise

    monkeypatch.setattr(builtins, "__import__", spying)

    async def probe() -> str:
        return sync.current_async_library()

    assert asyncio.run(probe()) == "asyncio"
    assert "sniffio" not in failed
