"""Benchmark: an open log view fed 1,000 lines/s — event-loop stalls and UI cost (JSON out).

Two feeds: `direct` (a thread appends to the view's buffer: the pure UI figure) and `emulator`
(POST /_emulator/devices/{id}/logs with rate_per_s, through the real SSE stream and reader; the
emulator runs in its own process, as impCentral would, so its threads do not share our GIL).
The view starts with its ring buffer full (--prefill, default = the 100,000-line cap), so every
drain also trims the head. A 5 ms QTimer probe measures stalls; main-thread CPU time over the
run, minus an idle run of the same length, gives the UI cost per 1,000 lines.
Run: QT_QPA_PLATFORM=offscreen python tests/benchmarks/log_throughput.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from impdesk.api import Client, LogEntry
from impdesk.core.logbuffer import DEFAULT_MAX_LINES, LogLine
from impdesk.core.logsession import LogSession
from impdesk.gui.logs.view import LogView

PROBE_MS = 5
RATE = 1000


class Probe:
    """A 5 ms timer; the gaps between its ticks beyond 5 ms are event-loop stalls."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def stalls(self) -> tuple[float, float]:
        gaps = sorted(g - PROBE_MS for g in self.gaps) or [0.0]
        return round(max(gaps), 1), round(gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))], 1)


def timed_drain(view: LogView, spent: list[float]) -> None:
    original = view.drain

    def drain() -> None:
        started = time.perf_counter()
        original()
        spent[0] += time.perf_counter() - started

    view._drain_timer.timeout.disconnect()
    view._drain_timer.timeout.connect(drain)


def direct_feed(view: LogView, device_id: str, seconds: float, stop: threading.Event) -> None:
    """10 lines every 10 ms from a producer thread, like the reader would."""
    total = int(RATE * seconds)
    started = time.perf_counter()
    for i in range(0, total, 10):
        if stop.is_set():
            return
        for k in range(i, i + 10):
            view.buffer.append(LogLine.of(LogEntry(device_id, _ts(k), "device.log",
                                                f"reading {k}: temp=21.{k % 10} rssi=-61")))
        delay = started + (i + 10) / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def _ts(n: int) -> str:
    return f"2030-01-01T{n // 3_600_000 % 24:02d}:{n // 60_000 % 60:02d}:" \
           f"{n // 1000 % 60:02d}.{n % 1000:03d}Z"


async def measure(view: LogView, probe: Probe, seconds: float, feed, target_rows) -> dict:
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    spent = [0.0]
    timed_drain(view, spent)
    before = view.model.trimmed + len(view.model.rows)
    probe.start()
    feed()
    deadline = time.perf_counter() + seconds + 20
    while view.model.trimmed + len(view.model.rows) - before < target_rows:
        if time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.05)
    probe.stop()
    lines = view.model.trimmed + len(view.model.rows) - before
    return {"lines": lines, "wall_s": round(time.perf_counter() - wall0, 2),
            "cpu_s": time.thread_time() - cpu0, "drain_s": spent[0],
            "stalls": probe.stalls()}


def start_emulator() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "impdesk.emulator", "--port", "0", "--seed", "small",
         "--rate-limit", "0", "--no-simulation"], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    return proc, base_url


async def run(args: argparse.Namespace) -> list[dict]:
    proc, base_url = start_emulator()
    control_url = base_url.rsplit("/v5", 1)[0] + "/_emulator"
    try:
        client = Client(base_url)
        client.login("demo", "impdesk-demo")
        device = client.list_devices()[0]
        session = LogSession(client, name_of=lambda d: device.display_name)
        view = LogView(session, [device.id], session.name_of, max_lines=args.cap)
        view.resize(1200, 700)
        view.show()
        await view.start()
        view.model.append([LogLine.of(LogEntry(device.id, _ts(i), "device.log", f"old {i}"))
                           for i in range(args.prefill)])
        view.table.scrollToBottom()
        probe = Probe()
        results = []
        # idle baseline: the probe and drain timers with nothing to do
        idle_cpu0 = time.thread_time()
        probe.start()
        await asyncio.sleep(args.seconds)
        probe.stop()
        idle_cpu = time.thread_time() - idle_cpu0
        idle_stalls = probe.stalls()
        stop = threading.Event()
        n = int(RATE * args.seconds)
        for mode in ("direct", "emulator"):
            if mode == "direct":
                def feed() -> None:
                    threading.Thread(target=direct_feed, args=(view, device.id, args.seconds,
                                                               stop), daemon=True).start()
            else:
                def feed() -> None:  # the control call on a thread: only the UI is measured
                    threading.Thread(target=client.http.post, daemon=True, args=(
                        f"{control_url}/devices/{device.id}/logs",), kwargs={"json": {
                            "entries": [{"type": "device.log", "msg": "reading: temp=21.5"}],
                            "repeat": n, "rate_per_s": RATE}, "timeout": 30}).start()
            m = await measure(view, probe, args.seconds, feed, n)
            cost = max(0.0, m["cpu_s"] - idle_cpu * m["wall_s"] / args.seconds)
            results.append({
                "feed": mode, "rate_per_s": RATE, "lines": m["lines"], "wall_s": m["wall_s"],
                "rows_in_model": len(view.model.rows), "cap": view.model.max_lines,
                "max_stall_ms": m["stalls"][0], "p99_stall_ms": m["stalls"][1],
                "ui_cpu_ms_per_1000_lines": round(cost * 1000 / max(1, m["lines"]) * 1000, 1),
                "drain_ms_per_1000_lines": round(m["drain_s"] * 1000 / max(1, m["lines"])
                                                 * 1000, 2),
                "target_max_stall_ms": 50, "ok": m["stalls"][0] <= 50})
        results.append({"feed": "idle", "seconds": args.seconds,
                        "main_thread_cpu_ms": round(idle_cpu * 1000, 1),
                        "max_stall_ms": idle_stalls[0], "p99_stall_ms": idle_stalls[1]})
        stop.set()
        view.shutdown()
        session.close()
        return results
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--cap", type=int, default=DEFAULT_MAX_LINES)
    parser.add_argument("--prefill", type=int, default=DEFAULT_MAX_LINES)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        results = loop.run_until_complete(run(args))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
