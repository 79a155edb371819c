"""Child process of tests/test_pyside_stress.py: hammer PySide6 under qasync, print counters.

Run alone: `QT_QPA_PLATFORM=offscreen python tests/pyside_stress_child.py --seconds 3`. Prints one
JSON line and exits 0. A PySide6 build that drops references to True/None exits 3 with a message
(the refcount probe) or aborts with `Fatal Python error: bool_dealloc` (the stress phase).
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import os
import sys
import threading
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"

from PySide6.QtCore import QObject, QTimer, Signal  # noqa: I001 (PySide6 before qasync)
from PySide6.QtWidgets import QApplication, QLabel
import qasync

WORKERS = 4
POSTS_PER_BURST = 50
BURST_PAUSE_S = 0.02  # ~10k wake-ups per second in all: more only queues up
EMITS_PER_ROUND = 500
VOID_ROUNDS = 200
TIMER_EMITS = 20
PROBE_CALLS = 100  # well below the refcount of True (~500), so a leaking build survives it
PROBE_TOLERANCE = 50  # refcount noise; a leaking build drifts by PROBE_CALLS
DRAIN_TIMEOUT_S = 20.0


class Pinger(QObject):
    """Emits on demand.

    Signals:
        pinged(int): the sequence number of the ping.
    """

    pinged = Signal(int)


def refcount_drift(obj: object, call: Callable[[], object]) -> int:
    """How far the refcount of `obj` falls over PROBE_CALLS calls whose result is discarded."""
    before = sys.getrefcount(obj)
    for _ in range(PROBE_CALLS):
        call()
    return before - sys.getrefcount(obj)


async def stress(seconds: float) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    counts = dict.fromkeys(
        ("wakeups_posted", "wakeups_run", "emits", "slot_calls", "timer_ticks", "void_calls"), 0
    )
    pinger = Pinger()
    label = QLabel()
    timer = QTimer()
    timer.setInterval(0)

    def on_pinged(_seq: int) -> None:
        counts["slot_calls"] += 1

    def on_wakeup() -> None:
        counts["wakeups_run"] += 1

    def on_tick() -> None:
        counts["timer_ticks"] += 1
        for seq in range(TIMER_EMITS):
            pinger.pinged.emit(seq)
        counts["emits"] += TIMER_EMITS

    pinger.pinged.connect(on_pinged)
    timer.timeout.connect(on_tick)

    # Deterministic probe first: PySide6 6.12.0 returns True from Signal.emit() and None from
    # void methods without a new reference, so each discarded result steals one.
    true_drift = refcount_drift(True, lambda: pinger.pinged.emit(0))
    none_drift = refcount_drift(None, lambda: label.setText("probe"))
    counts["emits"] += PROBE_CALLS
    counts["void_calls"] += PROBE_CALLS
    if true_drift > PROBE_TOLERANCE or none_drift > PROBE_TOLERANCE:
        print(
            f"refcount drift over {PROBE_CALLS} calls: True {true_drift}, None {none_drift}; "
            "this PySide6 build returns borrowed True/None (see tests/test_pyside_stress.py)",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(3)

    stop = threading.Event()
    posted = [0] * WORKERS

    def worker(index: int) -> None:
        while not stop.is_set():
            for _ in range(POSTS_PER_BURST):
                loop.call_soon_threadsafe(on_wakeup)
            posted[index] += POSTS_PER_BURST
            time.sleep(BURST_PAUSE_S)

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"stress-{i}", daemon=True)
        for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    timer.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for seq in range(EMITS_PER_ROUND):
            pinger.pinged.emit(seq)
        counts["emits"] += EMITS_PER_ROUND
        for _ in range(VOID_ROUNDS):
            label.setText("stress")
            label.setObjectName("stress")
            timer.setInterval(0)
        counts["void_calls"] += 3 * VOID_ROUNDS
        await asyncio.sleep(0)
    stop.set()
    timer.stop()
    for thread in threads:
        thread.join()
    counts["wakeups_posted"] = sum(posted)
    drain_deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while counts["wakeups_run"] < counts["wakeups_posted"] and time.monotonic() < drain_deadline:
        await asyncio.sleep(0.01)
    counts["true_drift"] = true_drift
    counts["none_drift"] = none_drift
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    faulthandler.enable()
    app = QApplication(sys.argv[:1])
    counts = qasync.run(stress(args.seconds))
    print(json.dumps(counts), flush=True)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
