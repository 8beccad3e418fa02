"""The tests' port picker never hands out one port twice (services bind theirs later)."""

from __future__ import annotations

import pytest

from tests.support import natsd
from tests.support.natsd import free_port


def test_ports_handed_out_are_never_repeated() -> None:
    # 3,000 draws from ~14,000 ports: without the memory, hundreds of repeats (birthday bound).
    ports = [free_port() for _ in range(3000)]
    assert len(set(ports)) == len(ports)


def test_parallel_workers_pick_from_blocks_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = []
    for worker in ("gw0", "gw1", "gw2", "gw3"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        block = natsd._worker_block()
        assert block is not None and block.stop <= 32768  # below the kernel's ephemeral ports
        blocks.append(set(block))
    assert all(a.isdisjoint(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setattr(natsd, "_HANDED_OUT", set())
    assert free_port() in blocks[1]
