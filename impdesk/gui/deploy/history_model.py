"""The deployments table of one group, newest first, and the rules for deleting one."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from ...api.records import Deployment, DeviceGroup
from .code import short_sha

Index = QModelIndex | QPersistentModelIndex


class Col(IntEnum):
    """Columns of the deployments table."""

    SHA = 0
    DATE = 1
    DESCRIPTION = 2
    TAGS = 3
    FLAGGED = 4
    CREATOR = 5
    STATE = 6


HEADERS = ("SHA", "Date", "Description", "Tags", "Flagged", "Creator", "Role")


def local_time(dep: Deployment) -> str:
    when = dep.created_at
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else ""


def delete_block_reason(dep: Deployment, deployments: list[Deployment],
                        group: DeviceGroup | None) -> str | None:
    """Why the service would refuse to delete `dep` (CX105 / CX106), or None.

    `deployments` is newest first; "newer" means creation order (§3.5.5).
    """
    if dep.flagged:
        return "It is flagged: unflag it before deleting it."
    min_id = group.min_supported_deployment_id if group else None
    current_id = group.current_deployment_id if group else None
    if dep.id == current_id:
        return "It is the group's current deployment."
    ids = [d.id for d in deployments]
    if min_id and min_id in ids and dep.id in ids and ids.index(dep.id) <= ids.index(min_id):
        if dep.id == min_id:
            return "It is the group's minimum supported deployment."
        return "It is newer than the group's minimum supported deployment."
    return None


class DeploymentsModel(QAbstractTableModel):
    """Rows are deployments, newest first; the group's current/minimum are marked."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.deployments: list[Deployment] = []
        self.group: DeviceGroup | None = None
        self.accounts: dict[str, str] = {}

    def set_data(self, deployments: list[Deployment], group: DeviceGroup | None,
                 accounts: dict[str, str]) -> None:
        self.beginResetModel()
        self.deployments = list(deployments)
        self.group = group
        self.accounts = dict(accounts)
        self.endResetModel()

    def replace(self, dep: Deployment) -> None:
        for row, old in enumerate(self.deployments):
            if old.id == dep.id:
                self.deployments[row] = dep
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(Col) - 1))
                return

    def deployment(self, row: int) -> Deployment | None:
        return self.deployments[row] if 0 <= row < len(self.deployments) else None

    def row_of(self, dep_id: str) -> int:
        return next((i for i, d in enumerate(self.deployments) if d.id == dep_id), -1)

    def block_reason(self, dep: Deployment) -> str | None:
        return delete_block_reason(dep, self.deployments, self.group)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.deployments)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Col)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None

    def role_text(self, dep: Deployment) -> str:
        roles = []
        if self.group is not None and dep.id == self.group.current_deployment_id:
            roles.append("current")
        if self.group is not None and dep.id == self.group.min_supported_deployment_id:
            roles.append("minimum supported")
        return " · ".join(roles)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        dep = self.deployment(index.row()) if index.isValid() else None
        if dep is None:
            return None
        col = Col(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(dep, col)
        if role == Qt.ItemDataRole.UserRole:
            return dep
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == Col.SHA:
                return dep.sha
            if col == Col.DATE and dep.created_at:
                return dep.created_at.astimezone().isoformat(sep=" ", timespec="seconds")
            if col == Col.DESCRIPTION:
                origin = dep.attributes.get("origin")
                return f"{dep.description or ''}\norigin: {origin}" if origin else None
            return None
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            if col == Col.SHA:
                font.setFamily("monospace")
            if self.group is not None and dep.id == self.group.current_deployment_id:
                font.setBold(True)
            return font
        return None

    def _display(self, dep: Deployment, col: Col) -> str:
        if col == Col.SHA:
            return short_sha(dep.sha)
        if col == Col.DATE:
            return local_time(dep)
        if col == Col.DESCRIPTION:
            return str(dep.description or "")
        if col == Col.TAGS:
            return ", ".join(dep.tags)
        if col == Col.FLAGGED:
            return "⚑ flagged" if dep.flagged else ""
        if col == Col.CREATOR:
            creator = dep.rel_id("creator")
            return self.accounts.get(creator, creator[:8]) if creator else ""
        return self.role_text(dep)
