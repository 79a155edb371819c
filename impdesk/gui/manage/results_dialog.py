"""A per-item result table: target, what it is, and "ok" or the server's error text verbatim."""

from __future__ import annotations

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.journal import OK
from .. import theme
from .forms import plain_label

Row = tuple[str, str, str]  # target, kind, result


class ResultsDialog(QDialog):
    """Shows one row per device or group; QTableWidgetItem text is never rich text."""

    def __init__(self, title: str, summary: str, rows: list[Row],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ResultsDialog")
        self.setWindowTitle(title)
        self.resize(620, 360)
        self.summary = plain_label(summary)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setObjectName("resultsTable")
        self.table.setHorizontalHeaderLabels([self.tr("Target"), self.tr("Kind"),
                                              self.tr("Result")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        palette = self.table.palette()
        ok, failed = QBrush(theme.ok_colour(palette)), QBrush(theme.error_colour(palette))
        for r, (target, kind, result) in enumerate(rows):
            for c, text in enumerate((target, kind, result)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if c == 2:
                    item.setForeground(ok if result == OK else failed)
                self.table.setItem(r, c, item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        # Rows follow the Result column's width: a long server message wraps, short rows stay low.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setMinimumSectionSize(self.fontMetrics().height() + 10)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def rows(self) -> list[Row]:
        return [tuple(self.table.item(r, c).text() for c in range(3))  # type: ignore[misc]
                for r in range(self.table.rowCount())]
