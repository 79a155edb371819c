"""The account tree model: Products → Device Groups → Devices, with precise updates and DnD."""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
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
    UNASSIGNED_KEY,
    Key,
    Plan,
    TreeNode,
    TreeShape,
    plan,
)
from . import icons

DEVICE_IDS_MIME = "application/x-impdesk-device-ids"
Index = QModelIndex | QPersistentModelIndex

GROUP_TYPE_LABELS = {
    "development_devicegroup": "Development",
    "pre_factoryfixture_devicegroup": "Test factory fixture",
    "pre_dut_devicegroup": "Test DUT",
    "pre_production_devicegroup": "Test production",
    "factoryfixture_devicegroup": "Factory fixture",
    "dut_devicegroup": "DUT",
    "production_devicegroup": "Production",
}


class Column(IntEnum):
    """The tree's columns."""

    NAME = 0  #: product, group or device name
    TYPE = 1  #: kind / group type / imp type
    STATE = 2  #: online state, or "12 devices · 9 online" for containers
    DEVICE_ID = 3  #: device id
    AGENT = 4  #: agent running or stopped
    IMPOS = 5  #: impOS version
    RSSI = 6  #: signal strength in dBm
    DEPLOYMENT = 7  #: current deployment (groups) / running deployment sha (devices)


NCOLS = len(Column)
_LIVE_SORT = frozenset({int(Column.STATE), int(Column.DEPLOYMENT)})
_BASE_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DRAG_FLAGS = _BASE_FLAGS | Qt.ItemFlag.ItemIsDragEnabled
_DROP_FLAGS = _BASE_FLAGS | Qt.ItemFlag.ItemIsDropEnabled
DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
# Roles the delegate asks for every cell that this model never answers (a quick None).
_UNANSWERED = frozenset(int(r) for r in (
    Qt.ItemDataRole.SizeHintRole, Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.CheckStateRole,
    Qt.ItemDataRole.StatusTipRole, Qt.ItemDataRole.WhatsThisRole,
    Qt.ItemDataRole.EditRole))

HEADERS = {
    Column.NAME: "Name", Column.TYPE: "Type", Column.STATE: "State",
    Column.DEVICE_ID: "Device ID", Column.AGENT: "Agent", Column.IMPOS: "impOS",
    Column.RSSI: "RSSI", Column.DEPLOYMENT: "Deployment",
}


class Role(IntEnum):
    """Custom data roles."""

    NODE = Qt.ItemDataRole.UserRole  #: the TreeNode itself
    KIND = Qt.ItemDataRole.UserRole + 1  #: "product", "group", "device", "owner", "unassigned"
    SORT = Qt.ItemDataRole.UserRole + 2  #: a sortable value for the column
    ID = Qt.ItemDataRole.UserRole + 3  #: the resource id
    FILTER = Qt.ItemDataRole.UserRole + 4  #: text the filter box matches (name, ids, MAC, type)


def impos_version(swversion: str | None) -> str:
    """`release-42.7` from an impOS build string, else the string itself."""
    if not swversion:
        return ""
    for part in swversion.split(" - "):
        if part.startswith("release-"):
            return part[len("release-"):]
    return swversion


class AccountTreeModel(QAbstractItemModel):
    """Adapts a tree of TreeNodes to Qt; fed by `apply(shape)`, never touching the network.

    Signals:
        assign_requested(list[str] device ids, str target group id or "" for Unassigned)
    """

    assign_requested = Signal(list, str)

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
            return self._filter_text(node)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.NAME:
            return icons.for_node(node)
        if role == Qt.ItemDataRole.ToolTipRole:
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

    def _filter_text(self, node: TreeNode) -> str:
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

    # -- updates -----------------------------------------------------------------------------------
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
            self.move_node(key, parent_key)
            node.payload = shape.payloads.get(key)
        for key in todo.removed:
            node = self.nodes.get(key)
            if node is not None and node.parent is not None:
                touched.add(node.parent.key)
                self._remove(node)
        for key in todo.changed:
            self.set_payload(key, shape.payloads.get(key))
            touched.add(key)
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

    def set_payload(self, key: Key, payload: Any) -> None:
        node = self.nodes.get(key)
        if node is None:
            return
        node.payload = payload
        self.revision += 1
        self.dataChanged.emit(self.index_of(key, 0), self.index_of(key, NCOLS - 1))

    def set_pending(self, keys: list[Key], pending: str | None) -> None:
        for key in keys:
            node = self.nodes.get(key)
            if node is not None:
                node.pending = pending
                self.dataChanged.emit(self.index_of(key, 0), self.index_of(key, NCOLS - 1))

    def move_node(self, key: Key, new_parent_key: Key) -> bool:
        """Move a row under another parent (appended); False when impossible."""
        node = self.nodes.get(key)
        new_parent = self.nodes.get(new_parent_key)
        if node is None or new_parent is None or node.parent is None:
            return False
        old_parent = node.parent
        if old_parent is new_parent:
            return True
        row = node.row()
        src = self.index_of(old_parent.key)
        dst = self.index_of(new_parent.key)
        if not self.beginMoveRows(src, row, row, dst, len(new_parent.children)):
            return False
        old_parent.children.pop(row)
        node.parent = new_parent
        new_parent.children.append(node)
        self.revision += 1
        self.endMoveRows()
        self._refresh_counts({old_parent.key, new_parent.key})
        return True

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
            if key in self.nodes:
                idx = self.index_of(key, Column.STATE)
                self.dataChanged.emit(idx, idx, roles)

    # -- drag and drop -----------------------------------------------------------------------------
    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        node = self.node(index)  # flags are asked per painted cell: precomputed combinations
        if node.kind == DEVICE and not node.pending:
            return _DRAG_FLAGS
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


def _parents_first(shape: TreeShape) -> list[tuple[Key, Key]]:
    depth: dict[Key, int] = {ROOT_KEY: 0}

    def d(key: Key) -> int:
        if key not in depth:
            depth[key] = d(shape.parents[key]) + 1
        return depth[key]

    return sorted(shape.parents.items(), key=lambda kp: d(kp[0]))
