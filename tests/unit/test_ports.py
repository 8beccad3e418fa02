"""The tests' port picker never hands out one port twice (services bind theirs later)."""

from __future__ import annotations

from tests.support.natsd import free_port


def test_ports_handed_out_are_never_repeated() -> None:
    # 3,000 draws from ~14,000 ports: without the memory, hundreds of repeats (birthday bound).
    ports = [free_port() for _ in range(3000)]
    assert len(set(ports)) == len(ports)
