"""Versions of impdesk and the stack under it, for --version, the About dialog and bug reports."""

from __future__ import annotations

import platform
from importlib import metadata

from impdesk import APP_NAME, __version__


def dist_version(name: str) -> str:
    """The installed version of distribution `name`, or "unknown" (frozen builds may lack it)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def version_lines() -> list[str]:
    """`impdesk X`, Python, PySide6, Qt, qasync, platform: one per line, no QApplication needed.

    Imports PySide6.QtCore only, so it works without a display.

    Raises:
        ImportError: PySide6 (or a system library it needs) is missing.
    """
    import PySide6
    from PySide6 import QtCore

    qt_runtime = QtCore.qVersion()
    qt_line = f"Qt {qt_runtime}"
    if QtCore.__version__ != qt_runtime:  # built against one Qt, running on another
        qt_line += f" (built with {QtCore.__version__})"
    return [
        f"{APP_NAME} {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"PySide6 {PySide6.__version__}",
        qt_line,
        f"qasync {dist_version('qasync')}",
        f"Platform {platform.system()} {platform.machine()}",
    ]
