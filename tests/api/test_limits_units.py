"""RateLimiter and RetryPolicy with a fake clock and a seeded rng (§6, §4.5)."""

from __future__ import annotations

import random

import pytest

from impdesk.api.ratelimit import RateLimiter
from impdesk.api.retry import MAX_RETRY_AFTER_S, RetryPolicy, retry_after_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(clock: FakeClock, limit: int = 3, **kw) -> RateLimiter:
    return RateLimiter(limit=limit, window_s=1.0, clock=clock, sleep=clock.sleep, **kw)


def send(lim: RateLimiter, clock: FakeClock, latency: float = 0.0, headers=None) -> float:
    """Acquire, 'send', get the answer `latency` later; returns the send time."""
    ticket = lim.acquire()
    sent = clock.now
    clock.now += latency
    lim.release(headers, ticket)
    return sent


def test_within_budget_no_wait(clock):
    lim = limiter(clock)
    for _ in range(3):
        send(lim, clock)
    assert clock.sleeps == []


def test_next_request_waits_a_window_after_the_answer_limit_places_back(clock):
    lim = limiter(clock)
    times = [send(lim, clock, latency=0.2) for _ in range(7)]
    # request k may go only a window after request k-3 was answered, less half the fastest
    # round trip (it needs that long to reach the server's check), capped at 10 % of a window
    allowance = min(0.2 / 2, 0.1)
    for k in range(3, 7):
        assert times[k] >= times[k - 3] + 0.2 + 1.0 - allowance
    # and it does not wait much longer than that
    assert times[3] - (times[0] + 0.2 + 1.0 - allowance) < 0.05
    assert lim.waited_s == pytest.approx(sum(clock.sleeps))


def test_any_server_window_holds_at_most_limit(clock):
    """Simulate a fixed-window server with arrival jitter: never more than `limit` per window."""
    rng = random.Random(1)
    lim = limiter(clock, limit=5)
    arrivals = []
    for _ in range(60):
        ticket = lim.acquire()
        arrival = clock.now + rng.uniform(0, 0.3)  # the request lands somewhere in flight
        clock.now = arrival + rng.uniform(0, 0.3)  # and its answer comes later
        arrivals.append(arrival)
        lim.release(None, ticket)
    arrivals.sort()
    window_start, count = None, 0
    for t in arrivals:
        if window_start is None or t - window_start >= 1.0:
            window_start, count = t, 0
        count += 1
        assert count <= 5


def test_unanswered_request_is_waited_for_up_to_max_send(clock):
    lim = limiter(clock, limit=2, max_send_s=3.0)
    lim.acquire()  # never answered (a slow deployment)
    send(lim, clock)
    start = clock.now
    lim.acquire()
    # waited for the slow one to be assumed arrived (3 s), plus the window
    assert clock.now - start == pytest.approx(3.0 + 1.0 + 0.01, abs=0.02)


def test_adopts_server_limit(clock):
    lim = limiter(clock, limit=40)
    send(lim, clock, headers={"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1",
                              "X-RateLimit-Reset": "1"})
    assert lim.limit == 2
    send(lim, clock)
    start = clock.now
    send(lim, clock)
    assert clock.now - start >= 1.0


def test_ignores_bad_headers(clock):
    lim = limiter(clock, limit=3)
    send(lim, clock, headers={"X-RateLimit-Limit": "lots", "X-RateLimit-Remaining": ""})
    send(lim, clock, headers={"X-RateLimit-Limit": "0"})
    assert lim.limit == 3


def test_remaining_zero_from_shared_budget_waits_for_reset(clock):
    """The server counts more than we sent: another user of the budget. Wait for the reset."""
    lim = limiter(clock, limit=10)
    send(lim, clock, headers={"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
                              "X-RateLimit-Reset": "1"})
    start = clock.now
    send(lim, clock)
    assert clock.now - start == pytest.approx(1.0)


def test_remaining_zero_from_our_own_burst_adds_no_wait(clock):
    lim = limiter(clock, limit=3)
    for left in (2, 1, 0):
        send(lim, clock, headers={"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": str(left),
                                  "X-RateLimit-Reset": "1"})
    start = clock.now
    send(lim, clock)
    assert clock.now - start == pytest.approx(1.01, abs=0.01)


def test_block_for_after_429(clock):
    lim = limiter(clock, limit=100)
    lim.block_for(2.5)
    start = clock.now
    send(lim, clock)
    assert clock.now - start == pytest.approx(2.5)


def test_limit_zero_is_unlimited(clock):
    lim = limiter(clock, limit=0)
    for _ in range(1000):
        send(lim, clock)
    assert clock.sleeps == []


def test_release_without_ticket_marks_oldest(clock):
    lim = limiter(clock, limit=1)
    lim.acquire()
    lim.release(None)
    start = clock.now
    lim.acquire()
    assert clock.now - start == pytest.approx(1.01)


# -- RetryPolicy --------------------------------------------------------------------------
def test_retry_idempotent_on_5xx_only():
    p = RetryPolicy(attempts=3)
    for method in ("GET", "PUT", "DELETE", "get"):
        assert p.should_retry(method, 503, 0)
    assert not p.should_retry("POST", 503, 0)
    assert not p.should_retry("PATCH", 502, 0)
    assert not p.should_retry("GET", 404, 0)
    assert not p.should_retry("GET", 400, 0)
    assert not p.should_retry("GET", 503, 3)


def test_retry_429_any_method_up_to_its_own_budget():
    p = RetryPolicy(attempts=0, rate_limit_attempts=2)
    assert p.should_retry("POST", 429, 0) and p.should_retry("POST", 429, 1)
    assert not p.should_retry("POST", 429, 2)


def test_retry_connection_errors():
    p = RetryPolicy()
    assert p.should_retry("GET", None, 0, connect_error=True, sent=True)
    assert not p.should_retry("POST", None, 0, connect_error=True, sent=True)
    assert p.should_retry("POST", None, 0, connect_error=True, sent=False)  # never left us
    assert not p.should_retry("POST", None, 3, connect_error=True, sent=False)


def test_backoff_jitter_bounds_and_cap():
    p = RetryPolicy(base_s=0.5, cap_s=4.0, rng=random.Random(7))
    for attempt, d in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (8, 4.0)]:
        for _ in range(50):
            assert d / 2 <= p.backoff(attempt) <= d
    a = [RetryPolicy(rng=random.Random(3)).backoff(1) for _ in range(2)]
    assert a[0] == a[1]  # deterministic with a seeded rng


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "3"}, 3.0),
    ({"Retry-After": "0"}, 0.0),
    ({"Retry-After": "-4"}, 0.0),
    ({"Retry-After": "999"}, MAX_RETRY_AFTER_S),
    ({"X-RateLimit-Reset": "2"}, 2.0),
    ({"Retry-After": "soon", "X-RateLimit-Reset": "2"}, 2.0),
    ({"Retry-After": "5", "X-RateLimit-Reset": "2"}, 5.0),
    ({}, 1.0),
    (None, 1.0),
])
def test_retry_after_seconds(headers, expected):
    assert retry_after_seconds(headers) == expected


def test_retry_after_epoch_reset(monkeypatch):
    import time
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    assert retry_after_seconds({"X-RateLimit-Reset": "2000000004"}) == pytest.approx(4.0)
    assert retry_after_seconds({"X-RateLimit-Reset": "2000009999"}) == MAX_RETRY_AFTER_S
