"""Uncaught exceptions open a non-modal report (redacted traceback, versions, Copy details)."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..api.redact import redact
from ..versions import version_lines

log = logging.getLogger(__name__)
_open: list[CrashDialog] = []  # keeps open reports alive (they are not modal)


def report_text(exc_type: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> str:
    """Versions plus the traceback, with every known kind of secret scrubbed."""
    body = "".join(traceback.format_exception(exc_type, exc, tb))
    try:
        versions = "\n".join(version_lines())
    except ImportError:
        versions = ""
    return redact(f"{versions}\n\n{body}".strip())


class CrashDialog(QDialog):
    """Says something went wrong, that nothing was sent anywhere, and offers the details."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CrashDialog")
        self.setWindowTitle(self.tr("impdesk ran into a problem"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(640, 420)
        intro = QLabel(self.tr(
            "An unexpected error happened. Your account was not changed by it; the action you "
            "were doing may not have finished. The details below (with secrets removed) help "
            "to report it."))
        intro.setWordWrap(True)
        self.details = QPlainTextEdit(text)
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton(self.tr("&Copy details"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(text))
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        self.finished.connect(lambda _: _open.remove(self) if self in _open else None)


def show_crash(exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None) -> CrashDialog | None:
    """The excepthook: log the redacted report and show it without blocking anything."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return None
    text = report_text(exc_type, exc, tb)
    log.error("uncaught exception:\n%s", text)
    if QApplication.instance() is None:
        return None
    dialog = CrashDialog(text, QApplication.activeWindow())
    _open.append(dialog)
    dialog.show()
    return dialog


def install() -> None:
    """Route uncaught exceptions (also from slots and tasks) to `show_crash`."""
    sys.excepthook = show_crash
