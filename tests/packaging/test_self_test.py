"""`python -m impdesk --self-test`: offscreen, in a subprocess, exits 0 and says what it checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SELF_TEST_TIMEOUT_S = 60


def _self_test(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["HOME"] = str(tmp_path / "home")  # the self-test moves HOME again; this guards the user's
    env.pop("DISPLAY", None)
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "impdesk", "--self-test"], cwd=tmp_path,
                          env=env, capture_output=True, text=True,
                          timeout=SELF_TEST_TIMEOUT_S, check=False)


def test_self_test_passes_offscreen(tmp_path):
    result = _self_test(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "ok  emulator: http://127.0.0.1:" in out
    assert "ok  sign in and load the tree: signed in as demo;" in out
    assert " 0 devices" not in out
    assert "ok  render the window: 1360×780 px, " in out
    assert "ok  app icon: PNG sizes [16, 24, 32, 48, 64, 128, 256, 512]" in out
    assert "ok  SSE sample: 5 events, 2 log entries" in out
    assert "keyring backend: keyring.backends." in out
    ca_line = next(line for line in out.splitlines() if line.startswith("CA bundle: "))
    assert Path(ca_line.removeprefix("CA bundle: ")).is_file()
    assert "self-test passed in" in out
    assert not (tmp_path / "home" / ".config").exists(), "the self-test wrote into HOME"


def test_self_test_fails_clearly_when_a_step_breaks(tmp_path):
    # A keyring backend that cannot be loaded, as a broken frozen build or a typo would give.
    result = _self_test(tmp_path, PYTHON_KEYRING_BACKEND="impdesk_no_such.Backend")

    assert result.returncode == 1
    assert "ok  sign in and load the tree" in result.stdout  # the steps before it ran
    assert "self-test FAILED at 'keyring': ModuleNotFoundError" in result.stderr
    assert "self-test passed" not in result.stdout
