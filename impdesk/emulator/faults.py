"""Rate limiting (§6) and fault injection (§8.7) applied in front of every /v5 request."""

from __future__ import annotations

import math
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

FAULT_DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "latency_jitter_ms": 0,
    "latency_path": None,
    "error_rate": 0.0,
    "error_statuses": [503],
    "error_path": None,
    "rate_limited_for_s": 0,
    "retry_after_s": 1,
    # impdesk additions (not in the contract's table): list quirks seen in the wild (§7.1 #3-7)
    "pagination_quirks": [],
    # compiler warnings a real service may return on success (§3.5.2, §7.1 #47):
    # [{"file": "agent_code" | "device_code", "row": 1, "column": 1, "text": "..."}]
    "compile_warnings": [],
}
CODE_FILES = ("agent_code", "device_code")
PAGINATION_QUIRKS = ("next_on_last", "duplicates", "no_last", "relative_links")
FAIL_STATUSES = (401, 429, 500, 502, 503, 504, "drop")


@dataclass
class RateDecision:
    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """Fixed 1-window-per-key counters on the real clock (§6)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()

    def check(self, key: str, limit: int, window_s: float) -> RateDecision | None:
        """Count one request for `key`; None when limiting is off."""
        if limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= window_s:
                start, count = now, 0
            reset = max(1, math.ceil(start + window_s - now))
            if count >= limit:
                self._windows[key] = (start, count)
                return RateDecision(False, _headers(limit, 0, reset) | {"Retry-After": str(reset)})
            count += 1
            self._windows[key] = (start, count)
            if len(self._windows) > 10000:  # forget long-closed windows
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_s}
            return RateDecision(True, _headers(limit, limit - count, reset))


def _headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


def _check_warnings(warnings: Any) -> None:
    problem = "'compile_warnings' must be a list of {file, row, column, text}"
    if not isinstance(warnings, list):
        raise ValueError(problem)
    for item in warnings:
        if not isinstance(item, dict) or item.get("file") not in CODE_FILES \
                or not isinstance(item.get("text"), str) or any(
                    not isinstance(item.get(k), int) or isinstance(item.get(k), bool)
                    or item[k] < 1 for k in ("row", "column")):
            raise ValueError(problem + " (file: agent_code or device_code; row, column ≥ 1)")


class Faults:
    """Standing faults plus the queue of fail_next rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rng = random.Random()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.standing: dict[str, Any] = dict(FAULT_DEFAULTS)
            self.rate_limited_until = 0.0
            self.rules: list[dict[str, Any]] = []

    def replace(self, values: dict[str, Any]) -> dict[str, Any]:
        """PUT semantics: absent keys take their defaults; raises ValueError on bad input."""
        new = dict(FAULT_DEFAULTS)
        for key, value in values.items():
            if key not in FAULT_DEFAULTS:
                raise ValueError(f"unknown fault '{key}'")
            new[key] = value
        for key in ("latency_ms", "latency_jitter_ms", "rate_limited_for_s", "retry_after_s"):
            if not isinstance(new[key], int | float) or isinstance(new[key], bool) or new[key] < 0:
                raise ValueError(f"'{key}' must be a number of at least 0")
        if not isinstance(new["error_rate"], int | float) or not 0 <= new["error_rate"] <= 1:
            raise ValueError("'error_rate' must be between 0 and 1")
        statuses = new["error_statuses"]
        if not isinstance(statuses, list) or not statuses or any(
                s not in (500, 502, 503, 504) for s in statuses):
            raise ValueError("'error_statuses' must be a non-empty list of 500, 502, 503, 504")
        quirks = new["pagination_quirks"]
        if not isinstance(quirks, list) or any(q not in PAGINATION_QUIRKS for q in quirks):
            allowed = ", ".join(PAGINATION_QUIRKS)
            raise ValueError(f"'pagination_quirks' must be a list of: {allowed}")
        _check_warnings(new["compile_warnings"])
        for key in ("latency_path", "error_path"):
            if new[key] is not None:
                try:
                    re.compile(new[key])
                except (re.error, TypeError):
                    raise ValueError(f"'{key}' must be a regular expression") from None
        with self._lock:
            self.standing = new
            self.rate_limited_until = time.monotonic() + float(new["rate_limited_for_s"])
        return self.read()

    def read(self) -> dict[str, Any]:
        with self._lock:
            out = dict(self.standing)
            left = self.rate_limited_until - time.monotonic()
            out["rate_limited_for_s"] = max(0, math.ceil(left))
            return out

    def queue(self, rule: dict[str, Any]) -> int:
        count = rule.get("count", 1)
        status = rule.get("status", 503)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("'count' must be a whole number of at least 1")
        if status not in FAIL_STATUSES:
            raise ValueError("'status' must be 401, 429, 500, 502, 503, 504 or \"drop\"")
        for key in ("method", "path"):
            if rule.get(key) is not None and not isinstance(rule[key], str):
                raise ValueError(f"'{key}' must be a string or null")
        if rule.get("path") is not None:
            try:
                re.compile(rule["path"])
            except re.error:
                raise ValueError("'path' must be a regular expression") from None
        entry = {
            "remaining": count,
            "status": status,
            "method": (rule.get("method") or None),
            "path": rule.get("path"),
            "after_processing": bool(rule.get("after_processing", False)),
            "retry_after_s": rule.get("retry_after_s"),
        }
        with self._lock:
            self.rules.append(entry)
        return count

    def latency_s(self, path: str) -> float:
        s = self.standing
        if not s["latency_ms"] and not s["latency_jitter_ms"]:
            return 0.0
        if s["latency_path"] and not re.search(s["latency_path"], path):
            return 0.0
        return (s["latency_ms"] + self.rng.uniform(0, s["latency_jitter_ms"])) / 1000.0

    def forced_429(self) -> int | None:
        """Retry-After seconds while `rate_limited_for_s` is in force."""
        if time.monotonic() < self.rate_limited_until:
            return int(self.standing["retry_after_s"])
        return None

    def random_error(self, path: str) -> int | None:
        s = self.standing
        if s["error_rate"] <= 0 or (s["error_path"] and not re.search(s["error_path"], path)):
            return None
        if self.rng.random() < s["error_rate"]:
            return self.rng.choice(s["error_statuses"])
        return None

    def take_rule(self, method: str, path: str, after_processing: bool,
                  query: str = "") -> dict | None:
        """Consume the first queued rule matching this request and phase.

        A rule's `path` regex is searched in the path, and also in `path?query` (decoded), so a
        rule can aim at one page of a list.
        """
        with self._lock:
            for rule in self.rules:
                if rule["method"] and rule["method"].upper() != method:
                    continue
                if rule["path"] and not (re.search(rule["path"], path) or (
                        query and re.search(rule["path"], f"{path}?{query}"))):
                    continue
                if rule["after_processing"] != after_processing:
                    continue
                rule["remaining"] -= 1
                if rule["remaining"] <= 0:
                    self.rules.remove(rule)
                return rule
        return None
