"""Benchmark: the longest event-loop stall while the main window loads fleet:10000 (JSON out).

Starts the emulator with 10,000 devices at 100 ms latency and 40 requests/s, builds the main
window offscreen and runs its initial progressive load under qasync, while a QTimer ticking
every 5 ms records the gaps between its ticks: the longest gap is the longest time the event
loop could not answer the user. Target (issue 4): no stall over 50 ms.
Run: QT_QPA_PLATFORM=offscreen python tests/benchmarks/gui_load_stall.py [--devices N] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QSettings, QTimer  # noqa: E402  (PySide6 before qasync)
from PySide6.QtWidgets import QApplication  # noqa: E402
import qasync  # noqa: E402

from impdesk.core.tree import DEVICE  # noqa: E402
from impdesk.emulator import EmulatorServer  # noqa: E402
from impdesk.gui import dialogs  # noqa: E402
from impdesk.gui.identity import ConnectionInfo, DemoAccount  # noqa: E402
from impdesk.gui.main_window import MainWindow  # noqa: E402

TICK_MS = 5
TARGET_MS = 50
RATE_LIMIT = 40
LATENCY_MS = 100


class StallMeter:
    """Records the gaps between the ticks of a fast QTimer (gap − tick = a stall)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000.0)
        self._last = now


async def load(window: MainWindow, meter: StallMeter) -> float:
    meter.start()
    started = time.perf_counter()
    await window.start()
    while len(window.tasks):  # feature tasks the load started (deployment names, ...)
        await asyncio.gather(*list(window.tasks._tasks), return_exceptions=True)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.05)  # a few idle ticks after the end
    meter.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true",
                        help="print the 25 most expensive functions on the UI thread")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    dialogs.HEADLESS_ANSWERS = {}
    with EmulatorServer(seed="fleet", devices=args.devices, rate_limit=RATE_LIMIT,
                        latency_ms=LATENCY_MS, simulation=False) as server, \
            tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "impdesk.ini"), QSettings.Format.IniFormat)
        info = ConnectionInfo(endpoint=server.base_url, demo=True,
                              control_url=server.control_url,
                              accounts=(DemoAccount("demo", "demo@example.com",
                                                    "impdesk-demo"),))
        loop = qasync.QEventLoop(app, already_running=False)
        asyncio.set_event_loop(loop)
        window = MainWindow(info, settings=settings)
        window.show()
        meter = StallMeter()
        time.sleep(1.1)  # start with a fresh rate-limit window
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        load_s = loop.run_until_complete(load(window, meter))
        if profiler:
            profiler.disable()
        devices = sum(1 for k in window.model.nodes if k[0] == DEVICE)
        window.close()
        loop.close()

    gaps = sorted(meter.gaps)
    stalls = [g - TICK_MS for g in gaps]
    p99 = stalls[min(len(stalls) - 1, int(len(stalls) * 0.99))] if stalls else 0.0
    print(json.dumps({
        "devices": devices,
        "load_s": round(load_s, 3),
        "max_stall_ms": round(max(stalls, default=0.0), 1),
        "p99_stall_ms": round(p99, 1),
        "stalls_over_50ms": sum(1 for s in stalls if s > TARGET_MS),
        "ticks": len(gaps),
        "target_max_stall_ms": TARGET_MS,
    }))
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
