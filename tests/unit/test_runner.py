"""A service process's start-up: what `libs.common.runner.serve` does before it serves."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from libs.common import runner
from libs.common.settings import ServiceSettings


def test_start_up_is_frozen_before_the_first_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """By the time uvicorn serves, start-up's objects are out of the collector's sight (a full
    collection would otherwise walk them all, a pause in some request each time), and none of
    its garbage was kept."""
    seen: dict[str, Any] = {}

    def serving(server: uvicorn.Server) -> None:
        seen["frozen"] = gc.get_freeze_count()
        gc.collect()  # what a later full collection finds: nothing frozen with it
        seen["kept"] = seen["garbage"]() is not None

    monkeypatch.setattr(uvicorn.Server, "run", serving)
    monkeypatch.setattr(runner.os, "umask", lambda mask: 0)  # not this test process's
    monkeypatch.setattr(runner, "configure_logging", lambda **kw: None)
    gc.unfreeze()
    try:

        def create_app(settings: ServiceSettings) -> FastAPI:
            node = _Node()
            node.me = node  # start-up garbage, a cycle: collected, not frozen for ever
            seen["garbage"] = weakref.ref(node)
            return FastAPI()

        runner.serve(create_app, ServiceSettings(data_dir=tmp_path))
    finally:
        gc.unfreeze()
    assert seen["frozen"] > 10_000
    assert not seen["kept"]


class _Node:
    me: Any = None
