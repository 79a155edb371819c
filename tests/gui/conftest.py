"""GUI fixtures: a qasync loop on the test QApplication, and a signed-in main window."""

from __future__ import annotations

import asyncio
import os

import pytest

os.environ["QT_API"] = "pyside6"

import qasync
from PySide6.QtCore import QSettings

from impdesk.gui import dialogs
from impdesk.gui.identity import ConnectionInfo, DemoAccount


@pytest.fixture
def qloop(qapp, qtbot):
    """A qasync loop that counts as running whenever Qt processes events, as in the app.

    Background tasks (started by the window on its own) then run during every qtbot wait, like
    they do under `app.exec()`, instead of resuming later outside any running loop.
    `qloop.run(coro, timeout)` waits for the coroutine while Qt processes events.
    """
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)

    def run(coro, timeout: float = 20.0):
        task = asyncio.ensure_future(coro, loop=loop)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    loop.run = run  # type: ignore[attr-defined]
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        try:
            qtbot.waitUntil(lambda: all(t.done() for t in pending), timeout=5000)
        except Exception:  # a task that ignores cancellation must not hang the suite
            pass
    asyncio.events._set_running_loop(None)
    loop._QEventLoop__is_running = False  # type: ignore[attr-defined]  (already_running mode)
    asyncio.set_event_loop(None)
    loop.close()


def settle(loop, window, timeout: float = 10.0) -> None:
    """Run the loop until the window's background tasks (refresh, moves, features) are done."""

    async def wait() -> None:
        while len(window.tasks):
            await asyncio.gather(*list(window.tasks._tasks), return_exceptions=True)

    loop.run(wait(), timeout)


@pytest.fixture
def headless(monkeypatch):
    """Message boxes answer from this dict instead of opening (button text → bool)."""
    answers: dict = {}
    monkeypatch.setattr(dialogs, "HEADLESS_ANSWERS", answers)
    return answers


@pytest.fixture
def settings(tmp_path):
    """QSettings in a temporary INI file, so tests never touch the user's settings."""
    return QSettings(str(tmp_path / "impdesk.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, qloop, emu, settings, headless):
    """Build a MainWindow on the test emulator, signed in as `username`, tree loaded."""
    from impdesk.gui.main_window import MainWindow

    def make(username: str = "demo", seed: str | None = None):
        if seed is not None:
            emu.server.reset(seed=seed, config={"rate_limit": {"limit": 0, "window_s": 1}})
        acct = emu.accounts()[username]
        info = ConnectionInfo(endpoint=emu.base, demo=True, control_url=emu.control_url,
                              accounts=(DemoAccount(username, acct["email"], acct["password"]),))
        window = MainWindow(info, settings=settings)
        qtbot.addWidget(window)
        window.show()
        qloop.run(window.start())
        settle(qloop, window)  # feature tasks started by the load (e.g. deployment names)
        return window

    return make
