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
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from impdesk.core.tree import DEVICE
from impdesk.emulator import EmulatorServer
from impdesk.gui import dialogs
from impdesk.gui.identity import ConnectionInfo, DemoAccount
from impdesk.gui.main_window import MainWindow

TICK_MS = 5
TARGET_MS = 50
RATE_LIMIT = 40
LATENCY_MS = 100


def serve(devices: int, urls, stop) -> None:
    """Child process: the emulator, so its request handling does not share our GIL."""
    with EmulatorServer(seed="fleet", devices=devices, rate_limit=RATE_LIMIT,
                        latency_ms=LATENCY_MS, simulation=False) as server:
        urls.put((server.base_url, server.control_url))
        stop.wait()


class Emulator:
    """An EmulatorServer in this process or (default) in a child process."""

    def __init__(self, devices: int, in_process: bool) -> None:
        self.devices, self.in_process = devices, in_process

    def __enter__(self) -> tuple[str, str]:
        if self.in_process:
            self.server = EmulatorServer(seed="fleet", devices=self.devices,
                                         rate_limit=RATE_LIMIT, latency_ms=LATENCY_MS,
                                         simulation=False).start()
            return self.server.base_url, self.server.control_url
        ctx = multiprocessing.get_context("spawn")
        urls, self.stop = ctx.Queue(), ctx.Event()
        self.child = ctx.Process(target=serve, args=(self.devices, urls, self.stop),
                                 daemon=True)
        self.child.start()
        return urls.get(timeout=120)

    def __exit__(self, *exc: object) -> None:
        if self.in_process:
            self.server.stop()
        else:
            self.stop.set()
            self.child.join(timeout=10)


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


def trace_steps(window: MainWindow) -> dict[str, list[float]]:
    """Wrap the UI-thread steps of a load to time each call (for finding stalls)."""
    times: dict[str, list[float]] = {}
    steps = [(window.model, "add_devices"), (window.model, "apply"), (window.model, "reset_to"),
             (window, "_expand_initial"), (window, "_select_first_device"),
             (window, "_on_progress"), (window, "_on_structure"), (window, "_on_selection"),
             (window, "_update_actions"), (window.progress, "setValue"),
             (window.progress, "setRange"), (window.progress, "setFormat"),
             (window.statusBar(), "showMessage"), (window.view, "resizeColumnToContents"),
             (window.view, "expand"), (window.view, "setCurrentIndex"),
             (window.view, "scrollTo")]
    for obj, name in steps:
        original = getattr(obj, name)

        def timed(*a, _f=original, _n=name, **kw):
            started = time.perf_counter()
            try:
                return _f(*a, **kw)
            finally:
                times.setdefault(_n, []).append((time.perf_counter() - started) * 1000.0)

        setattr(obj, name, timed)
    return times


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
    parser.add_argument("--in-process", action="store_true",
                        help="run the emulator in this process (its threads then compete "
                             "with the UI thread for the GIL, as in --demo)")
    parser.add_argument("--trace", action="store_true",
                        help="time the UI-thread steps of the load (calls, total, longest)")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    dialogs.HEADLESS_ANSWERS = {}
    with Emulator(args.devices, args.in_process) as (base_url, control_url), \
            tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "impdesk.ini"), QSettings.Format.IniFormat)
        info = ConnectionInfo(endpoint=base_url, demo=True, control_url=control_url,
                              accounts=(DemoAccount("demo", "demo@example.com",
                                                    "impdesk-demo"),))
        loop = qasync.QEventLoop(app, already_running=False)
        asyncio.set_event_loop(loop)
        window = MainWindow(info, settings=settings)
        window.show()
        traced = trace_steps(window) if args.trace else {}
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
        "emulator": "in-process" if args.in_process else "child process",
        "target_max_stall_ms": TARGET_MS,
    }))
    for name, times in sorted(traced.items(), key=lambda kv: -max(kv[1], default=0)):
        print(f"{name:32s} calls={len(times):5d} total={sum(times):8.1f} ms "
              f"max={max(times, default=0):7.1f} ms", file=sys.stderr)
    if profiler:
        order = os.environ.get("SORT", "cumulative")  # e.g. SORT=tottime
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(25)


if __name__ == "__main__":
    main()
