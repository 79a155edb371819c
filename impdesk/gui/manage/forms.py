"""Form dialogs that check input inline, send it, and show server errors verbatim in place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...api.errors import ApiError
from ...core.cascade import error_text
from ...core.manage import InputError
from ...core.validation import DESCRIPTION_MAX, NAME_MAX, check_description, check_name
from .. import dialogs

Submit = Callable[[dict[str, Any]], Awaitable[None]]


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows server strings as they are (`<b>x</b>` stays those characters)."""
    label = dialogs.WrapLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setText(text)
    return label


def hint_label() -> QLabel:
    label = dialogs.error_label()
    label.setObjectName("fieldHint")
    return label


class SubmitDialog(QDialog):
    """OK checks `problems()` first, then awaits `submit(values())`; errors stay in the dialog."""

    def __init__(self, title: str, verb: str, submit: Submit, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.submit = submit
        self.task: asyncio.Task | None = None
        self.error = dialogs.error_label()
        self.error.setObjectName("serverError")
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok: QPushButton = self.buttons.addButton(verb, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.clicked.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        layout = self.main_layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        self.body = QVBoxLayout()
        layout.addLayout(self.body)
        layout.addWidget(self.error)
        layout.addStretch(1)  # spare height below the fields, not between them
        layout.addWidget(self.buttons)
        # Only now is the button inside the dialog: before, setDefault() found no dialog, and
        # Enter pressed the first button in the focus chain (Cancel, or "Add variable").
        self.ok.setDefault(True)

    # subclasses
    def values(self) -> dict[str, Any]:
        return {}

    def problems(self) -> list[str]:
        """Messages for input that would be refused; shown inline next to their fields."""
        return []

    def try_accept(self) -> None:
        dialogs.show_error(self.error, None)
        if self.problems():
            return
        self.ok.setEnabled(False)
        self.task = asyncio.ensure_future(self._send(self.values()))

    async def _send(self, values: dict[str, Any]) -> None:
        try:
            await self.submit(values)
        except (ApiError, InputError) as exc:
            self.show_server_error(exc)
        else:
            self.accept()
        finally:
            self.ok.setEnabled(True)

    def show_server_error(self, exc: BaseException) -> None:
        dialogs.show_error(self.error, error_text(exc))


class NameFields:
    """A name field with its inline hint, checked against the names taken in its scope."""

    def __init__(self, dialog: SubmitDialog, name: str, taken: set[str], what: str,
                 required: bool = True) -> None:
        self.edit = QLineEdit(name)
        self.edit.setObjectName("nameEdit")
        self.edit.setMaxLength(NAME_MAX + 20)  # longer input is allowed so the hint can explain
        self.hint = hint_label()
        self.taken, self.what, self.required = taken, what, required
        dialog.form.addRow(dialog.tr("&Name:"), self.edit)
        self.edit.setFocus()  # not the buttons, which were made first
        dialog.form.addRow("", self.hint)
        self.edit.textChanged.connect(lambda _: self.check())

    def check(self) -> str | None:
        text = self.edit.text()
        if not self.required and not text:
            problem = None
        elif not self.required:
            problem = None if len(text) <= NAME_MAX else check_name(text, (), self.what)
        else:
            problem = check_name(text, self.taken, self.what)
        dialogs.show_error(self.hint, problem)
        return problem


class DescriptionField:
    def __init__(self, dialog: SubmitDialog, text: str | None) -> None:
        self.edit = QPlainTextEdit(text or "")
        self.edit.setObjectName("descriptionEdit")
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(72)
        self.edit.setPlaceholderText(dialog.tr("Optional, up to %d characters") % DESCRIPTION_MAX)
        self.hint = hint_label()
        dialog.form.addRow(dialog.tr("&Description:"), self.edit)
        dialog.form.addRow("", self.hint)
        self.edit.textChanged.connect(self.check)

    def text(self) -> str:
        return self.edit.toPlainText()

    def check(self) -> str | None:
        problem = check_description(self.text())
        dialogs.show_error(self.hint, problem)
        return problem


class ProductDialog(SubmitDialog):
    """Create a product, or edit its name and description."""

    def __init__(self, submit: Submit, taken: set[str], name: str = "",
                 description: str | None = None, editing: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Edit product") if editing else self.tr("New product"),
                         self.tr("Save") if editing else self.tr("Create"), submit, parent)
        self.setObjectName("ProductDialog")
        self.name = NameFields(self, name, taken, "product")
        self.description = DescriptionField(self, description)
        self.resize(440, 260)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.edit.text(), "description": self.description.text()}

    def problems(self) -> list[str]:
        return [p for p in (self.name.check(), self.description.check()) if p]


class RenameDialog(SubmitDialog):
    """Rename a product, group or device (device names may be cleared)."""

    def __init__(self, what: str, submit: Submit, name: str, taken: set[str],
                 required: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Rename %s") % what, self.tr("Rename"), submit, parent)
        self.setObjectName("RenameDialog")
        self.name = NameFields(self, name, taken, what, required)
        self.name.edit.selectAll()
        if not required:
            self.body.addWidget(plain_label(self.tr("Leave empty to clear the name.")))
        self.resize(420, 150)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.edit.text()}

    def problems(self) -> list[str]:
        problem = self.name.check()
        return [problem] if problem else []
