"""Benchmark: the longest event-loop stall of everyday tree actions on fleet:10000 (JSON out).

Loads the main window offscreen on `fleet:10000` (emulator in this process, no rate limit),
then, with a 5 ms QTimer recording the gaps between its ticks (the longest gap is the longest
time the window could not answer), runs: a series of filter texts as the debounced filter box
applies them, expanding everything, selecting all rows, sorting by two columns, a status
refresh after 3,000 devices changed, moving a whole group's devices (~200) to another group,
and moving every other device back (scattered rows).
Before the fixes in this change (devices flagged ItemNeverHasChildren, so the sorting proxy
keeps no mapping per device; remembered filter matches; moved devices taken out and put back
in runs of rows; pending marks that do not re-sort; changed rows announced per parent without
the name column; the selection read once per change): a keystroke stalled 0.4-25 s, select
all 7.4 s, a 196-device move 2.2-4.5 s and that refresh about 1 s.
Run: QT_QPA_PLATFORM=offscreen python tests/benchmarks/tree_ops.py [--devices N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync
import requests
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from impdesk.core.tree import GROUP
from impdesk.emulator import EmulatorServer
from impdesk.gui import dialogs
from impdesk.gui.identity import ConnectionInfo, DemoAccount
from impdesk.gui.main_window import MainWindow
from impdesk.gui.tree_model import Column
from tests.benchmarks.gui_load_stall import StallMeter

FILTERS = ["a", "ab", "abc", "imp006", "", "zzzz", "", "product 3", ""]
CHANGED = 3000  # devices whose state changes before the timed status refresh
TARGET_MS = 500  # one deliberate action (a keystroke after the debounce, a click, a drop)


async def stall_of(action: Callable[[], Any], meter: StallMeter) -> dict:
    meter.gaps.clear()
    meter.start()
    started = time.perf_counter()
    result = action()
    if asyncio.iscoroutine(result):
        await result
    QApplication.processEvents()  # the layout and paint it caused belong to it
    await asyncio.sleep(0.05)
    meter.stop()
    return {"total_ms": round((time.perf_counter() - started) * 1000, 1),
            "max_stall_ms": round(max(meter.gaps, default=0.0), 1)}


async def measure(devices: int) -> dict:
    out: dict[str, Any] = {"devices": devices}
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
            meter = StallMeter()

            def filter_to(text: str) -> Callable[[], None]:
                def apply() -> None:
                    window.filter.setText(text)
                    window._apply_filter()
                return apply

            out["filter"] = [{"text": t, **await stall_of(filter_to(t), meter)} for t in FILTERS]
            view = window.view
            # the worst case for what follows: every group open, all 10,000 rows laid out
            out["expand_all"] = await stall_of(view.expandAll, meter)
            out["select_all"] = await stall_of(view.selectAll, meter)
            out["clear_selection"] = await stall_of(view.clearSelection, meter)
            out["sort"] = [
                {"column": column.name, **await stall_of(
                    lambda c=column: view.sortByColumn(c, Qt.SortOrder.AscendingOrder), meter)}
                for column in (Column.STATE, Column.NAME)]
            # a status refresh after 3,000 devices changed signal and online state
            rng = random.Random(1)
            http = requests.Session()
            for device in rng.sample(list(window.service.snapshot.devices), CHANGED):
                http.post(f"{srv.control_url}/devices/{device.id}/state", timeout=30, json={
                    "rssi": rng.randint(-90, -40), "online": rng.random() < 0.7})
            out["refresh_changed"] = {"devices": CHANGED, **await stall_of(
                lambda: window.refresh(quiet=True), meter)}
            groups = [n for n in window.model.nodes.values() if n.kind == GROUP and n.children]
            source = groups[0]
            target = next(g for g in groups[1:] if g.payload.type == source.payload.type)
            whole = [c.id for c in source.children]
            out["move_whole_group"] = {"devices": len(whole), **await stall_of(
                lambda: window.move_devices(whole, target.id), meter)}
            back = [c.id for c in target.children][::2]
            out["move_scattered"] = {"devices": len(back), **await stall_of(
                lambda: window.move_devices(back, source.id), meter)}
            window.close()
    stalls = [r["max_stall_ms"] for r in [*out["filter"], out["expand_all"], out["select_all"],
                                          out["clear_selection"], *out["sort"]]]
    stalls += [out[k]["max_stall_ms"] for k in ("refresh_changed", "move_whole_group",
                                                "move_scattered")]
    out["max_stall_ms"] = max(stalls)
    out["target_max_stall_ms"] = TARGET_MS
    out["ok"] = out["max_stall_ms"] <= TARGET_MS
    return out


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
