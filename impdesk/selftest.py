"""`impdesk --self-test`: a smoke test of an installed or frozen build, offscreen, in seconds."""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from impdesk import APP_NAME

SOFT_TIMEOUT_S = 15.0  # the steps get this long, then fail with the step's name
HARD_TIMEOUT_S = 20.0  # faulthandler kills the process (with tracebacks) if even that hangs
SSE_CHUNK_BYTES = 7  # feed the sample in odd pieces: the parser must reassemble events
SSE_EXPECTED_EVENTS = 5  # state_change × 3 + message × 2 (comments aside)
# The backend module each platform needs; the frozen build must have it (spec hiddenimports).
_NATIVE_KEYRING = {
    "linux": "keyring.backends.SecretService",
    "darwin": "keyring.backends.macOS",
    "win32": "keyring.backends.Windows",
}


class SelfTestError(Exception):
    """A self-test step found something wrong; the message says what."""


class _Steps:
    """Runs named steps, prints `ok`/`FAILED` lines, remembers which one is running."""

    def __init__(self) -> None:
        self.current = "start"
        self.started = time.perf_counter()

    def begin(self, name: str) -> float:
        self.current = name
        return time.perf_counter()

    def ok(self, since: float, detail: str) -> None:
        print(f"  ok  {self.current}: {detail} ({time.perf_counter() - since:.2f} s)", flush=True)

    def run(self, name: str, fn: Callable[[], str]) -> None:
        since = self.begin(name)
        self.ok(since, fn())


def isolate(tmp: Path) -> None:
    """Point HOME and the XDG folders at `tmp`, and default Qt to the offscreen platform."""
    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state"),
                     ("XDG_RUNTIME_DIR", "runtime")):
        path = tmp / sub
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ[var] = str(path)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # xcb etc. only when asked for
    os.environ["QT_API"] = "pyside6"


