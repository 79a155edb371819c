"""The main window as a user first sees it: demo badge, title, connection, icon."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from impdesk.gui.identity import ConnectionInfo, app_icon
from impdesk.gui.main_window import MainWindow


def test_demo_window_says_demo_and_where_it_connects(make_window, emu):
    window = make_window()
    assert window.windowTitle() == "impdesk — demo — Demo (local emulator)"
    badge = window.findChild(QLabel, "demoBadge")
    assert badge is not None and badge.isVisible() and badge.text() == "DEMO · local emulator"
    assert emu.base in badge.toolTip()
    assert window.connection.text() == f"Signed in as demo · {emu.base}"
    message = window.statusBar().currentMessage()
    assert message.startswith("Loaded 3 products, 2 device groups, 6 devices")


def test_plain_window_has_no_demo_badge_and_is_not_signed_in(qtbot, settings):
    window = MainWindow(ConnectionInfo(endpoint="https://api.electricimp.com/v5"),
                        settings=settings)
    qtbot.addWidget(window)
    assert window.windowTitle() == "impdesk"
    assert window.findChild(QLabel, "demoBadge") is None
    assert window.connection.text() == "Not signed in"
    assert not window.act_refresh.isEnabled() and window.act_sign_in.isEnabled()


def test_app_icon_renders_from_the_bundled_svg(qapp):
    icon = app_icon()
    assert not icon.isNull()
    assert icon.pixmap(64, 64).width() == 64
