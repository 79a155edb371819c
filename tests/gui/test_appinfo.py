"""Help menu (About with versions, generated shortcuts list) and window state kept in QSettings."""

from __future__ import annotations

import PySide6
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

from impdesk import __version__
from impdesk import settings as keys
from impdesk.gui.appinfo import AboutDialog, ShortcutsDialog, shortcut_rows
from impdesk.gui.identity import ConnectionInfo
from impdesk.gui.main_window import MainWindow
from impdesk.gui.tree_model import Column

NATIVE = QKeySequence.SequenceFormat.NativeText


def _window(qtbot, settings) -> MainWindow:
    window = MainWindow(ConnectionInfo(endpoint="https://api.electricimp.com/v5"),
                        settings=settings)
    qtbot.addWidget(window)
    return window


def test_help_menu_has_shortcuts_then_about(qtbot, settings):
    window = _window(qtbot, settings)
    texts = [a.text() for a in window.menus["help"].actions() if not a.isSeparator()]
    assert texts[:2] == ["&Keyboard shortcuts", "&About impdesk"]


def test_shortcuts_dialog_lists_the_window_actions_generated(qtbot, settings):
    window = _window(qtbot, settings)
    extra = QAction("Frobnicate…", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+F"))
    window.addAction(extra)  # not in any menu: still listed

    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    rows = dict(dialog.rows())

    assert rows["Refresh"] == QKeySequence(QKeySequence.StandardKey.Refresh).toString(NATIVE)
    assert rows["Move to device group"] == QKeySequence("Ctrl+M").toString(NATIVE)
    assert rows["Keyboard shortcuts"] == QKeySequence("F1").toString(NATIVE)
    assert rows["Frobnicate"] == QKeySequence("Ctrl+Alt+F").toString(NATIVE)
    with_keys = {id(a) for a in [*window.findChildren(QAction), *window.actions()]
                 if a.shortcuts()}
    assert len(dialog.rows()) == len(with_keys)
    qtbot.keyClicks(dialog.filter, "move to")
    assert [c for c, _ in dialog.rows()] == ["Move to device group"]


def test_shortcut_clashes_are_pointed_out(qtbot, settings):
    window = _window(qtbot, settings)
    twin = QAction("Reload everything", window)
    twin.setShortcut(QKeySequence("Ctrl+M"))  # same key as Move to device group
    window.addAction(twin)

    notes = {r.command: r.clash for r in shortcut_rows(window)}

    assert notes["Reload everything"] == "also: Move to device group"
    assert notes["Move to device group"] == "also: Reload everything"
    assert notes["Refresh"] == ""


def test_about_shows_versions_and_copies_them(qtbot, settings):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.details.toPlainText()

    assert text.splitlines()[0] == f"impdesk {__version__}"
    assert f"PySide6 {PySide6.__version__}" in text
    assert "qasync " in text and "Platform " in text and "Qt platform offscreen" in text
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == text
    assert dialog.status.text() == "Copied to the clipboard."


def test_tree_columns_and_window_state_survive_a_restart(qtbot, settings):
    first = _window(qtbot, settings)
    first.view.setColumnWidth(Column.NAME, 333)
    first.view.header().moveSection(2, 1)
    first.close()
    assert settings.value(keys.TREE_HEADER) is not None
    assert settings.value(keys.WINDOW_STATE) is not None

    second = _window(qtbot, settings)

    assert second.view.columnWidth(Column.NAME) == 333
    assert second.view.header().visualIndex(2) == 1
    second._expand_initial()  # what the first load does: it must not refit restored columns
    assert second.view.columnWidth(Column.NAME) == 333


def test_application_names_put_settings_in_the_impdesk_folder(qapp, monkeypatch):
    from impdesk.app import configure_application

    before = (QCoreApplication.organizationName(), QCoreApplication.organizationDomain(),
              QCoreApplication.applicationName(), QCoreApplication.applicationVersion(),
              QApplication.desktopFileName())
    monkeypatch.delenv("RESOURCE_NAME", raising=False)
    try:
        configure_application()
        assert QCoreApplication.organizationName() == keys.ORGANIZATION
        assert QCoreApplication.applicationName() == keys.APPLICATION
        assert QApplication.desktopFileName() == "io.github.impdesk.Impdesk"
        assert QSettings().fileName().endswith("/impdesk/impdesk.conf")
    finally:
        QCoreApplication.setOrganizationName(before[0])
        QCoreApplication.setOrganizationDomain(before[1])
        QCoreApplication.setApplicationName(before[2])
        QCoreApplication.setApplicationVersion(before[3])
        QApplication.setDesktopFileName(before[4])
