"""Benchmark: how long the UI thread is busy when the filter box changes over fleet:10000 (JSON).

Loads the main window offscreen on `fleet:10000`, then applies a series of filter texts the way
the debounced filter box does (proxy filter, expand all, paint) and times each one: that time
is one event-loop stall. The series mixes needles matching most devices, a few, none, and
clearing the filter with everything expanded.
Before the proxy re-mapped in one pass (`invalidate()`) with remembered matches, one keystroke
cost 0.4-25 s here. Run: QT_QPA_PLATFORM=offscreen python tests/benchmarks/tree_filter.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from impdesk.emulator import EmulatorServer
from impdesk.gui import dialogs
from impdesk.gui.identity import ConnectionInfo, DemoAccount
from impdesk.gui.main_window import MainWindow

NEEDLES = ["a", "ab", "abc", "imp006", "", "zzzz", "", "product 3", ""]
TARGET_MS = 500  # one keystroke (after the 200 ms debounce) should not freeze longer


async def measure(devices: int) -> dict:
    with EmulatorServer(seed="fleet", devices=devices, rate_limit=0, simulation=False) as srv:
        info = ConnectionInfo(endpoint=srv.base_url, demo=True, control_url=srv.control_url,
                              accounts=(DemoAccount("demo", "demo@example.com", "impdesk-demo"),))
        with tempfile.TemporaryDirectory() as tmp:
            settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat)
            dialogs.HEADLESS_ANSWERS = {}
            window = MainWindow(info, settings=settings)
            window.show()
            await window.start()
            await asyncio.sleep(0.5)  # the loaded tree settles (counts, deployment names)
            app = QApplication.instance()
            runs = []
            for needle in NEEDLES:
                started = time.perf_counter()
                window.filter.setText(needle)
                window._apply_filter()
                app.processEvents()  # layout and paint belong to the stall
                ms = (time.perf_counter() - started) * 1000
                runs.append({"filter": needle, "ms": round(ms, 1),
                             "top_rows": window.proxy.rowCount()})
            window.close()
    worst = max(r["ms"] for r in runs)
    return {"devices": devices, "runs": runs, "max_ms": worst, "target_max_ms": TARGET_MS,
            "ok": worst <= TARGET_MS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(measure(args.devices))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
