"""The placeholder main window: demo badge, endpoint and demo sign-ins as a user sees them."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QTableWidget

from impdesk.app import DEMO_ACCOUNTS
from impdesk.gui.main_window import ConnectionInfo, DemoAccount, MainWindow, app_icon

BASE_URL = "http://127.0.0.1:43817/v5"
CONTROL_URL = "http://127.0.0.1:43817/_emulator"


@pytest.fixture
def demo_window(qtbot):
    info = ConnectionInfo(
        endpoint=BASE_URL,
        demo=True,
        control_url=CONTROL_URL,
        accounts=tuple(DemoAccount(*row) for row in DEMO_ACCOUNTS),
    )
    window = MainWindow(info)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_demo_window_says_demo_and_where_it_connects(demo_window):
    assert demo_window.windowTitle() == "impdesk — Demo (local emulator)"
    badge = demo_window.findChild(QLabel, "demoBadge")
    assert badge is not None and badge.isVisible() and badge.text() == "DEMO"
    assert demo_window.findChild(QLabel, "endpointLabel").text() == BASE_URL
    assert demo_window.findChild(QLabel, "controlUrlLabel").text() == CONTROL_URL
    assert BASE_URL in demo_window.statusBar().currentMessage()


def test_demo_window_lists_the_demo_sign_ins(demo_window):
    table = demo_window.findChild(QTableWidget, "demoAccounts")
    shown = [
        tuple(table.item(row, col).text() for col in range(3)) for row in range(table.rowCount())
    ]
    assert shown == [(user, email, password) for user, email, password, _ in DEMO_ACCOUNTS]
    assert "demo-unbond-key" in table.item(0, 3).text()


def test_plain_window_has_no_demo_badge(qtbot):
    window = MainWindow(ConnectionInfo(endpoint="https://api.electricimp.com/v5"))
    qtbot.addWidget(window)
    assert window.windowTitle() == "impdesk"
    assert window.findChild(QLabel, "demoBadge") is None
    assert window.findChild(QTableWidget, "demoAccounts") is None
    assert window.findChild(QLabel, "endpointLabel").text() == "https://api.electricimp.com/v5"


def test_app_icon_renders_from_the_bundled_svg(qapp):
    icon = app_icon()
    assert not icon.isNull()
    assert icon.pixmap(64, 64).width() == 64
