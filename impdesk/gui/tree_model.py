"""The account tree model: Products → Device Groups → Devices as Qt rows, columns and data."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from ..api.records import Account, Device, DeviceGroup, Product
from ..core.tree import (
    DEVICE,
    GROUP,
    OWNER,
    PRODUCT,
    ROOT,
    ROOT_KEY,
    UNASSIGNED,
    Key,
    TreeNode,
)
from . import icons
from .tree_dnd import DEVICE_IDS_MIME, DeviceDragDropMixin
from .tree_roles import GROUP_TYPE_LABELS, HEADERS, NCOLS, Column, Index, Role, impos_version
from .tree_updates import TreeUpdatesMixin

__all__ = ["DEVICE_IDS_MIME", "GROUP_TYPE_LABELS", "HEADERS", "NCOLS", "AccountTreeModel", "Column",
           "Index", "Role", "impos_version"]

_LIVE_SORT = frozenset({int(Column.STATE), int(Column.DEPLOYMENT)})
DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
# Roles the delegate asks for every cell that this model never answers (a quick None).
_UNANSWERED = frozenset(int(r) for r in (
    Qt.ItemDataRole.SizeHintRole, Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.CheckStateRole,
    Qt.ItemDataRole.StatusTipRole, Qt.ItemDataRole.WhatsThisRole,
    Qt.ItemDataRole.EditRole))


class AccountTreeModel(TreeUpdatesMixin, DeviceDragDropMixin, QAbstractItemModel):
    """Adapts a tree of TreeNodes to Qt; fed by `apply(shape)`, never touching the network.

    Updates come from `TreeUpdatesMixin`, drag and drop from `DeviceDragDropMixin`.

    Signals:
        assign_requested(list[str] device ids, str target group id or "" for Unassigned)
        rows_moving(list[Key]) / rows_moved(list[Key]): devices are about to be taken out
            and put back under new parents (removed and inserted rows, see `move_nodes`)
    """

    assign_requested = Signal(list, str)
    rows_moving = Signal(list)
    rows_moved = Signal(list)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.root = TreeNode(ROOT, "")
        self.nodes: dict[Key, TreeNode] = {ROOT_KEY: self.root}
        self.me_id: str | None = None
        self.deployment_names: dict[str, str] = {}
        self._stats: dict[Key, tuple[int, int]] = {}
        self._sort_cache: dict[TreeNode, tuple[Any, str | None, list[Any]]] = {}
        self._cells: dict[TreeNode, tuple[Any, str | None, tuple[str, ...]]] = {}  # devices
        self.revision = 0  # bumped by every structural or payload change (see apply(plan=))
        self.defer_counts = False  # while devices stream in: counts repaint on flush_counts()
        self._dirty_counts: set[Key] = set()

    # -- structure ---------------------------------------------------------------------------
    def node(self, index: Index) -> TreeNode:
        if index.isValid():
            ptr = index.internalPointer()
            if isinstance(ptr, TreeNode):
                return ptr
        return self.root

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        # Hot path (the proxy and the view call it thousands of times per paint): kept lean.
        if column < 0 or column >= NCOLS or row < 0:
            return QModelIndex()
        if parent.isValid():
            if parent.column() != 0:
                return QModelIndex()
            parent_node = parent.internalPointer()
            if not isinstance(parent_node, TreeNode):
                parent_node = self.root
        else:
            parent_node = self.root
        children = parent_node.children
        if row >= len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        parent_node = self.node(index).parent
        if parent_node is None or parent_node is self.root:
            return QModelIndex()
        return self.createIndex(parent_node.row(), 0, parent_node)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return NCOLS

    def index_of(self, key: Key, column: int = 0) -> QModelIndex:
        node = self.nodes.get(key)
        if node is None or node is self.root:
            return QModelIndex()
        return self.createIndex(node.row(), column, node)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(Column(section)) if 0 <= section < len(Column) else None
        return None

    # -- data ------------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in _UNANSWERED or not index.isValid():
            return None
        node = index.internalPointer()
        if not isinstance(node, TreeNode):
            return None
        column = index.column()
        if role == DISPLAY:
            if node.kind == DEVICE:
                return self._device_cells(node)[column]
            return self._display(node, Column(column))
        if role == DECORATION:
            return icons.for_node(node) if column == Column.NAME else None
        column = Column(column)
        if role == Role.SORT:
            return self.sort_key(node, column)
        if role == Role.NODE:
            return node
        if role == Role.KIND:
            return node.kind
        if role == Role.ID:
            return node.id
        if role == Role.FILTER:
            return self.filter_text(node)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.NAME:
            return icons.for_node(node)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.DEPLOYMENT:  # the column most often too narrow: its whole text
                return self._display(node, column) or self._tooltip(node)
            return self._tooltip(node)
        if role == Qt.ItemDataRole.FontRole and (node.pending or node.kind in (OWNER, UNASSIGNED)):
            font = QFont()
            font.setItalic(bool(node.pending))
            font.setBold(node.kind in (OWNER, UNASSIGNED) and not node.pending)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and node.pending:
            return icons.PENDING_BRUSH
        if role == Qt.ItemDataRole.AccessibleTextRole and column == Column.NAME:
            return f"{self._kind_label(node)} {self._display(node, column)}"
        return None

    def _device_cells(self, node: TreeNode) -> tuple[str, ...]:
        """A device row's texts, computed once per payload (painting asks for them often)."""
        hit = self._cells.get(node)
        if hit is not None and hit[0] is node.payload and hit[1] == node.pending:
            return hit[2]
        cells = tuple(self._display(node, column) for column in Column)
        self._cells[node] = (node.payload, node.pending, cells)
        return cells

    def _kind_label(self, node: TreeNode) -> str:
        return {PRODUCT: "Product", GROUP: "Device group", DEVICE: "Device",
                OWNER: "Shared by", UNASSIGNED: ""}.get(node.kind, "")

    def _display(self, node: TreeNode, column: Column) -> str:
        p = node.payload
        if column == Column.NAME:
            if node.kind == UNASSIGNED:
                return "Unassigned devices"
            if node.kind == OWNER:
                return f"Shared by {p.name if isinstance(p, Account) else node.id}"
            if isinstance(p, Device):
                name = p.display_name
                return f"{name} (moving…)" if node.pending else name
            return p.name if p is not None else node.id
        if column == Column.TYPE:
            if isinstance(p, DeviceGroup):
                return GROUP_TYPE_LABELS.get(p.type, p.type)
            if isinstance(p, Device):
                return p.imp_type
            return {PRODUCT: "Product", OWNER: "Account"}.get(node.kind, "")
        if column == Column.STATE:
            if isinstance(p, Device):
                return "Online" if p.online else "Offline"
            if node.kind in (PRODUCT, GROUP, UNASSIGNED, OWNER):
                total, online = self.stats(node)
                noun = "device" if total == 1 else "devices"
                return f"{total} {noun} · {online} online"
            return ""
        if isinstance(p, Device):
            if column == Column.DEVICE_ID:
                return p.id
            if column == Column.AGENT:
                return "Running" if p.attributes.get("agent_running") else "Stopped"
            if column == Column.IMPOS:
                return impos_version(p.attributes.get("swversion"))
            if column == Column.RSSI:
                rssi = p.attributes.get("rssi")
                return f"{rssi} dBm" if isinstance(rssi, int) else ""
            return ""
        if isinstance(p, DeviceGroup) and column == Column.DEPLOYMENT:
            dep = p.current_deployment_id
            return self.deployment_names.get(dep, dep[:8]) if dep else "—"
        return ""

    def sort_key(self, node: TreeNode, column: int) -> Any:
        """The sort value, cached while the node's payload and pending mark stay the same
        (the proxy compares rows many times while devices stream in)."""
        if column in _LIVE_SORT:  # counts and deployment names change apart from the payload
            return self._sort_value(node, Column(column))
        hit = self._sort_cache.get(node)
        if hit is None or hit[0] is not node.payload or hit[1] != node.pending:
            hit = self._sort_cache[node] = (node.payload, node.pending, [None] * NCOLS)
        values = hit[2]
        value = values[column]
        if value is None:
            value = values[column] = self._sort_value(node, Column(column))
        return value

    def _sort_value(self, node: TreeNode, column: Column) -> Any:
        # Containers first in a fixed order, then by the column's natural value.
        rank = {OWNER: 1, UNASSIGNED: 2}.get(node.kind, 0)
        p = node.payload
        if column == Column.RSSI and isinstance(p, Device):
            rssi = p.attributes.get("rssi")
            return (rank, rssi if isinstance(rssi, int) else -999, "")
        if column == Column.STATE and node.kind != DEVICE:
            return (rank, self.stats(node)[0], "")
        return (rank, 0, self._display(node, column).casefold())

    def filter_text(self, node: TreeNode) -> str:
        """What the filter box searches: name, type, and a device's id, MAC and agent id."""
        p = node.payload
        parts = [self._display(node, Column.NAME), self._display(node, Column.TYPE)]
        if isinstance(p, Device):
            parts += [p.id, p.mac_address, p.agent_id or ""]
        elif isinstance(p, DeviceGroup):
            parts.append(p.type)
        return "\n".join(parts)

    def _tooltip(self, node: TreeNode) -> str | None:
        p = node.payload
        if isinstance(p, Device):
            return f"{p.display_name}\n{p.id} · {p.mac_address}"
        if isinstance(p, Product | DeviceGroup) and p.description:
            return str(p.description)
        return None

    def stats(self, node: TreeNode) -> tuple[int, int]:
        """(devices, online devices) below a node; cached until the tree changes."""
        cached = self._stats.get(node.key)
        if cached is None:
            total = online = 0
            for child in node.children:  # containers add up their (cached) children
                if child.kind == DEVICE:
                    if isinstance(child.payload, Device):
                        total += 1
                        online += child.payload.online
                else:
                    sub_total, sub_online = self.stats(child)
                    total += sub_total
                    online += sub_online
            cached = self._stats[node.key] = (total, online)
        return cached
