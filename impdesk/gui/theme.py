"""Colours that follow the system palette (light or dark) instead of assuming a light one."""

from __future__ import annotations

from PySide6.QtCore import QEvent
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


class FollowsPalette:
    """Widget mixin (before the Qt class): `restyle()` runs whenever the palette changes.

    Every widget gets PaletteChange when the system goes dark or light while impdesk runs;
    colours picked from the old palette must then be picked again.
    """

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)  # type: ignore[misc]
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()

    def restyle(self) -> None:
        raise NotImplementedError


def error_colour(palette: QPalette | None = None) -> QColor:
    """A red that reads on the palette's window colour (WCAG AA on default light/dark themes)."""
    return QColor(ERROR_ON_DARK if is_dark(palette) else ERROR_ON_LIGHT)


def apply_error_colour(widget: QWidget) -> None:
    """Paint `widget`'s text in the error colour through its palette (no style sheet)."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, error_colour(palette))
    palette.setColor(QPalette.ColorRole.Text, error_colour(palette))
    widget.setPalette(palette)


def pick(light: str, dark: str, palette: QPalette | None = None) -> QColor:
    """`light` or `dark` (hex colours), whichever reads on the palette's window and base."""
    return QColor(dark if is_dark(palette) else light)


def ok_colour(palette: QPalette | None = None) -> QColor:
    """A green for "ok" results (WCAG AA on the default light and dark palettes)."""
    return pick("#1b6e2e", "#81c995", palette)


def warning_colour(palette: QPalette | None = None) -> QColor:
    """An amber for warnings that is dark enough on white and light enough on black."""
    return pick("#8a5300", "#ffcc66", palette)


def muted_colour(palette: QPalette | None = None) -> QColor:
    """Grey for skipped or secondary items: the palette's placeholder text colour."""
    if palette is None:
        palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.PlaceholderText)


def error_background(palette: QPalette | None = None) -> QColor:
    """A tint behind rows or cells in error; the normal text colour stays readable on it."""
    return pick("#fdecea", "#4a2626", palette)
