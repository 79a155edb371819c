"""Stress PySide6 under qasync in a child process: cross-thread wake-ups, signals, void calls.

Why this exists: the PySide6 6.12.0 wheels return `True` from `Signal.emit()` (and `None` from
void Qt methods) without taking a new reference. On Python ≥ 3.12 those objects are immortal, so
nothing happens; on our Python 3.11 every discarded result steals a reference, True's refcount
reaches zero within seconds, and the interpreter aborts with `Fatal Python error: bool_dealloc`,
with or without threads (measured with qasync 0.27.1, 0.28.0 and master; 6.7.3 to 6.11.3 never
did). That is why pyproject pins `PySide6-Essentials>=6.11.3,<6.12` (guide §2).

The child (tests/pyside_stress_child.py) first probes the refcounts of True and None over a few
thousand calls (exit 3 with a message on drift), then runs for about three seconds: worker
threads call `loop.call_soon_threadsafe` thousands of times, a QObject signal is emitted many
thousands of times from the UI thread and from a 0 ms QTimer, and void Qt methods run in a loop.
It runs in a subprocess with a timeout so that an abort fails this test instead of killing
pytest, and prints its counters so a run that did nothing cannot pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).resolve().parent / "pyside_stress_child.py"
ROOT = CHILD.parent.parent
STRESS_SECONDS = 3
CHILD_TIMEOUT_S = 90


@pytest.mark.slow
@pytest.mark.timeout(CHILD_TIMEOUT_S + 30)
def test_pyside6_survives_qasync_stress(tmp_path):
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        QT_API="pyside6",
        HOME=str(tmp_path),
        PYTHONFAULTHANDLER="1",
    )
    try:
        result = subprocess.run(
            [sys.executable, str(CHILD), "--seconds", str(STRESS_SECONDS)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"stress child hung for {CHILD_TIMEOUT_S} s; stderr:\n{exc.stderr}")

    assert result.returncode == 0, (
        f"stress child exited {result.returncode} (negative = killed by that signal; "
        f"-6 = abort, e.g. bool_dealloc)\nstderr tail:\n{result.stderr[-3000:]}"
    )
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["wakeups_posted"] >= 1_000
    assert counts["wakeups_run"] == counts["wakeups_posted"], "call_soon_threadsafe lost calls"
    assert counts["emits"] >= 10_000
    assert counts["slot_calls"] == counts["emits"], "a direct connection missed emissions"
    assert counts["timer_ticks"] >= 10
    assert counts["void_calls"] >= 10_000
