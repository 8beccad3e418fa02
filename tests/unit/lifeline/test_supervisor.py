"""The supervisor's restart rules: services back off while they crash, nats-server gives up."""

from __future__ import annotations

from lifeline.supervisor import Backoff, NatsRestarts


def test_a_crash_loop_backs_off_to_the_cap_and_a_healthy_run_resets_it() -> None:
    backoff = Backoff(first_s=0.5, max_s=4.0, healthy_after_s=60.0)
    assert [backoff.delay("alerts", ran_for_s=1.0) for _ in range(6)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
        4.0,
    ]
    assert backoff.delay("intake", ran_for_s=1.0) == 0.5  # each service on its own
    assert backoff.delay("alerts", ran_for_s=61.0) == 0.5  # it had run well: a fresh crash


def test_nats_server_is_given_up_after_too_many_exits_in_the_window() -> None:
    restarts = NatsRestarts(limit=3, window_s=60.0)
    assert [restarts.allow() for _ in range(4)] == [True, True, True, False]
