"""`python -m impdesk.emulator` (§8.2): first line is the URL, it serves, SIGTERM ends it."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from impdesk.emulator.__main__ import build_parser, is_loopback

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Running:
    """The emulator as a child process; stdout lines arrive in a queue as soon as flushed."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="")
        env.pop("PYTHONUNBUFFERED")  # the URL must be flushed by the program itself
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "impdesk.emulator", *args], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float = 20.0) -> str | None:
        return self.lines.get(timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert self.proc.stderr is not None
        return rc, self.proc.stderr.read()


@pytest.fixture
def running():
    started: list[Running] = []

    def start(*args: str) -> Running:
        child = Running(*args)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait(timeout=10)


def test_first_line_is_url_and_sigterm_exits_cleanly(running):
    child = running("--seed", "small", "--rate-limit", "0")
    url = child.line()
    assert url is not None and url.startswith("http://127.0.0.1:") and url.endswith("/v5")
    rest = []
    while True:
        line = child.line()
        assert line is not None
        rest.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    text = "\n".join(rest)
    for word in ("demo", "demo-2fa", "demo-collab", "impdesk-demo", "IMPDESKDEMOTOTPSECRET234"):
        assert word in text
    assert "token" not in text.lower()
    status = requests.get(url[:-3] + "/_emulator", timeout=10).json()
    assert status["seed"] == "small" and status["base_url"] == url
    assert status["config"]["rate_limit"]["limit"] == 0
    resp = requests.post(url + "/auth", json={"id": "demo", "password": "impdesk-demo"},
                         timeout=10)
    assert resp.status_code == 200
    rc, err = child.stop(signal.SIGTERM)
    assert rc == 0, err
    assert "Traceback" not in err


def test_sigint_exits_cleanly(running):
    child = running("--seed", "empty", "--no-simulation")
    assert child.line().endswith("/v5")
    rc, err = child.stop(signal.SIGINT)
    assert rc == 0, err


def test_options_reach_the_emulator(running):
    child = running("--seed", "fleet:300", "--log-rate", "3", "--no-control",
                    "--latency-ms", "1", "--random-seed", "5")
    url = child.line()
    assert requests.get(url[:-3] + "/_emulator", timeout=10).status_code == 404
    resp = requests.post(url + "/auth", json={"id": "demo", "password": "impdesk-demo"},
                         timeout=10)
    token = resp.json()["access_token"]
    devices = requests.get(url + "/devices", params={"page[size]": 1},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert devices.status_code == 200
    assert "page[number]=300" in devices.json()["links"]["last"]
    assert child.stop()[0] == 0


def test_non_loopback_host_warns(running):
    child = running("--host", "0.0.0.0", "--seed", "empty")
    url = child.line()
    assert url.startswith("http://0.0.0.0:")
    rc, err = child.stop()
    assert rc == 0
    assert "warning" in err.lower() and "0.0.0.0" in err


def test_bad_seed_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "impdesk.emulator", "--seed", "huge"],
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "unknown seed" in proc.stderr and proc.stdout == ""


def test_parser_defaults_and_loopback():
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.seed, args.rate_limit) == ("127.0.0.1", 0, "demo", None)
    assert not args.no_simulation and not args.no_control
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
