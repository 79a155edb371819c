"""What the window knows about its connection, the demo sign-ins, and the application icon."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPixmap

from impdesk.resources import ICON_SVG, read_asset

ICON_SIZES_PX = (16, 24, 32, 48, 64, 128, 256)
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
    """The application icon, rendered from the bundled SVG at the usual sizes."""
    data = read_asset(ICON_SVG)
    icon = QIcon()
    for size in ICON_SIZES_PX:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        if pixmap.loadFromData(data, "SVG"):
            icon.addPixmap(
                pixmap.scaled(
                    size,
                    size,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
    return icon


