"""A timer thread that runs callbacks at emulator-clock deadlines (restart delays, simulation)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from .clock import Clock

log = logging.getLogger(__name__)


class Scheduler:
    """Runs `fn` once emulator time reaches a deadline; follows clock speed and jumps."""

    def __init__(self, clock: Clock, lock: threading.RLock) -> None:
        self.clock = clock
        self.store_lock = lock
        self._heap: list[tuple[float, int, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._epoch = 0  # bumped by clear(): callbacks of an older epoch are dropped
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="emulator-scheduler", daemon=True)
        self._thread.start()

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Run `fn` (under the store lock) after `delay_s` seconds of emulator time."""
        with self.clock.changed:
            due = self.clock.now() + max(0.0, delay_s)
            heapq.heappush(self._heap, (due, next(self._counter), self._epoch, fn))
            self.clock.changed.notify_all()

    def clear(self) -> None:
        with self.clock.changed:
            self._heap.clear()
            self._epoch += 1
            self.clock.changed.notify_all()

    def stop(self) -> None:
        with self.clock.changed:
            self._stopped = True
            self.clock.changed.notify_all()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self.clock.changed:
                while not self._stopped:
                    if self._heap:
                        wait = self.clock.real_delay(self._heap[0][0] - self.clock.now())
                        if wait <= 0:
                            break
                        self.clock.changed.wait(min(wait, 1.0))
                    else:
                        self.clock.changed.wait(1.0)
                if self._stopped:
                    return
                _, _, epoch, fn = heapq.heappop(self._heap)
                current = self._epoch
            if epoch != current:
                continue
            try:
                with self.store_lock:
                    fn()
            except Exception:  # a bug in one callback must not stop the timer thread
                log.exception("scheduled callback failed")
