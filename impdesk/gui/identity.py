"""What the window knows about its connection, the demo sign-ins, and the application icon."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPixmap

from impdesk.resources import HICOLOR_SIZES_PX, ICON_SVG, hicolor_png, read_asset

HEADER_ICON_PX = 48
DEMO_BADGE_STYLE = (
    "QLabel#demoBadge { background: #d9480f; color: white; font-weight: bold;"
    " border-radius: 6px; padding: 3px 10px; }"
)


@dataclass(frozen=True)
class DemoAccount:
    """One sign-in of the demo data set (contract §8.10, README "Demo credentials")."""

    username: str
    email: str
    password: str
    note: str = ""


@dataclass(frozen=True)
class ConnectionInfo:
    """What the window shows about the API it talks to; `demo` marks the embedded emulator."""

    endpoint: str
    demo: bool = False
    control_url: str | None = None
    accounts: tuple[DemoAccount, ...] = field(default_factory=tuple)


def app_icon() -> QIcon:
    """The application icon: the hicolor PNGs (hinted small sizes), so any DPI finds a crisp one."""
    icon = QIcon()
    for size in HICOLOR_SIZES_PX:
        pixmap = QPixmap()
        if pixmap.loadFromData(read_asset(hicolor_png(size)), "PNG"):
            icon.addPixmap(pixmap)
    if icon.isNull():  # no PNGs bundled: fall back to the SVG source
        icon.addPixmap(render_svg_icon(256))
    return icon


def render_svg_icon(size: int) -> QPixmap:
    """The scalable icon rendered at `size` px; a null pixmap if Qt's SVG support is missing."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    if not pixmap.loadFromData(read_asset(ICON_SVG), "SVG"):
        return QPixmap()
    if pixmap.width() != size:
        pixmap = pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
    return pixmap
