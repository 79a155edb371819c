"""Changing the account tree in place: reset, planned apply, streamed devices, moves, counts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from ..core.tree import (
    DEVICE,
    GROUP,
    ROOT_KEY,
    UNASSIGNED_KEY,
    Key,
    Plan,
    TreeNode,
    TreeShape,
    plan,
)
from .tree_roles import NCOLS, Column, Role

# The overload of layout(AboutToBe)Changed that names the parents whose rows change.
_PARENTS = "QList<QPersistentModelIndex>"
_PENDING_ROLES = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.FontRole,
                  Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.DecorationRole,
                  Qt.ItemDataRole.AccessibleTextRole]


class TreeUpdatesMixin:
    """Precise insert/move/remove rows and dataChanged for `AccountTreeModel` — never a reset
    after the first load, so selection and expansion survive."""

    def reset_to(self, shape: TreeShape) -> None:
        """Replace everything (sign-in, account switch)."""
        self.beginResetModel()
        self.root.children.clear()
        self.nodes = {ROOT_KEY: self.root}
        self._stats.clear()
        self._sort_cache.clear()
        self._cells.clear()
        self._dirty_counts.clear()
        for key, parent in _parents_first(shape):
            self._attach(TreeNode(key[0], key[1], shape.payloads.get(key)), parent)
        self.endResetModel()

    def state(self) -> tuple[dict[Key, TreeNode], int]:
        """A copy of the node map and the revision it belongs to: compute a `Plan` from it off
        the UI thread (`core.tree.plan_for_nodes`), then `apply(shape, todo, revision)`."""
        return dict(self.nodes), self.revision

    def apply(self, shape: TreeShape, todo: Plan | None = None,
              revision: int | None = None) -> None:
        """Bring the tree to `shape` with insert/move/remove rows and dataChanged — no reset.

        `todo` is a plan computed elsewhere (a worker thread) from `state()`; it is used only
        while the model is still at that `revision`, else the plan is computed here.
        """
        if todo is None or revision != self.revision:
            current = {k: n.parent.key for k, n in self.nodes.items() if n.parent is not None}
            payloads = {k: n.payload for k, n in self.nodes.items()}
            todo = plan(current, shape, payloads)
        touched: set[Key] = set()
        for key, parent_key in todo.added:
            self._insert(TreeNode(key[0], key[1], shape.payloads.get(key)), parent_key)
            touched.add(parent_key)
        for key, parent_key in todo.moved:
            node = self.nodes[key]
            touched.update({node.parent.key if node.parent else ROOT_KEY, parent_key})
        self.move_nodes(todo.moved)
        for key, _parent_key in todo.moved:
            self.nodes[key].payload = shape.payloads.get(key)
        for key in todo.removed:
            node = self.nodes.get(key)
            if node is not None and node.parent is not None:
                touched.add(node.parent.key)
                self._remove(node)
        self._change_payloads([(key, shape.payloads.get(key)) for key in todo.changed])
        touched.update(todo.changed)
        if todo.added or todo.moved or todo.removed or todo.changed:
            self._refresh_counts(touched)

    def add_devices(self, devices: list[Any]) -> None:
        """Insert a page of devices under their groups (one insert per parent); known ones
        and devices of unknown groups are left to the final `apply()`."""
        by_parent: dict[Key, list[Any]] = {}
        for device in devices:
            if (DEVICE, device.id) in self.nodes:
                continue
            gid = device.devicegroup_id
            parent = (GROUP, gid) if gid else UNASSIGNED_KEY
            if parent in self.nodes:
                by_parent.setdefault(parent, []).append(device)
        for parent_key, items in by_parent.items():
            parent = self.nodes[parent_key]
            first = len(parent.children)
            self.beginInsertRows(self.index_of(parent_key), first, first + len(items) - 1)
            for device in items:
                self._attach(TreeNode(DEVICE, device.id, device), parent_key)
            self.endInsertRows()
        if by_parent:
            self._refresh_counts(set(by_parent))

    def _change_payloads(self, changes: list[tuple[Key, Any]]) -> None:
        """New payloads in place, announced in few dataChanged ranges.

        A status refresh of a big fleet changes thousands of rows (RSSI, online). One
        dataChanged per row, over all columns, made the sorting proxy check every row's place
        and filter (3,000 rows: a 1 s stall). Rows whose name and filter text stay the same
        are announced per parent as one range that leaves out the name column, the column
        the tree sorts and filters by unless the user sorts by another one.
        """
        if not changes:
            return
        renamed: list[TreeNode] = []
        by_parent: dict[TreeNode, list[int]] = {}  # nodes hash by identity
        for key, payload in changes:
            node = self.nodes.get(key)
            if node is None or node.parent is None:
                continue
            before = self.filter_text(node)
            node.payload = payload
            if self.filter_text(node) != before:
                renamed.append(node)
            else:
                by_parent.setdefault(node.parent, []).append(node.row())
        self.revision += 1
        for node in renamed:
            self.dataChanged.emit(self.index_of(node.key, 0), self.index_of(node.key, NCOLS - 1))
        for parent, rows in by_parent.items():
            parent_index = self.index_of(parent.key)
            self.dataChanged.emit(self.index(min(rows), 1, parent_index),
                                  self.index(max(rows), NCOLS - 1, parent_index))

    def set_pending(self, keys: list[Key], pending: str | None) -> None:
        # Only the look changes: with the roles named, the sorting proxy repaints the row
        # instead of checking its place again (196 rows twice: 40,000 comparisons).
        for key in keys:
            node = self.nodes.get(key)
            if node is not None:
                node.pending = pending
                self.dataChanged.emit(self.index_of(key, 0), self.index_of(key, NCOLS - 1),
                                      _PENDING_ROLES)

    def move_nodes(self, moves: list[tuple[Key, Key]]) -> None:
        """Move rows under other parents (appended), cheaply for the sorting proxy.

        QSortFilterProxyModel treats every moved row, and every layout change, as a change of
        the whole layout: it drops all its mappings and sorts every open group again. With
        10,000 devices open that is a few hundred ms per move (a 196-device move stalled
        2.2-4.5 s row by row). Devices (leaves, never expanded) therefore leave in runs of
        removed rows and arrive in runs of inserted rows, which the proxy places by binary
        search; `rows_moving`/`rows_moved` let the window keep their selection. Containers
        keep true moves, in one layout change, so their expansion survives.
        """
        todo = [(self.nodes[k], self.nodes[p]) for k, p in moves
                if k in self.nodes and p in self.nodes and self.nodes[k].parent is not None
                and self.nodes[k].parent is not self.nodes[p]]
        leaves, containers = [], []
        for node, parent in todo:
            is_leaf = node.kind == DEVICE and not node.children
            (leaves if is_leaf else containers).append((node, parent))
        if leaves:
            self._reinsert(leaves)
        if containers:
            self._relayout(containers)

    def _reinsert(self, todo: list[tuple[TreeNode, TreeNode]]) -> None:
        """Take leaf rows out in runs of removed rows, put them back in runs of inserted rows."""
        keys = [node.key for node, _ in todo]
        self.rows_moving.emit(keys)
        leaving: dict[TreeNode, set[TreeNode]] = {}  # old parent → its rows to go
        for node, _ in todo:
            parent = node.parent
            assert parent is not None
            leaving.setdefault(parent, set()).add(node)
        for parent, going in leaving.items():
            rows = [r for r, child in enumerate(parent.children) if child in going]
            for first, last in reversed(_runs(rows)):  # from the end: earlier rows keep place
                self.beginRemoveRows(self.index_of(parent.key), first, last)
                for gone in parent.children[first:last + 1]:
                    gone.parent = None  # out of the tree until it arrives (as after _remove)
                del parent.children[first:last + 1]
                self.revision += 1
                self.endRemoveRows()
        arriving: dict[TreeNode, list[TreeNode]] = {}
        for node, parent in todo:
            arriving.setdefault(parent, []).append(node)
        for parent, nodes in arriving.items():
            first = len(parent.children)
            self.beginInsertRows(self.index_of(parent.key), first, first + len(nodes) - 1)
            for node in nodes:
                node.parent = parent
                parent.children.append(node)
            self.revision += 1
            self.endInsertRows()
        self._refresh_counts({p.key for p in leaving} | {p.key for p in arriving})
        self.rows_moved.emit(keys)

    def _relayout(self, todo: list[tuple[TreeNode, TreeNode]]) -> None:
        """Move rows (with their subtrees) in one layout change, keeping persistent indexes."""
        parents = {node.parent for node, _ in todo} | {parent for _, parent in todo}
        hint = ([] if self.root in parents else
                [QPersistentModelIndex(self.index_of(p.key)) for p in parents])
        self.layoutAboutToBeChanged[_PARENTS].emit(hint)
        held = self.persistentIndexList()
        targets = [(index.internalPointer(), index.column()) for index in held]
        moving = {node for node, _ in todo}
        for old_parent in {node.parent for node, _ in todo}:
            old_parent.children = [c for c in old_parent.children if c not in moving]
        for node, parent in todo:
            node.parent = parent
            parent.children.append(node)
        self.revision += 1
        self.changePersistentIndexList(held, [
            self.createIndex(node.row(), column, node) if isinstance(node, TreeNode)
            and node.parent is not None else QModelIndex() for node, column in targets])
        self.layoutChanged[_PARENTS].emit(hint)
        self._refresh_counts({p.key for p in parents})

    def _attach(self, node: TreeNode, parent_key: Key) -> None:
        parent = self.nodes[parent_key]
        node.parent = parent
        parent.children.append(node)
        self.nodes[node.key] = node
        self.revision += 1

    def _insert(self, node: TreeNode, parent_key: Key) -> None:
        parent = self.nodes[parent_key]
        row = len(parent.children)
        self.beginInsertRows(self.index_of(parent_key), row, row)
        self._attach(node, parent_key)
        self.endInsertRows()

    def _remove(self, node: TreeNode) -> None:
        parent = node.parent
        assert parent is not None
        row = node.row()
        self.beginRemoveRows(self.index_of(parent.key), row, row)
        parent.children.pop(row)
        for gone in node.walk():
            self.nodes.pop(gone.key, None)
            self._stats.pop(gone.key, None)
            self._cells.pop(gone, None)
            self._sort_cache.pop(gone, None)
        node.parent = None
        self.revision += 1
        self.endRemoveRows()

    def _refresh_counts(self, keys: set[Key]) -> None:
        """Counts of containers above changed rows are shown in the State column.

        The cached counts are dropped at once; with `defer_counts` the repaint of the counts
        waits for `flush_counts()` (a streaming load then repaints a few times a second, not
        once per page)."""
        seen: set[Key] = set()
        self._stats.pop(ROOT_KEY, None)
        for key in keys:
            node = self.nodes.get(key)
            while node is not None and node is not self.root and node.key not in seen:
                seen.add(node.key)
                self._stats.pop(node.key, None)  # only this chain is recounted
                node = node.parent
        if self.defer_counts:
            self._dirty_counts |= seen
        else:
            self._emit_counts(seen)

    def flush_counts(self) -> None:
        """Announce the counts that changed while `defer_counts` was on."""
        dirty, self._dirty_counts = self._dirty_counts, set()
        self._emit_counts(dirty)

    def _emit_counts(self, keys: set[Key]) -> None:
        roles = [Qt.ItemDataRole.DisplayRole, Role.SORT]
        for key in keys:
            if key in self.nodes and key[0] != DEVICE:  # only containers show counts
                idx = self.index_of(key, Column.STATE)
                self.dataChanged.emit(idx, idx, roles)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _parents_first(shape: TreeShape) -> list[tuple[Key, Key]]:
    depth: dict[Key, int] = {ROOT_KEY: 0}

    def d(key: Key) -> int:
        if key not in depth:
            depth[key] = d(shape.parents[key]) + 1
        return depth[key]

    return sorted(shape.parents.items(), key=lambda kp: d(kp[0]))
