"""The emulator's adjustable clock and its timestamp format (§1.7, §8.8)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Emulator time = real time at start + real elapsed × speed + offset; never goes back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._real0 = time.time()
            self._emu0 = self._real0
            self.speed = 1.0
            self.offset_s = 0.0
            self.changed.notify_all()

    def now(self) -> float:
        """Current emulator time as Unix seconds, in whole milliseconds.

        Timestamps are written with three fractional digits (§1.7); keeping the clock at that
        resolution makes "created_at, then id" orderings agree with what clients see.
        """
        return round(self._emu0 + (time.time() - self._real0) * self.speed, 3)

    def advance(self, seconds: float = 0.0, speed: float | None = None) -> None:
        """Move forward by `seconds` and/or change the speed, keeping time continuous."""
        with self._lock:
            real = time.time()
            current = self._emu0 + (real - self._real0) * self.speed
            self._real0, self._emu0 = real, current + max(0.0, seconds)
            self.offset_s += max(0.0, seconds)
            if speed is not None:
                self.speed = float(speed)
            self.changed.notify_all()

    def real_delay(self, emu_seconds: float) -> float:
        """How many real seconds `emu_seconds` of emulator time take at the current speed."""
        return emu_seconds / self.speed if self.speed > 0 else float("inf")


def iso(ts: float | None) -> str | None:
    """ISO-8601 UTC with exactly three fractional digits and Z (§1.7)."""
    if ts is None:
        return None
    ms = round(ts * 1000)
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"