def run_self_test() -> int:
    """Run every step; 0 when all pass, 1 with a `FAILED` line otherwise."""
    print(f"{APP_NAME} self-test (soft timeout {SOFT_TIMEOUT_S:.0f} s, "
          f"hard {HARD_TIMEOUT_S:.0f} s)", flush=True)
    steps = _Steps()
    faulthandler.dump_traceback_later(HARD_TIMEOUT_S, exit=True)
    try:
        with tempfile.TemporaryDirectory(prefix="impdesk-selftest-") as tmp:
            isolate(Path(tmp))
            _run(steps, Path(tmp))
    except TimeoutError:
        print(f"{APP_NAME} self-test FAILED at '{steps.current}': no result within "
              f"{SOFT_TIMEOUT_S:.0f} s", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # report every failure the same way: step, type, message
        print(f"{APP_NAME} self-test FAILED at '{steps.current}': "
              f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        faulthandler.cancel_dump_traceback_later()
    print(f"{APP_NAME} self-test passed in {time.perf_counter() - steps.started:.1f} s",
          flush=True)
    return 0


def _run(steps: _Steps, tmp: Path) -> None:
    steps.run("versions", _versions)
    since = steps.begin("QApplication")
    from PySide6.QtWidgets import QApplication  # noqa: I001 (PySide6 before qasync, guide §2)
    import qasync

    from impdesk.app import configure_application

    configure_application()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    steps.ok(since, f"platform {app.platformName()}")
    qasync.run(asyncio.wait_for(_gui_steps(steps, tmp), SOFT_TIMEOUT_S))
    steps.run("app icon", _icon)
    steps.run("SSE sample", _sse)
    steps.run("keyring", _keyring)
    steps.run("CA bundle", _ca_bundle)


def _versions() -> str:
    from impdesk.versions import version_lines

    return "; ".join(version_lines())


async def _gui_steps(steps: _Steps, tmp: Path) -> None:
    from PySide6.QtCore import QSettings

    from impdesk.app import DEMO_ACCOUNTS, EmbeddedEmulator
    from impdesk.core.tree import DEVICE, GROUP, PRODUCT
    from impdesk.gui import dialogs, tasks
    from impdesk.gui.main_window import ConnectionInfo, DemoAccount, MainWindow

    since = steps.begin("emulator")
    emulator = EmbeddedEmulator()
    window: Any = None
    try:
        steps.ok(since, emulator.base_url)
        since = steps.begin("main window")
        dialogs.HEADLESS_ANSWERS = {}  # nothing may wait for a click
        info = ConnectionInfo(endpoint=emulator.base_url, demo=True,
                              control_url=emulator.control_url,
                              accounts=(DemoAccount(*DEMO_ACCOUNTS[0]),))
        settings = QSettings(str(tmp / "selftest.ini"), QSettings.Format.IniFormat)
        window = MainWindow(info, settings=settings)  # built, never shown
        steps.ok(since, f"{len(window.actions())} actions, hidden")
        since = steps.begin("sign in and load the tree")
        await window.start()
        if window.service is None:
            raise SelfTestError("the demo sign-in did not produce a session")
        counts = {kind: sum(1 for key in window.model.nodes if key[0] == kind)
                  for kind in (PRODUCT, GROUP, DEVICE)}
        if not counts[DEVICE]:
            raise SelfTestError(f"the tree holds no devices: {counts}")
        expected = len(window.service.snapshot.devices)
        if counts[DEVICE] != expected:
            raise SelfTestError(f"the tree shows {counts[DEVICE]} of {expected} devices")
        steps.ok(since, f"signed in as {DEMO_ACCOUNTS[0][0]}; {counts[PRODUCT]} products, "
                        f"{counts[GROUP]} device groups, {counts[DEVICE]} devices")
        since = steps.begin("render the window")
        steps.ok(since, _rendered(window))
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        emulator.stop()
        tasks.shutdown()


def _rendered(window: Any) -> str:
    """Paint the loaded window through the platform plugin; a blank result fails."""
    image = window.grab().toImage()
    if image.isNull() or image.width() < 100 or image.height() < 100:
        raise SelfTestError(f"the window rendered as {image.width()}×{image.height()} px")
    # A window that painted nothing is one flat colour; a tree with icons and text is not.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    if len(colours) < 8:
        raise SelfTestError(f"the window rendered blank ({len(colours)} colours)")
    return f"{image.width()}×{image.height()} px, {len(colours)} colours sampled"


def _icon() -> str:
    from impdesk.gui.identity import app_icon, render_svg_icon

    icon = app_icon()
    if icon.isNull():
        raise SelfTestError("the application icon is empty (no bundled PNGs?)")
    sizes = sorted(s.width() for s in icon.availableSizes())
    svg = render_svg_icon(128).toImage()
    if svg.isNull():
        raise SelfTestError("Qt cannot render the SVG icon (imageformats/qsvg plugin missing?)")
    centre = svg.pixelColor(64, 64)
    if centre.alpha() == 0:
        raise SelfTestError("the SVG icon rendered transparent")
    return f"PNG sizes {sizes}; SVG rendered 128 px"


def _sse() -> str:
    from impdesk.api.sse import COMMENT, SseParser
    from impdesk.resources import SSE_SAMPLE, read_asset

    data = read_asset(SSE_SAMPLE)
    parser = SseParser()
    events = []
    for start in range(0, len(data), SSE_CHUNK_BYTES):
        events.extend(parser.feed(data[start:start + SSE_CHUNK_BYTES]))
    real = [e for e in events if e.event != COMMENT]
    if len(real) != SSE_EXPECTED_EVENTS:
        raise SelfTestError(f"parsed {len(real)} events from the sample, expected "
                            f"{SSE_EXPECTED_EVENTS}")
    messages = [json.loads(e.data) for e in real if e.event == "message"]
    if [m["msg"] for m in messages] != ["Device restarting", "line one\nline two"]:
        raise SelfTestError(f"unexpected log messages: {messages}")
    return f"{len(real)} events, {len(messages)} log entries"


def _keyring() -> str:
    import importlib
    from importlib import metadata

    import keyring
    from keyring.backend import get_all_keyring

    # keyring finds its backends through entry points: a frozen build without keyring's
    # metadata (copy_metadata in the spec) silently falls back to the "fail" backend.
    plugins = sorted(ep.name for ep in metadata.entry_points(group="keyring.backends"))
    if not plugins:
        raise SelfTestError("keyring's backend entry points are missing (no dist metadata)")
    native = _NATIVE_KEYRING.get(sys.platform, _NATIVE_KEYRING["linux"])
    importlib.import_module(native)  # ImportError here: a hidden import is missing
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    viable = sorted(type(b).__name__ for b in get_all_keyring())
    print(f"keyring backend: {name}", flush=True)
    return f"{name}; viable now: {', '.join(viable) or 'none'}; plugins: {', '.join(plugins)}"


def _ca_bundle() -> str:
    import requests.certs

    path = Path(requests.certs.where())
    if not path.is_file() or path.stat().st_size == 0:
        raise SelfTestError(f"the CA bundle is missing: {path}")
    print(f"CA bundle: {path}", flush=True)
    return f"{path.stat().st_size // 1024} KiB"
