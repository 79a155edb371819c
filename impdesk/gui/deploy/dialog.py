"""The Deploy dialog: code from files or the current deployment, details, restart, minimum."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ... import settings as keys
from ...api.errors import ApiError, CompileError
from ...api.records import DeviceGroup
from .. import theme
from ..dialogs import error_label, show_error
from ..tasks import TaskSet
from . import AFTER_CHOICES, NOTHING, DeployOutcome, DeployRequest
from .code import (
    FILE_LABELS,
    FILES,
    MAX_CODE_BYTES,
    MAX_TEXT,
    CodeFileError,
    CompilerMessage,
    compiler_messages,
    deployment_label,
    file_size,
    format_size,
    parse_tags,
    read_code_file,
    tags_problem,
)
from .highlight import CodeView

if TYPE_CHECKING:
    from . import DeployFeature

CODE_FILTER = "Squirrel code (*.nut *.nut.txt *.txt);;All files (*)"
MNEMONIC_LABELS = {"agent_code": "&Agent code:", "device_code": "De&vice code:"}


def plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class MessagesPane(theme.FollowsPalette, QSplitter):
    """Compiler errors and warnings as "file:line:column message"; a click shows the line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.list = QListWidget()
        self.list.setObjectName("compilerMessages")
        self.code = CodeView()
        self.code.setObjectName("compilerCode")
        self.code.setMinimumHeight(120)
        self.addWidget(self.list)
        self.addWidget(self.code)
        self.setStretchFactor(0, 1)  # a few lines of messages, the rest for the code
        self.setStretchFactor(1, 3)
        self.setChildrenCollapsible(False)
        self.codes: dict[str, str] = {}
        self.list.currentRowChanged.connect(self._show)
        self.setVisible(False)

    def set_messages(self, messages: list[CompilerMessage], codes: dict[str, str]) -> None:
        self.codes = dict(codes)
        self.list.clear()
        for msg in messages:
            item = QListWidgetItem(msg.line())
            item.setData(Qt.ItemDataRole.UserRole, msg)
            self.list.addItem(item)
        self.restyle()
        self.setVisible(bool(messages))
        if messages:
            self.list.setCurrentRow(0)

    def restyle(self) -> None:
        """Errors red, warnings amber, in the shades that read on the current palette."""
        palette = self.list.palette()
        for row in range(self.list.count()):
            item = self.list.item(row)
            msg = item.data(Qt.ItemDataRole.UserRole)
            item.setForeground(theme.error_colour(palette) if msg.kind == "error"
                               else theme.warning_colour(palette))

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _show(self, row: int) -> None:
        item = self.list.item(row)
        if item is None:
            return
        msg: CompilerMessage = item.data(Qt.ItemDataRole.UserRole)
        self.code.set_code(self.codes.get(msg.file, ""))
        self.shown_line = self.code.show_position(msg.row, msg.column)


