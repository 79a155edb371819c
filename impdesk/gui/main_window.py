"""Placeholder main window: where impdesk is connected and, in demo mode, how to sign in.

The account tree, log view and actions replace the body of this window in a later issue; the
`ConnectionInfo` hand-over from `app.py` stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from impdesk.resources import ICON_SVG, read_asset

ICON_SIZES_PX = (16, 24, 32, 48, 64, 128, 256)
HEADER_ICON_PX = 48
DEMO_BADGE_STYLE = (
    "QLabel#demoBadge { background: #d9480f; color: white; font-weight: bold;"
    " border-radius: 6px; padding: 3px 10px; }"
)


@dataclass(frozen=True)
class DemoAccount:
    """One sign-in of the demo data set (contract §8.10, README "Demo credentials")."""

    username: str
    email: str
    password: str
    note: str = ""


@dataclass(frozen=True)
class ConnectionInfo:
    """What the window shows about the API it talks to; `demo` marks the embedded emulator."""

    endpoint: str
    demo: bool = False
    control_url: str | None = None
    accounts: tuple[DemoAccount, ...] = field(default_factory=tuple)


def app_icon() -> QIcon:
    """The application icon, rendered from the bundled SVG at the usual sizes."""
    data = read_asset(ICON_SVG)
    icon = QIcon()
    for size in ICON_SIZES_PX:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        if pixmap.loadFromData(data, "SVG"):
            icon.addPixmap(
                pixmap.scaled(
                    size,
                    size,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
    return icon


class MainWindow(QMainWindow):
    """The top-level window (placeholder body until the account tree lands).

    Signals: none yet.
    """

    def __init__(self, info: ConnectionInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setObjectName("mainWindow")
        if info.demo:
            self.setWindowTitle(self.tr("impdesk — Demo (local emulator)"))
        else:
            self.setWindowTitle(self.tr("impdesk"))
        self.setWindowIcon(app_icon())
        self.resize(760, 460)

        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.addLayout(self._header())
        layout.addLayout(self._connection_form())
        if info.demo:
            layout.addWidget(self._accounts_table())
        note = QLabel(
            self.tr(
                "Your products, device groups and devices will appear here once the account "
                "tree is built (coming in a later version)."
            ),
            body,
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        layout.addWidget(note)
        layout.addStretch(1)
        self.setCentralWidget(body)

        if info.demo:
            self.statusBar().showMessage(
                self.tr("Demo mode — local emulator at %s") % info.endpoint
            )
        else:
            self.statusBar().showMessage(self.tr("Not signed in — %s") % info.endpoint)

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        logo = QLabel(self)
        logo.setPixmap(self.windowIcon().pixmap(HEADER_ICON_PX, HEADER_ICON_PX))
        row.addWidget(logo)
        title = QLabel(self.tr("impdesk"), self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        row.addWidget(title)
        if self.info.demo:
            badge = QLabel(self.tr("DEMO"), self)
            badge.setObjectName("demoBadge")
            badge.setStyleSheet(DEMO_BADGE_STYLE)
            badge.setToolTip(
                self.tr("Connected to the local emulator; nothing leaves this machine.")
            )
            row.addWidget(badge, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addStretch(1)
        return row

    def _connection_form(self) -> QFormLayout:
        form = QFormLayout()
        endpoint = self._selectable(self.info.endpoint, "endpointLabel")
        form.addRow(self.tr("API endpoint:"), endpoint)
        if self.info.demo:
            form.addRow(
                self.tr("Served by:"),
                QLabel(self.tr("the embedded impCentral emulator (demo data set)"), self),
            )
        if self.info.control_url:
            form.addRow(
                self.tr("Emulator control:"),
                self._selectable(self.info.control_url, "controlUrlLabel"),
            )
        return form

    def _accounts_table(self) -> QTableWidget:
        headers = [self.tr("Username"), self.tr("Email"), self.tr("Password"), self.tr("Notes")]
        table = QTableWidget(len(self.info.accounts), len(headers), self)
        table.setObjectName("demoAccounts")
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        for row, account in enumerate(self.info.accounts):
            for col, text in enumerate(
                (account.username, account.email, account.password, account.note)
            ):
                table.setItem(row, col, QTableWidgetItem(text))
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        table.setWordWrap(False)
        rows_px = table.rowCount() * table.verticalHeader().defaultSectionSize()
        table.setFixedHeight(header.sizeHint().height() + rows_px + 2 * table.frameWidth())
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no "current cell" box on the first row
        table.setToolTip(self.tr("Demo sign-ins (also in the README)"))
        return table

    def _selectable(self, text: str, name: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label
