"""Sorting and recursive filtering over the account tree (parents of matches stay visible)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from .tree_model import AccountTreeModel, Role


class TreeFilterProxy(QSortFilterProxyModel):
    """Matches name, device id, MAC, agent id and type; keeps ancestors and children of matches."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setFilterKeyColumn(0)
        self.setFilterRole(Role.FILTER)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortRole(Role.SORT)
        self.setDynamicSortFilter(True)
        self._needle = ""
        self._tree: AccountTreeModel | None = None

    def setSourceModel(self, model: Any) -> None:
        self._tree = model if isinstance(model, AccountTreeModel) else None
        super().setSourceModel(model)

    def set_text(self, text: str) -> None:
        """Filter by a plain substring (no regular expression surprises)."""
        self.beginFilterChange()  # invalidateFilter() is deprecated since Qt 6.10
        self._needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self._needle:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        text = index.data(Role.FILTER) or ""
        return self._needle in str(text).casefold()

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        tree = self._tree
        if tree is not None:  # fast path (called ~30,000 times while 10,000 devices stream in)
            column = left.column()
            a = tree.sort_key(left.internalPointer(), column)
            b = tree.sort_key(right.internalPointer(), column)
        else:
            a, b = left.data(Role.SORT), right.data(Role.SORT)
        if isinstance(a, tuple) and isinstance(b, tuple) and a and b and a[0] != b[0]:
            # The container rank (products, then owners, then Unassigned) ignores the order.
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            return (a[0] < b[0]) if ascending else (a[0] > b[0])
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
