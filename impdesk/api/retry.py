"""When and how long to wait before repeating a request: a small policy with no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


@dataclass
class RetryPolicy:
    """Capped, jittered exponential back-off for idempotent requests; 429s for any method."""

    attempts: int = 3  # retries after the first try
    base_s: float = 0.5
    cap_s: float = 8.0
    rate_limit_attempts: int = 6
    rng: random.Random = field(default_factory=random.Random)

    def should_retry(self, method: str, status: int | None, attempt: int,
                     connect_error: bool = False, sent: bool = True) -> bool:
        """May the request be sent again? `attempt` counts retries already made."""
        if status == 429:
            # A 429 was not processed, so repeating is safe whatever the method (§6).
            return attempt < self.rate_limit_attempts
        if attempt >= self.attempts:
            return False
        if connect_error and not sent:
            return True  # never reached the server
        if method.upper() not in IDEMPOTENT:
            return False
        return connect_error or status in RETRY_STATUSES

    def backoff(self, attempt: int) -> float:
        """Jittered delay in [d/2, d] where d doubles per attempt up to the cap."""
        d = min(self.cap_s, self.base_s * (2 ** attempt))
        return self.rng.uniform(d / 2, d)


def retry_after_seconds(headers: dict[str, str] | None) -> float:
    """Wait demanded by a 429: Retry-After, else X-RateLimit-Reset, else 1 s; capped (§6)."""
    headers = headers or {}
    for name in ("Retry-After", "X-RateLimit-Reset"):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if value > 1e9:  # an epoch time
            import time

            value = value - time.time()
        return min(MAX_RETRY_AFTER_S, max(0.0, value))
    return 1.0