class DeployDialog(QDialog):
    """Collects a DeployRequest, validates it, and runs it with the dialog kept open."""

    def __init__(self, feature: DeployFeature, group: DeviceGroup,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feature = feature
        self.group = group
        self.settings = feature.window.settings
        self.tasks = TaskSet()
        self.outcome: DeployOutcome | None = None
        self.busy = False
        self.setObjectName("DeployDialog")
        self.setWindowTitle(self.tr("Deploy to %s") % feature.group_title(group))
        current = group.current_deployment_id
        names = feature.window.model.deployment_names
        now = plain_label(self.tr("Current deployment: %s") % (
            names.get(current, current[:8]) if current else self.tr("none yet")))

        code_box = QGroupBox(self.tr("Code"))
        self.from_files = QRadioButton(self.tr("From &files"))
        self.from_current = QRadioButton(self.tr("&Same code as the current deployment"))
        if not current:
            self.from_current.setToolTip(self.tr("This group has no deployment yet."))
        self.from_current.setEnabled(bool(current))
        self.from_files.setChecked(True)
        grid = QGridLayout(code_box)
        grid.addWidget(self.from_files, 0, 0, 1, 2)
        grid.addWidget(self.from_current, 0, 2, 1, 2)
        self.paths: dict[str, QLineEdit] = {}
        self.sizes: dict[str, QLabel] = {}
        self.browse: dict[str, QPushButton] = {}
        for row, kind in enumerate(FILES, start=1):
            edit = QLineEdit(str(self.settings.value(self._key(kind), "") or ""))
            edit.setObjectName(f"{kind}_path")
            edit.setPlaceholderText(self.tr("Choose a .nut file"))
            button = QPushButton(self.tr("Browse…"))
            button.setAutoDefault(False)  # Enter deploys; it never opens a file chooser
            button.setAccessibleName(self.tr("Browse for the %s file") % self.tr(
                FILE_LABELS[kind]).lower())
            button.clicked.connect(lambda _=False, k=kind: self._browse(k))
            size = plain_label()
            size.setMinimumWidth(90)
            edit.textChanged.connect(lambda _t, k=kind: self._update_size(k))
            label = QLabel(self.tr(MNEMONIC_LABELS[kind]))  # static text with a mnemonic
            label.setBuddy(edit)
            grid.addWidget(label, row, 0)
            grid.addWidget(edit, row, 1, 1, 2)
            grid.addWidget(button, row, 3)
            grid.addWidget(size, row, 4)
            self.paths[kind], self.sizes[kind], self.browse[kind] = edit, size, button
            self._update_size(kind)
        self.from_files.toggled.connect(self._sync)

        details = QGroupBox(self.tr("Details"))
        form = QFormLayout(details)
        self.description = QLineEdit()
        self.description.setMaxLength(MAX_TEXT)
        self.origin = QLineEdit("impdesk")
        self.origin.setMaxLength(MAX_TEXT)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText(self.tr("e.g. release, v1.2 (letters, digits, _ - * .)"))
        self.flagged = QCheckBox(self.tr("F&lag it (flagged deployments cannot be deleted)"))
        form.addRow(self.tr("&Description:"), self.description)
        form.addRow(self.tr("&Origin:"), self.origin)
        form.addRow(self.tr("&Tags:"), self.tags)
        form.addRow("", self.flagged)

        after = QGroupBox(self.tr("After deploying"))
        after_layout = QVBoxLayout(after)
        self.after = QButtonGroup(self)
        self.after_buttons: dict[str, QRadioButton] = {}
        for value, text in AFTER_CHOICES:
            button = QRadioButton(self.tr(text))
            self.after.addButton(button)
            self.after_buttons[value] = button
            after_layout.addWidget(button)
        self.after_buttons[NOTHING].setChecked(True)
        self.make_minimum = QCheckBox(self.tr("Make it the &minimum supported deployment"))
        after_layout.addWidget(self.make_minimum)

        self.error = error_label()
        self.error.setObjectName("deployError")
        self.messages = MessagesPane()
        self.state = plain_label()
        buttons = QDialogButtonBox()
        self.cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.submit = buttons.addButton(self.tr("Deploy"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel.clicked.connect(self.reject)
        self.submit.clicked.connect(self._on_submit)
        bottom = QHBoxLayout()
        bottom.addWidget(self.state, 1)
        bottom.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(now)
        layout.addWidget(code_box)
        layout.addWidget(details)
        layout.addWidget(after)
        layout.addWidget(self.error)
        layout.addWidget(self.messages, 1)
        layout.addStretch(0)  # while there are no messages, spare height goes below the form
        layout.addLayout(bottom)
        self.submit.setDefault(True)  # inside the dialog now, so Enter deploys (not Cancel)
        self.inputs: list[QWidget] = [code_box, details, after]
        self._sync()
        self.resize(720, self.sizeHint().height())

    # -- inputs ------------------------------------------------------------------------------
    def _key(self, kind: str) -> str:
        return f"{keys.DEPLOY_FILES}/{self.group.id}/{kind}"

    def _sync(self) -> None:
        files = self.from_files.isChecked()
        for kind in FILES:
            self.paths[kind].setEnabled(files)
            self.browse[kind].setEnabled(files)
            self.sizes[kind].setEnabled(files)

    def _update_size(self, kind: str) -> None:
        path = self.paths[kind].text().strip()
        size = file_size(path) if path else None
        label = self.sizes[kind]
        if not path:
            label.setText("")
        elif size is None:
            label.setText(self.tr("not found"))
        elif size > MAX_CODE_BYTES:
            label.setText(self.tr("%s (too large)") % format_size(size))
        else:
            label.setText(format_size(size))

    def _browse(self, kind: str) -> None:
        current = self.paths[kind].text().strip()
        start = os.path.dirname(current) if current else ""
        dialog = QFileDialog(self, self.tr("Choose the %s file") % self.tr(FILE_LABELS[kind]),
                             start, CODE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.paths[kind].setText)
        dialog.open()

    def set_after(self, value: str) -> None:
        self.after_buttons[value].setChecked(True)

    def after_choice(self) -> str:
        return next(v for v, b in self.after_buttons.items() if b.isChecked())

    def validate(self) -> str | None:
        """A clear message for input that cannot work, before anything is sent."""
        if self.from_files.isChecked():
            for kind in FILES:
                if not self.paths[kind].text().strip():
                    return self.tr("Choose the %s file.") % self.tr(FILE_LABELS[kind]).lower()
        if len(self.description.text()) > MAX_TEXT or len(self.origin.text()) > MAX_TEXT:
            return self.tr("Description and origin may have at most %d characters.") % MAX_TEXT
        return tags_problem(parse_tags(self.tags.text()))

    def request(self) -> DeployRequest:
        """The request; reads the code files (CodeFileError when one is unusable)."""
        codes: dict[str, str | None] = {k: None for k in FILES}
        if self.from_files.isChecked():
            for kind in FILES:
                path = self.paths[kind].text().strip()
                try:
                    codes[kind] = read_code_file(path)
                except CodeFileError as exc:
                    raise CodeFileError(f"{self.tr(FILE_LABELS[kind])}: {exc}") from None
        return DeployRequest(
            group_id=self.group.id, agent_code=codes["agent_code"],
            device_code=codes["device_code"], description=self.description.text().strip() or None,
            origin=self.origin.text().strip() or None, tags=parse_tags(self.tags.text()),
            flagged=self.flagged.isChecked(), after=self.after_choice(),
            make_minimum=self.make_minimum.isChecked())

    # -- running -----------------------------------------------------------------------------
    def _on_submit(self) -> None:
        if self.outcome is not None:  # finished with warnings or problems: the button closes
            self.accept()
            return
        if self.busy:
            return
        problem = self.validate()
        request = None
        if not problem:
            try:
                request = self.request()
            except CodeFileError as exc:
                problem = str(exc)
        show_error(self.error, problem)
        if request is not None:
            self.messages.set_messages([], {})
            if self.from_files.isChecked():
                for kind in FILES:
                    self.settings.setValue(self._key(kind), self.paths[kind].text().strip())
            self.tasks.spawn(self.run(request))

    async def run(self, request: DeployRequest) -> DeployOutcome | None:
        self._set_busy(True)
        try:
            outcome = await self.feature.deploy(request)
        except CompileError as exc:
            codes = {"agent_code": request.agent_code or "", "device_code": request.device_code
                     or ""}
            items = compiler_messages(exc.items, "error")
            show_error(self.error, self.tr("The code does not compile; nothing was deployed.")
                       + ("" if items else f"\n{exc.user_message}"))
            self.messages.set_messages(items, codes)
            return None
        except ApiError as exc:
            show_error(self.error, self.tr("Nothing was deployed: %s") % exc.user_message)
            return None
        finally:
            self._set_busy(False)
        self.show_result(outcome, request)
        return outcome

    def show_result(self, outcome: DeployOutcome, request: DeployRequest) -> None:
        """Close when all went well; otherwise stay, listing warnings and failed follow-ups."""
        self.outcome = outcome
        warnings = compiler_messages(outcome.deployment.warnings, "warning")
        if not warnings and not outcome.problems:
            self.accept()
            return
        for widget in self.inputs:
            widget.setEnabled(False)
        show_error(self.error, "\n".join(outcome.problems) or None)
        self.messages.set_messages(warnings, {"agent_code": request.agent_code or "",
                                              "device_code": request.device_code or ""})
        self.state.setText(self.tr("Deployed %s") % deployment_label(outcome.deployment))
        self.submit.setText(self.tr("Close"))
        self.cancel.setVisible(False)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.submit.setEnabled(not busy)
        self.cancel.setEnabled(not busy)
        for widget in self.inputs:
            widget.setEnabled(not busy)
        self.state.setText(self.tr("Deploying…") if busy else "")
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)

    def reject(self) -> None:
        if not self.busy:  # the request is on its way: wait for its answer
            super().reject()

    def closeEvent(self, event: Any) -> None:
        if self.busy:
            event.ignore()
            return
        super().closeEvent(event)
