"""Sorting and recursive filtering over the account tree (parents of matches stay visible)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from ..core.tree import TreeNode
from .tree_model import AccountTreeModel, Role


class TreeFilterProxy(QSortFilterProxyModel):
    """Matches name, device id, MAC, agent id and type; keeps ancestors and children of matches."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)  # parents of matches stay
        # Children of matches stay too, decided in filterAcceptsRow from the remembered
        # matches of the ancestors: Qt's own autoAcceptChildRows asks every row's ancestors
        # through parent() and filterAcceptsRow again (most of a keystroke's cost).
        self.setFilterKeyColumn(0)
        self.setFilterRole(Role.FILTER)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortRole(Role.SORT)
        self.setDynamicSortFilter(True)
        self._needle = ""
        self._tree: AccountTreeModel | None = None
        # Whether a node's own text matches the needle, for the payload and pending mark it
        # had then: recursive filtering asks several times per row, so each node's text is
        # read and searched once per needle, and again only when its payload changes. (The
        # proxy re-filters a changed row before any slot of ours could forget the answer.)
        self._hits: dict[TreeNode, tuple[Any, Any, bool]] = {}

    def setSourceModel(self, model: Any) -> None:
        old = self.sourceModel()
        if old is not None:
            old.modelReset.disconnect(self._forget_hits)
        self._tree = model if isinstance(model, AccountTreeModel) else None
        super().setSourceModel(model)
        if model is not None:
            model.modelReset.connect(self._forget_hits)  # the old nodes are gone

    def _forget_hits(self) -> None:
        self._hits.clear()

    def set_text(self, text: str) -> None:
        """Filter by a plain substring (no regular expression surprises).

        Fast on 10,000 devices because devices say `ItemNeverHasChildren` (so the proxy keeps
        no child mapping per device to walk for every removed row: a keystroke took up to
        25 s) and because each node's match is remembered while the rows stay the same.
        """
        needle = text.strip().casefold()
        if needle == self._needle:
            return
        self.beginFilterChange()
        self._needle = needle
        self._hits.clear()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        tree = self._tree
        if not self._needle or tree is None:  # only the account tree is filtered
            return True
        parent = tree.node(source_parent)
        if not 0 <= source_row < len(parent.children):
            return False
        node: TreeNode | None = parent.children[source_row]
        while node is not None and node is not tree.root:
            if self._matches(tree, node):
                return True
            node = node.parent
        return False

    def _matches(self, tree: AccountTreeModel, node: TreeNode) -> bool:
        """Whether the node's own text holds the needle (remembered per payload)."""
        hit = self._hits.get(node)
        if hit is None or hit[0] is not node.payload or hit[1] != node.pending:
            hit = self._hits[node] = (node.payload, node.pending,
                                      self._needle in tree.filter_text(node).casefold())
        return hit[2]

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
