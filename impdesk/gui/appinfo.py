"""Help menu: About impdesk (versions, Copy details) and a generated keyboard-shortcuts list."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import APP_NAME, __version__
from ..versions import dist_version, version_lines
from .identity import app_icon

HOMEPAGE = "https://github.com/impdesk/impdesk"
ABOUT_ICON_PX = 64
MESSAGE_MS = 8000
# Contexts in which two actions with one key really clash (Qt then fires neither of them).
_GLOBAL_CONTEXTS = (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut)


def install(window: Any) -> None:
    """Add Help → Keyboard shortcuts, and make Help → About open the About dialog."""
    shortcuts = QAction(window.tr("&Keyboard shortcuts"), window)
    shortcuts.setObjectName("actionKeyboardShortcuts")
    shortcuts.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))  # F1
    shortcuts.setStatusTip(window.tr("List every keyboard shortcut of this window"))
    shortcuts.triggered.connect(lambda: ShortcutsDialog(window).open())
    window.addAction(shortcuts)
    window.act_shortcuts = shortcuts
    help_menu: QMenu = window.menus["help"]
    first = help_menu.actions()[0] if help_menu.actions() else None
    help_menu.insertAction(first, shortcuts)
    help_menu.insertSeparator(first)


def about_text() -> str:
    """The details block of the About dialog: versions first, then where things live."""
    app = QGuiApplication.instance()
    lines = version_lines()
    lines += [
        f"requests {dist_version('requests')}, keyring {dist_version('keyring')}",
        f"Qt platform {QGuiApplication.platformName()}"
        + (f", style {QApplication.style().name()}" if isinstance(app, QApplication) else ""),
        f"Device pixel ratio {app.devicePixelRatio() if app else 1:g}",
        f"Settings {QSettings().fileName()}",
        f"Executable {sys.executable}" + (" (frozen)" if getattr(sys, "frozen", False) else ""),
    ]
    return "\n".join(lines)


class AboutDialog(QDialog):
    """Name, icon, what impdesk is, and a copyable block of versions for bug reports."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(self.tr("About %s") % APP_NAME)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        icon = QLabel(self)
        icon.setPixmap(app_icon().pixmap(ABOUT_ICON_PX, ABOUT_ICON_PX))
        title = QLabel(f"{APP_NAME} {__version__}", self)
        title.setObjectName("aboutTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        blurb = QLabel(self.tr("A desktop manager for Electric Imp impCentral accounts.\n"
                               "MIT licence."), self)
        blurb.setTextFormat(Qt.TextFormat.PlainText)
        link = QLabel(f'<a href="{HOMEPAGE}">{HOMEPAGE}</a>', self)
        link.setOpenExternalLinks(True)
        heading = QVBoxLayout()
        for widget in (title, blurb, link):
            heading.addWidget(widget)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(heading, 1)

        self.details = QPlainTextEdit(about_text(), self)
        self.details.setObjectName("aboutDetails")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setAccessibleName(self.tr("Version details"))
        self.details.setMinimumSize(520, 170)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton(self.tr("&Copy details"),
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setObjectName("copyDetails")
        self.copy_button.setAutoDefault(False)  # Enter closes the dialog
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        QApplication.clipboard().setText(self.details.toPlainText())
        self.status.setText(self.tr("Copied to the clipboard."))


@dataclass(frozen=True)
class ShortcutRow:
    """One line of the shortcuts list."""

    command: str
    keys: str
    where: str
    clash: str = ""


def _label(action: QAction) -> str:
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.rstrip("…").rstrip(".").strip() or action.toolTip() or action.objectName()


def _menu_paths(window: Any) -> dict[QAction, str]:
    """Each action in the menu bar → "File", "View › Columns", ..."""
    paths: dict[QAction, str] = {}

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {_label(action)}")
            elif not action.isSeparator():
                paths.setdefault(action, path)

    for top in window.menuBar().actions():
        if isinstance(top.menu(), QMenu):
            walk(top.menu(), _label(top))
    return paths


def shortcut_rows(window: Any) -> list[ShortcutRow]:
    """Every QAction of `window` (its own, its menus', its children's) that has a shortcut."""
    menus = _menu_paths(window)
    found: dict[int, QAction] = {}
    for action in [*window.actions(), *menus, *window.findChildren(QAction)]:
        if action.shortcuts():
            found.setdefault(id(action), action)
    owners: dict[str, list[QAction]] = {}
    for action in found.values():
        if action.shortcutContext() in _GLOBAL_CONTEXTS:
            for seq in action.shortcuts():
                owners.setdefault(seq.toString(QKeySequence.SequenceFormat.PortableText),
                                  []).append(action)
    rows = []
    for action in found.values():
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                         for s in action.shortcuts())
        where = menus.get(action)
        if where is None:
            parent = action.parent()
            where = window.tr("Window") if parent is window else (
                getattr(parent, "windowTitle", lambda: "")() or type(parent).__name__)
        others = set()
        if action.shortcutContext() in _GLOBAL_CONTEXTS:
            for seq in action.shortcuts():
                key = seq.toString(QKeySequence.SequenceFormat.PortableText)
                others.update(_label(a) for a in owners.get(key, []) if a is not action)
        clash = window.tr("also: %s") % ", ".join(sorted(others)) if others else ""
        rows.append(ShortcutRow(_label(action), keys, where, clash))
    rows.sort(key=lambda r: (r.where.casefold(), r.command.casefold()))
    return rows


class ShortcutsDialog(QDialog):
    """A filterable list of the window's shortcuts, generated from its actions."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("shortcutsFilter")
        self.filter.setPlaceholderText(self.tr("Filter commands or keys"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("shortcutsList")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels([self.tr("Command"), self.tr("Shortcut"), self.tr("Menu"),
                                   self.tr("Note")])
        self.tree.setAlternatingRowColors(True)
        for row in shortcut_rows(window):
            item = QTreeWidgetItem([row.command, row.keys, row.where, row.clash])
            if row.clash:
                item.setToolTip(3, self.tr("Qt ignores a key bound to more than one command "
                                           "in the same window."))
            self.tree.addTopLevelItem(item)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.resize(620, 480)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            hay = " ".join(item.text(c) for c in range(3)).casefold()
            item.setHidden(bool(needle) and needle not in hay)

    def rows(self) -> list[tuple[str, str]]:
        """(command, keys) of the visible rows, for tests and screen readers' sake."""
        return [(self.tree.topLevelItem(i).text(0), self.tree.topLevelItem(i).text(1))
                for i in range(self.tree.topLevelItemCount())
                if not self.tree.topLevelItem(i).isHidden()]
