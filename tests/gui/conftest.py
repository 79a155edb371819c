"""GUI fixtures: a qasync loop on the test QApplication, and a signed-in main window."""

from __future__ import annotations

import asyncio
import os

import pytest

os.environ["QT_API"] = "pyside6"

from PySide6.QtCore import QSettings  # noqa: E402  (after QT_API; PySide6 before qasync)
import qasync  # noqa: E402

from impdesk.gui import dialogs  # noqa: E402
from impdesk.gui.identity import ConnectionInfo, DemoAccount  # noqa: E402


@pytest.fixture
def qloop(qapp):
    """A qasync event loop over the test QApplication; `qloop.run(coro)` runs with a timeout."""
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)

    def run(coro, timeout: float = 20.0):
        return loop.run_until_complete(asyncio.wait_for(coro, timeout))

    loop.run = run  # type: ignore[attr-defined]
    yield loop
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def settle(loop, window, timeout: float = 10.0) -> None:
    """Run the loop until the window's background tasks (refresh, moves, features) are done.

    Tasks left pending would otherwise be stepped by Qt event processing outside the running
    asyncio loop (qtbot.wait*, widget teardown), where `get_running_loop()` fails.
    """

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
