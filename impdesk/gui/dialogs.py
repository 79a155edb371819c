"""Dialog helpers: an awaitable open(), an inline plain-text error label, message boxes."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from . import theme

HEADLESS_ANSWERS: dict[str, Any] | None = None  # tests set answers instead of showing boxes


async def ask(dialog: QDialog) -> bool:
    """Open a dialog without a nested event loop and await whether it was accepted.

    WORKAROUND(https://github.com/CabbageDevelopment/qasync/issues/59): exec() inside a
    coroutine breaks other tasks.
    """
    fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def done(code: int) -> None:
        if not fut.done():
            fut.set_result(code == QDialog.DialogCode.Accepted)

    dialog.finished.connect(done)
    dialog.open()
    return await fut


class WrapLabel(QLabel):
    """A word-wrapped label that asks for the height its text needs at its current width.

    QLabel's own size hint guesses a narrow width (so several lines), and QFormLayout rows
    then reserve that height: a one-line message stood in a tall, half-empty gap.
    """

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        width = self.width()
        if self.wordWrap() and width > hint.width() and self.text():
            hint.setHeight(self.heightForWidth(width))
        return hint

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.wordWrap() and event.size().width() != event.oldSize().width():
            self.updateGeometry()


class ErrorLabel(theme.FollowsPalette, WrapLabel):
    """A WrapLabel in the error colour, which it picks again when the palette changes."""

    def restyle(self) -> None:
        # Re-applying sets the same colour once more when nothing flipped: Qt then sends no
        # further PaletteChange, so this cannot loop.
        theme.apply_error_colour(self)


def error_label() -> QLabel:
    """A label for server errors: always plain text, selectable, wrapped, hidden when empty."""
    label = ErrorLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    theme.apply_error_colour(label)  # a red that also reads on a dark palette
    label.setVisible(False)
    return label


def show_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


async def warn(parent: QWidget | None, title: str, text: str) -> None:
    """A plain-text warning box with OK (server text is never read as rich text)."""
    if HEADLESS_ANSWERS is not None:
        return
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                      parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    await ask(box)


async def confirm(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    """Ask before a destructive action; the button names the verb and Cancel is the default."""
    if HEADLESS_ANSWERS is not None:
        return HEADLESS_ANSWERS.get(action, False)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    ok = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    await ask(box)
    return box.clickedButton() is ok


class ChoiceDialog(QDialog):
    """A confirmation with one choice among radio buttons; Cancel is the default button."""

    def __init__(self, parent: QWidget | None, title: str, text: str, action: str,
                 choices: list[tuple[str, str]], default: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.text = WrapLabel(text)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        for key, label in choices:
            button = QRadioButton(label)
            button.setChecked(key == default)
            self.group.addButton(button)
            self.buttons[key] = button
            layout.addWidget(button)
        box = QDialogButtonBox()
        self.ok = box.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = box.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.ok.setAutoDefault(False)
        self.cancel.setDefault(True)  # Enter never starts the action
        self.ok.clicked.connect(self.accept)
        self.cancel.clicked.connect(self.reject)
        layout.addWidget(box)

    def chosen(self) -> str:
        return next(key for key, button in self.buttons.items() if button.isChecked())


async def confirm_choice(parent: QWidget | None, title: str, text: str, action: str,
                         choices: list[tuple[str, str]], default: str) -> str | None:
    """confirm() with a choice; the chosen key, or None when cancelled.

    Headless answers: True takes `default`, a string names the choice, False cancels.
    """
    if HEADLESS_ANSWERS is not None:
        answer: Any = HEADLESS_ANSWERS.get(action, False)
        return default if answer is True else (answer or None)
    dialog = ChoiceDialog(parent, title, text, action, choices, default)
    try:
        return dialog.chosen() if await ask(dialog) else None
    finally:
        dialog.deleteLater()

