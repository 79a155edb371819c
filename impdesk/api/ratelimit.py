"""A client-side limiter that runs at the server's rate limit without crossing it (§6)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

DEFAULT_LIMIT = 40
DEFAULT_WINDOW_S = 1.0
# Clock granularity and rounding on either side; no latency assumption is needed (see below).
EDGE_MARGIN_S = 0.01
# A request still unanswered after this long is assumed to have reached the server by then, so
# one slow call (a deployment being compiled) does not hold up everything behind it.
MAX_SEND_S = 3.0
POLL_S = 0.005  # how often to look again while waiting for an answer
# Part of the round trip spent before the server's check may be taken off the wait: half the
# fastest round trip seen, at most this share of a window (a small, bounded bet; a 429 that
# still happens is waited out like any other).
RTT_ALLOWANCE_SHARE = 0.1


class _Slot:
    __slots__ = ("acquired", "done")

    def __init__(self, acquired: float) -> None:
        self.acquired = acquired
        self.done: float | None = None


class RateLimiter:
    """Keeps any server window (opened by an arrival, §6) at or below `limit` of our requests.

    A request may be sent only when the request `limit` places before it was answered at least
    `window_s` ago (less half the fastest round trip seen: ours needs about that long to reach
    the server's check). That request arrived before its answer and ours arrives after we send
    it, so whatever moment the server's window opened, it never holds more than `limit` of ours.
    Thread-safe. `acquire()` returns a ticket for `release()`, which also adopts the server's
    `X-RateLimit-Limit`.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT, window_s: float = DEFAULT_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 max_send_s: float = MAX_SEND_S) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.limit = limit
        self.window_s = window_s
        self.max_send_s = max_send_s
        self._slots: deque[_Slot] = deque()  # our latest requests, oldest first
        self._recent: deque[float] = deque()  # send times of the last window_s + 0.5 s
        self._tickets: dict[int, _Slot] = {}
        self._next_ticket = 0
        self._horizon = float("-inf")  # latest answer among requests `limit` or more places back
        self._blocked_until = 0.0
        self._min_rtt = float("inf")
        self.waited_s = 0.0  # total time spent waiting, for benchmarks

    def acquire(self) -> int:
        """Wait until a request may be sent, then count it; returns the ticket for release()."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait(now)
                if wait <= 0:
                    slot = _Slot(now)
                    self._slots.append(slot)
                    self._recent.append(now)
                    self._next_ticket += 1
                    self._tickets[self._next_ticket] = slot
                    return self._next_ticket
            self.waited_s += wait
            self._sleep(wait)

    def _wait(self, now: float) -> float:
        """Seconds to wait before one more request may go out (≤ 0: now)."""
        blocked = self._blocked_until - now
        if self.limit <= 0:
            return blocked
        while len(self._slots) >= self.limit:
            front = self._slots[0]
            bound = front.done
            if bound is None:
                if now < front.acquired + self.max_send_s:
                    return max(blocked, min(POLL_S, front.acquired + self.max_send_s - now))
                bound = front.acquired + self.max_send_s
            self._horizon = max(self._horizon, bound)
            self._slots.popleft()
        allowance = 0.0
        if self._min_rtt != float("inf"):
            # Our request reaches the server's check at least about half a round trip after we
            # send it, and the old one was checked before its answer came back.
            allowance = min(self._min_rtt / 2, self.window_s * RTT_ALLOWANCE_SHARE)
        return max(blocked, self._horizon + self.window_s + EDGE_MARGIN_S - allowance - now)

    def release(self, headers: Mapping[str, str] | None, ticket: int | None = None) -> None:
        """Mark a request answered (or failed) and adopt the server's limit when it sends one."""
        with self._lock:
            slot = self._tickets.pop(ticket, None) if ticket is not None else None
            if slot is None and ticket is None:  # no ticket: the oldest unanswered request
                slot = next((s for s in self._slots if s.done is None), None)
                if slot is not None:
                    self._tickets = {k: v for k, v in self._tickets.items() if v is not slot}
            if slot is not None and slot.done is None:
                slot.done = self._clock()
                self._min_rtt = min(self._min_rtt, slot.done - slot.acquired)
            if not headers:
                return
            limit = _int(headers.get("X-RateLimit-Limit"))
            if limit is not None and limit > 0:
                self.limit = limit
            remaining = _int(headers.get("X-RateLimit-Remaining"))
            reset = _int(headers.get("X-RateLimit-Reset"))
            if limit and remaining == 0 and reset:
                # Someone else spends this budget too when the server counts more of our
                # requests than we sent lately: then wait for its window to end.
                now = self._clock()
                while self._recent and self._recent[0] < now - self.window_s - 0.5:
                    self._recent.popleft()
                if len(self._recent) < limit:
                    self._blocked_until = max(self._blocked_until, now + reset)

    def block_for(self, seconds: float) -> None:
        """After a 429: send nothing until `seconds` from now."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
