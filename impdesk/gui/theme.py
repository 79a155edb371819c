"""Colours that follow the system palette (light or dark) instead of assuming a light one."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

DARK_WINDOW_LIGHTNESS = 128  # HSL lightness of the window colour below which a palette is dark
ERROR_ON_LIGHT = "#b3261e"
ERROR_ON_DARK = "#ff8a80"


def is_dark(palette: QPalette | None = None) -> bool:
    """True when `palette` (default: the application's) draws light text on a dark window."""
    if palette is None:
        palette = QGuiApplication.palette()
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    return window.lightness() < DARK_WINDOW_LIGHTNESS and text.lightness() > window.lightness()


def error_colour(palette: QPalette | None = None) -> QColor:
    """A red that reads on the palette's window colour (WCAG AA on default light/dark themes)."""
    return QColor(ERROR_ON_DARK if is_dark(palette) else ERROR_ON_LIGHT)


def apply_error_colour(widget: QWidget) -> None:
    """Paint `widget`'s text in the error colour through its palette (no style sheet)."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, error_colour(palette))
    palette.setColor(QPalette.ColorRole.Text, error_colour(palette))
    widget.setPalette(palette)
