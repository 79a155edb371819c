"""The account tree view: multi-selection, drag and drop of devices, context menus."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTreeView, QWidget


class AccountTreeView(QTreeView):
    """A QTreeView configured for the account tree (sorting through the proxy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountTree")
        self.setAccessibleName(self.tr("Account tree"))
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSortingEnabled(True)
        self.setAlternatingRowColors(True)
        self.setAnimated(False)
        self.setExpandsOnDoubleClick(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.header()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)

    def column_menu(self) -> QMenu:
        """Show or hide columns (the first, the name, always stays)."""
        menu = QMenu(self.tr("Columns"), self)
        header = self.header()
        model = self.model()
        for column in range(1, header.count()):
            title = model.headerData(column, Qt.Orientation.Horizontal) if model else None
            action = menu.addAction(str(title or column))
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(
                lambda shown, c=column: header.setSectionHidden(c, not shown))
        return menu

    def _header_menu(self, pos: QPoint) -> None:
        self.column_menu().popup(self.header().mapToGlobal(pos))
