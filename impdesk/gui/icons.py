"""Icons painted at run time (crisp at any DPI, no image files): kinds, group types, states."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap

from ..api.records import Device, DeviceGroup
from ..core.tree import DEVICE, GROUP, OWNER, PRODUCT, UNASSIGNED, TreeNode

PENDING_BRUSH = QBrush(QColor("#8a8f98"))
ONLINE = "#2e9e5b"
OFFLINE = "#9aa0a6"
GROUP_COLOURS = {
    "development_devicegroup": "#3b7dd8",
    "pre_factoryfixture_devicegroup": "#b07cd8",
    "pre_dut_devicegroup": "#d89b3b",
    "pre_production_devicegroup": "#3bb5a8",
    "factoryfixture_devicegroup": "#7b4fc9",
    "dut_devicegroup": "#c77a1c",
    "production_devicegroup": "#1c8c7e",
}
SIZES = (16, 24, 32, 48)


def for_node(node: TreeNode) -> QIcon:
    p = node.payload
    if node.kind == DEVICE and isinstance(p, Device):
        return device_icon(p.online, bool(node.pending))
    if node.kind == GROUP and isinstance(p, DeviceGroup):
        return group_icon(p.type)
    if node.kind == PRODUCT:
        return product_icon()
    if node.kind == OWNER:
        return owner_icon()
    if node.kind == UNASSIGNED:
        return unassigned_icon()
    return QIcon()


def _icon(paint) -> QIcon:
    icon = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(size / 16.0, size / 16.0)
        paint(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


@lru_cache(maxsize=8)
def device_icon(online: bool, pending: bool = False) -> QIcon:
    def paint(p: QPainter) -> None:
        body = QColor("#5f6670") if not pending else QColor("#b8bcc2")
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(body)
        p.drawRoundedRect(QRectF(2.5, 3.5, 9, 9), 1.5, 1.5)
        p.setBrush(QColor("#ffffff"))
        p.drawRect(QRectF(4.5, 5.5, 5, 5))
        p.setPen(QPen(body, 1.0))
        for x in (4.5, 7.0, 9.5):
            p.drawLine(QPointF(x, 1.5), QPointF(x, 3.5))
            p.drawLine(QPointF(x, 12.5), QPointF(x, 14.5))
        # State dot (with a white ring so it reads on any background; the State column says it
        # in words too — never colour alone).
        p.setPen(QPen(QColor("#ffffff"), 1.2))
        p.setBrush(QColor(ONLINE if online else OFFLINE))
        p.drawEllipse(QPointF(12.2, 11.8), 3.1, 3.1)

    return _icon(paint)


@lru_cache(maxsize=16)
def group_icon(group_type: str) -> QIcon:
    colour = QColor(GROUP_COLOURS.get(group_type, "#6b7280"))

    def paint(p: QPainter) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        for i, alpha in ((2, 110), (1, 170), (0, 255)):
            c = QColor(colour)
            c.setAlpha(alpha)
            p.setBrush(c)
            p.drawRoundedRect(QRectF(1.5 + i * 1.5, 9.5 - i * 3.0, 11 - i, 4.5), 1.2, 1.2)

    return _icon(paint)


@lru_cache(maxsize=1)
def product_icon() -> QIcon:
    def paint(p: QPainter) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#e07b39"))
        p.drawRoundedRect(QRectF(1.5, 1.5, 13, 13), 3, 3)
        p.setBrush(QColor("#ffffff"))
        p.drawRoundedRect(QRectF(4.5, 4.5, 7, 7), 1.5, 1.5)

    return _icon(paint)


@lru_cache(maxsize=1)
def owner_icon() -> QIcon:
    def paint(p: QPainter) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#6b7280"))
        p.drawEllipse(QPointF(8, 5), 3, 3)
        p.drawRoundedRect(QRectF(2.5, 9, 11, 5.5), 2.5, 2.5)

    return _icon(paint)


@lru_cache(maxsize=1)
def unassigned_icon() -> QIcon:
    def paint(p: QPainter) -> None:
        p.setPen(QPen(QColor("#8a8f98"), 1.3, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(QRectF(2, 2, 12, 12), 2.5, 2.5)

    return _icon(paint)
