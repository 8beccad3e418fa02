"""The SDK's retry rules on a fake clock: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from libs.sdk.auth import TokenRequestError
from libs.sdk.retry import Backoff, GaveUp, retry_after

Answer = httpx.Response | Exception


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _backoff(t: FakeTime, jitter: float = 0.5, **kw: float) -> Backoff:
    return Backoff(sleep=t.sleep, clock=t.clock, jitter=lambda: jitter, **kw)


def _script(*answers: Answer) -> tuple[Callable[[], Awaitable[httpx.Response]], list[int]]:
    """A `send` giving these answers in turn, and the count of calls made."""
    calls: list[int] = []

    async def send() -> httpx.Response:
        answer = answers[len(calls)]
        calls.append(1)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return send, calls


def _r(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


async def test_outages_and_rate_limits_are_waited_out_honouring_retry_after() -> None:
    t = FakeTime()
    refused = httpx.ConnectError("refused")
    send, calls = _script(
        _r(503, **{"Retry-After": "7"}), _r(429, **{"Retry-After": "3"}), _r(502), refused, _r(202)
    )
    resp = await _backoff(t, jitter=0.0).request(send)
    assert resp.status_code == 202 and len(calls) == 5
    # The server's wait where it named one, else the back-off of that try (jitter 0: half of
    # 0.5 s doubled per try).
    assert t.slept == [7.0, 3.0, 1.0, 2.0]


def test_back_off_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    t = FakeTime()
    low, high = _backoff(t, jitter=0.0, cap_s=8.0), _backoff(t, jitter=1.0, cap_s=8.0)
    assert [high.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert [low.delay(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert low.delay(10_000) == 4.0  # no overflow however long it ran


async def test_a_401_after_a_fresh_token_is_retried_for_a_bounded_time_only() -> None:
    t = FakeTime()
    send, calls = _script(*[_r(401)] * 100)
    resp = await _backoff(t, unauthenticated_s=10.0).request(send)
    assert resp.status_code == 401  # a service that keeps refusing is answered, not waited on
    assert 10.0 <= t.now < 10.0 + 30.0 and len(calls) > 2

    t2 = FakeTime()
    send, calls = _script(_r(401), _r(401), _r(202))
    assert (await _backoff(t2).request(send)).status_code == 202


async def test_the_budget_ends_in_gave_up_and_never_sleeps_past_it() -> None:
    t = FakeTime()
    send, calls = _script(*[_r(503, **{"Retry-After": "2"})] * 100)
    with pytest.raises(GaveUp) as gave_up:
        await _backoff(t, budget_s=20.0).request(send)
    assert gave_up.value.reason == "HTTP 503"
    assert t.now <= 20.0 and len(calls) >= 5


async def test_a_create_still_running_under_its_key_is_waited_for_but_a_reused_key_is_not() -> None:
    t = FakeTime()
    running = httpx.Response(
        409, headers={"Retry-After": "1"}, json={"code": "idempotency_in_progress"}
    )
    send, calls = _script(running, _r(202))
    assert (await _backoff(t, jitter=0.0).request(send)).status_code == 202
    assert len(calls) == 2 and t.slept == [1.0]
    reused = httpx.Response(409, json={"code": "idempotency_key_reused"})
    send, calls = _script(reused)
    assert (await _backoff(t).request(send)).status_code == 409 and len(calls) == 1


@pytest.mark.parametrize("status", [200, 202, 400, 403, 404, 409, 413, 422])
async def test_final_answers_are_returned_at_once(status: int) -> None:
    t = FakeTime()
    send, calls = _script(_r(status))
    assert (await _backoff(t).request(send)).status_code == status
    assert len(calls) == 1 and t.slept == []


async def test_token_endpoint_trouble_is_retried_only_when_a_retry_can_help() -> None:
    t = FakeTime()
    send, _ = _script(TokenRequestError("down", http_status=503), _r(202))
    assert (await _backoff(t).request(send)).status_code == 202
    send, _ = _script(TokenRequestError("refused", http_status=400, oauth_error="invalid_client"))
    with pytest.raises(TokenRequestError):
        await _backoff(t).request(send)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after(_r(503, **{"Retry-After": "5"})) == 5.0
    assert retry_after(_r(503)) == 0.0
    assert retry_after(_r(503, **{"Retry-After": "soon"})) == 0.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < retry_after(_r(503, **{"Retry-After": later})) <= 30
