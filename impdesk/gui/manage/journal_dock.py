"""The "Activity" dock: the journal of changes made from the app, exportable to CSV."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.journal import Entry, Journal
from .. import theme

HEADERS = ("Time", "Action", "Target", "Result")
Index = QModelIndex | QPersistentModelIndex


class JournalModel(QAbstractTableModel):
    """Rows of the journal, newest last; follows new entries as they are recorded."""

    def __init__(self, journal: Journal, parent: Any = None) -> None:
        super().__init__(parent)
        self.journal = journal
        journal.subscribe(self._added)
        self.restyle()

    def restyle(self) -> None:
        """The result colours for the current palette (light or dark)."""
        self._ok = QBrush(theme.ok_colour())
        self._failed = QBrush(theme.error_colour())
        if self.journal.entries:
            last = len(self.journal.entries) - 1
            self.dataChanged.emit(self.index(0, 3), self.index(last, 3),
                                  [Qt.ItemDataRole.ForegroundRole])

    def _added(self, _: Entry) -> None:
        row = len(self.journal.entries) - 1
        self.beginInsertRows(QModelIndex(), row, row)
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.journal.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.journal.entries[index.row()]
        values = (entry.time.strftime("%H:%M:%S"), entry.action, entry.target, entry.result)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
                return entry.time.isoformat(timespec="seconds")
            return values[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 3:
            return self._ok if entry.ok else self._failed
        return None


class JournalDock(theme.FollowsPalette, QDockWidget):
    """A dock with the journal table and an Export CSV… button."""

    def __init__(self, journal: Journal, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Activity"), parent)
        self.setObjectName("activityDock")
        self.journal = journal
        self.model = JournalModel(journal, self)
        self.view = QTableView(self)
        self.view.setObjectName("activityTable")
        self.view.setModel(self.model)
        self.view.verticalHeader().setVisible(False)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)  # one line per entry; the tooltip has the rest
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.export_button = QPushButton(self.tr("E&xport CSV…"))
        self.export_button.setToolTip(self.tr("Save the activity as a CSV file"))
        self.export_button.setObjectName("exportCsv")
        self.export_button.clicked.connect(self.ask_export)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view)
        layout.addLayout(bar)
        self.setWidget(body)
        self.model.rowsInserted.connect(lambda *_: self.view.scrollToBottom())

    def restyle(self) -> None:
        self.model.restyle()

    def ask_export(self) -> None:
        """Ask for a file without a nested event loop (open(), not exec())."""
        dialog = QFileDialog(self, self.tr("Export activity"), "impdesk-activity.csv",
                             self.tr("CSV files (*.csv)"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.export)
        dialog.open()

    def export(self, path: str) -> int:
        """Write the CSV; returns the entries written (-1 when the file could not be written)."""
        try:
            count = self.journal.export_csv(path)
            text = self.tr("Exported %d entries to %s") % (count, path)
        except OSError as exc:
            count = -1
            text = self.tr("Could not export the activity: %s") % exc
        window = self.parent()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(text, 8000)
        return count
