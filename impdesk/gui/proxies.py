"""Sorting and recursive filtering over the account tree (parents of matches stay visible)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from .tree_model import Role


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

    def set_text(self, text: str) -> None:
        """Filter by a plain substring (no regular expression surprises)."""
        self._needle = text.strip().casefold()
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self._needle:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        text = index.data(Role.FILTER) or ""
        return self._needle in str(text).casefold()

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(Role.SORT), right.data(Role.SORT)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
