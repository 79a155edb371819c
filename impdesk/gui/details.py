"""The details pane: every attribute of the selected item, copyable; the agent URL clickable."""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..api.records import Resource
from ..core.tree import TreeNode

AGENT_URL_PREFIX = "https://agent.electricimp.com/"


class DetailsPane(QWidget):
    """Shows a TreeNode's resource as an attribute/value table (plain text, selectable)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("detailsTable")
        self.table.setHorizontalHeaderLabels([self.tr("Attribute"), self.tr("Value")])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        self.show_node(None)

    def show_node(self, node: TreeNode | None, extra: dict[str, str] | None = None) -> None:
        self.table.setRowCount(0)
        payload = node.payload if node is not None else None
        if node is None:
            self.title.setText(self.tr("Select an item to see its details"))
            return
        rows: list[tuple[str, Any]] = []
        if isinstance(payload, Resource):
            self.title.setText(payload.name or payload.id)
            rows.append(("id", payload.id))
            rows.append(("type", payload.type))
            rows += sorted((k, v) for k, v in payload.attributes.items() if not k.startswith("_"))
            rows += [(f"{name} →", f"{ref[0]} {ref[1]}")
                     for name, ref in sorted(payload.relationships.items())]
        else:
            self.title.setText(node.id or node.kind)
        rows += list((extra or {}).items())
        self.table.setRowCount(len(rows))
        for row, (key, value) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(key))
            text = _text(value)
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            self.table.setItem(row, 1, item)
            if key == "agent_url" and isinstance(value, str) and value.startswith(
                    AGENT_URL_PREFIX):
                item.setForeground(Qt.GlobalColor.transparent)  # the link label paints it
                link = QLabel(f'<a href="{html.escape(value, quote=True)}">'
                              f"{html.escape(value)}</a>")
                link.setTextFormat(Qt.TextFormat.RichText)
                link.setOpenExternalLinks(True)
                link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
                self.table.setCellWidget(row, 1, link)

    def value_of(self, key: str) -> str | None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == key:
                return self.table.item(row, 1).text()
        return None


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
