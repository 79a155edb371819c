"""Small deployment dialogs: side-by-side diff, group picker, description and tags editor."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFontDatabase, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...api.records import Deployment, DeviceGroup
from .. import theme
from ..dialogs import error_label, show_error
from .code import (
    FILE_LABELS,
    FILES,
    MAX_TEXT,
    DiffRow,
    deployment_label,
    diff_summary,
    parse_tags,
    side_by_side,
    tags_problem,
)

LEFT_COLOURS = {"delete": "#fbd9d9", "replace": "#fbe7c6", "insert": "#eeeeee"}
RIGHT_COLOURS = {"insert": "#d6f2d6", "replace": "#fbe7c6", "delete": "#eeeeee"}
DARK_LEFT_COLOURS = {"delete": "#5c2b2b", "replace": "#54451f", "insert": "#333333"}
DARK_RIGHT_COLOURS = {"insert": "#264d2b", "replace": "#54451f", "delete": "#333333"}


CELL_PADDING = 4  # pixels left and right of the code in a cell
WRAP = Qt.TextFlag.TextWrapAnywhere  # long tokens (strings, base64) wrap too


class CodeCellDelegate(QStyledItemDelegate):
    """Code cells drawn whole: a line wider than its column wraps, anywhere, inside its row."""

    def __init__(self, table: QTableWidget) -> None:
        super().__init__(table)
        self.table = table

    def text_height(self, text: str, width: int) -> int:
        metrics = self.table.fontMetrics()
        return metrics.boundingRect(QRect(0, 0, max(1, width), 1 << 20),
                                    int(WRAP), text).height()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        style = opt.widget.style() if opt.widget else self.table.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(opt.palette.color(role))
        rect = opt.rect.adjusted(CELL_PADDING, 1, -CELL_PADDING, 0)
        painter.drawText(rect, int(WRAP | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                         text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        width = self.table.columnWidth(index.column()) - 2 * CELL_PADDING
        text = str(index.data() or "")
        return QSize(width, self.text_height(text, width) + 4)


class DiffTable(theme.FollowsPalette, QTableWidget):
    """Two code columns next to each other, with line numbers; changed lines coloured.

    Code is never elided: both sides keep half the room each, and a line too long for its
    half wraps onto more lines of its row (only those rows grow, so big files stay cheap).
    """

    def __init__(self, rows: list[DiffRow], parent: QWidget | None = None) -> None:
        super().__init__(len(rows), 4, parent)
        self.rows = rows
        self.setHorizontalHeaderLabels(["#", "Older", "#", "Newer"])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.setShowGrid(False)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        header = self.horizontalHeader()
        for col, mode in ((0, QHeaderView.ResizeMode.ResizeToContents),
                          (1, QHeaderView.ResizeMode.Stretch),
                          (2, QHeaderView.ResizeMode.ResizeToContents),
                          (3, QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(col, mode)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.code_delegate = CodeCellDelegate(self)
        for col in (1, 3):
            self.setItemDelegateForColumn(col, self.code_delegate)
        self.row_height = self.fontMetrics().height() + 4
        self.verticalHeader().setDefaultSectionSize(self.row_height)
        self.wrapped: set[int] = set()  # rows grown to show a long line whole
        for r, row in enumerate(rows):
            cells = (str(row.left_no or ""), row.left, str(row.right_no or ""), row.right)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (0, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignTop)
                self.setItem(r, c, item)
        self.dark: bool | None = None
        self.restyle()

    def restyle(self) -> None:
        """Tint changed lines and grey the line numbers for the palette (light or dark)."""
        dark = theme.is_dark(self.palette())
        if dark == self.dark:
            return
        self.dark = dark
        left = DARK_LEFT_COLOURS if dark else LEFT_COLOURS
        right = DARK_RIGHT_COLOURS if dark else RIGHT_COLOURS
        muted = self.palette().placeholderText()
        for r, row in enumerate(self.rows):
            for c in range(4):
                item = self.item(r, c)
                colours = left if c < 2 else right
                if row.tag in colours:
                    item.setBackground(QBrush(QColor(colours[row.tag])))
                if c in (0, 2):
                    item.setForeground(muted)

    def wrap_long_rows(self) -> None:
        """Grow the rows whose line is wider than its half; shrink those that fit again."""
        char = max(1, self.fontMetrics().horizontalAdvance("M"))  # a fixed-width font
        fits = (min(self.columnWidth(1), self.columnWidth(3)) - 2 * CELL_PADDING) // char
        if fits <= 0:
            return
        long_rows = {r for r, row in enumerate(self.rows)
                     if max(len(row.left), len(row.right)) > fits}
        for r in self.wrapped - long_rows:
            self.setRowHeight(r, self.row_height)
        for r in long_rows:
            self.resizeRowToContents(r)
        self.wrapped = long_rows

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.wrap_long_rows()


class DiffDialog(QDialog):
    """Side-by-side diff of two deployments (older left), agent and device code."""

    def __init__(self, older: Deployment, newer: Deployment,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DeploymentDiff")
        self.setWindowTitle(self.tr("Compare %s with %s") % (deployment_label(older),
                                                             deployment_label(newer)))
        self.resize(1100, 640)
        self.tabs = QTabWidget()
        self.tables: dict[str, DiffTable] = {}
        summaries = []
        for kind in FILES:
            rows = side_by_side(str(older.attr(kind, "")), str(newer.attr(kind, "")))
            table = self.tables[kind] = DiffTable(rows)
            summary = diff_summary(rows)
            summaries.append(f"{FILE_LABELS[kind]}: {summary}")
            self.tabs.addTab(table, f"{FILE_LABELS[kind]} ({summary})")
        self.summary = QLabel("    ".join(summaries))
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        heading = QLabel(self.tr("Older: %s\nNewer: %s") % (deployment_label(older),
                                                            deployment_label(newer)))
        heading.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        for kind in FILES:  # start on the file that changed
            if any(r.tag != "equal" for r in self.tables[kind].rows):
                self.tabs.setCurrentWidget(self.tables[kind])
                break


class GroupPicker(QDialog):
    """Pick another device group (searchable)."""

    def __init__(self, groups: list[tuple[str, DeviceGroup]], title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("GroupPicker")
        self.setWindowTitle(title)
        self.resize(460, 420)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search device groups"))
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        for text, group in sorted(groups, key=lambda tg: tg[0].casefold()):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, group.id)
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton(self.tr("Copy"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setEnabled(False)
        buttons.rejected.connect(self.reject)
        self.ok.clicked.connect(self.accept)
        self.list.currentItemChanged.connect(lambda cur, _p: self.ok.setEnabled(cur is not None))
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        self.search.textChanged.connect(self._filter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def select(self, group_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == group_id:
                self.list.setCurrentRow(i)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None


class EditDialog(QDialog):
    """Edit a deployment's description and tags, validated like the service."""

    def __init__(self, dep: Deployment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EditDeployment")
        self.setWindowTitle(self.tr("Edit %s") % deployment_label(dep))
        self.description = QLineEdit(str(dep.description or ""))
        self.description.setMaxLength(MAX_TEXT)
        self.tags = QLineEdit(", ".join(dep.tags))
        self.error = error_label()
        form = QFormLayout()
        form.addRow(self.tr("&Description:"), self.description)
        form.addRow(self.tr("&Tags:"), self.tags)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton(self.tr("Save"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.ok.clicked.connect(self._on_ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _on_ok(self) -> None:
        problem = tags_problem(parse_tags(self.tags.text()))
        show_error(self.error, problem)
        if not problem:
            self.accept()

    def values(self) -> tuple[str | None, list[str]]:
        return self.description.text().strip() or None, parse_tags(self.tags.text())
