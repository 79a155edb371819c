"""Dragging devices onto groups in the account tree: the `DeviceDragDropMixin` of its model."""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, Qt

from ..core.tree import DEVICE, GROUP, UNASSIGNED
from .tree_roles import Index

DEVICE_IDS_MIME = "application/x-impdesk-device-ids"
_BASE_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DRAG_FLAGS = _BASE_FLAGS | Qt.ItemFlag.ItemIsDragEnabled
_DROP_FLAGS = _BASE_FLAGS | Qt.ItemFlag.ItemIsDropEnabled
# A device is a leaf for good: views and the sorting proxy then never ask it for children
# (without the flag the proxy kept a child mapping per device, 10,000 of them, and walked them
# all for every inserted or removed row).
_DEVICE_FLAGS = _DRAG_FLAGS | Qt.ItemFlag.ItemNeverHasChildren
_PENDING_DEVICE_FLAGS = _BASE_FLAGS | Qt.ItemFlag.ItemNeverHasChildren


class DeviceDragDropMixin:
    """Devices drag; groups and Unassigned accept them. A drop only asks (`assign_requested`):
    rows move once the service agrees."""

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        node = self.node(index)  # flags are asked per painted cell: precomputed combinations
        if node.kind == DEVICE:
            return _PENDING_DEVICE_FLAGS if node.pending else _DEVICE_FLAGS
        if node.kind in (GROUP, UNASSIGNED):
            return _DROP_FLAGS
        return _BASE_FLAGS

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [DEVICE_IDS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        ids: list[str] = []
        for index in indexes:
            node = self.node(index)
            if node.kind == DEVICE and node.id not in ids:
                ids.append(node.id)
        mime = QMimeData()
        mime.setData(DEVICE_IDS_MIME, QByteArray(json.dumps(ids).encode()))
        return mime

    def device_ids_of(self, mime: QMimeData) -> list[str]:
        if not mime.hasFormat(DEVICE_IDS_MIME):
            return []
        try:
            ids = json.loads(bytes(mime.data(DEVICE_IDS_MIME).data()).decode())
        except ValueError:
            return []
        return [i for i in ids if isinstance(i, str) and (DEVICE, i) in self.nodes]

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: Index) -> bool:
        if action != Qt.DropAction.MoveAction:
            return False
        target = self.node(parent)
        if target.kind not in (GROUP, UNASSIGNED):
            return False
        ids = self.device_ids_of(data)
        # At least one dragged device must come from somewhere else.
        return any(self.nodes[(DEVICE, i)].parent is not target for i in ids)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: Index) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = self.node(parent)
        ids = [i for i in self.device_ids_of(data) if self.nodes[(DEVICE, i)].parent is not target]
        self.assign_requested.emit(ids, target.id if target.kind == GROUP else "")
        # Rows move only once the service agrees; the view's removeRows after a MoveAction is
        # a no-op below.
        return True

    def removeRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:
        return False  # devices leave a group only when the server confirms a move
