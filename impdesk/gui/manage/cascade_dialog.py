"""The delete dialog: what blocks it, every step of the cascade, progress, and the report."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.cascade import (
    DONE,
    FAILED,
    RUNNING,
    SELECTION,
    SKIPPED,
    CascadePlan,
    CascadeReport,
)
from .. import dialogs, theme
from .forms import plain_label

MARKS = {"pending": "\u2022", RUNNING: "\u25b6", DONE: "\u2714", FAILED: "\u2716",
         SKIPPED: "\u2013"}
COLORS = {DONE: theme.ok_colour, FAILED: theme.error_colour, SKIPPED: theme.muted_colour}
VERB = "Delete"  # the confirmation's action verb (also the key of headless answers)


class CascadeDialog(QDialog):
    """Preview → confirm → progress → report, in one window that stays until closed."""

    def __init__(self, plan: CascadePlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CascadeDialog")
        self.plan = plan
        several = plan.root_kind == SELECTION
        if several:
            self.setWindowTitle(self.tr("Delete"))
            headline = self.tr("Delete %s?") % plan.root_name
        else:
            what = (self.tr("product") if plan.root_kind == "product"
                    else self.tr("device group"))
            self.setWindowTitle(self.tr("Delete %s") % what)
            headline = self.tr("Delete the %s \u201c%s\u201d?") % (what, plan.root_name)
        self.resize(680, 520)
        self.headline = plain_label(headline)
        self.headline.setObjectName("cascadeHeadline")
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        blockers = plan.blockers.lines(plan.root_kind != "group")
        if blockers:
            text = (self.tr("They cannot be deleted while they have:\n") if several
                    else self.tr("It cannot be deleted while it has:\n")) + "\n".join(
                f"  \u2022 {line}" for line in blockers) + self.tr(
                "\n\nimpdesk can clear these first. Devices are unassigned (they stay in the "
                "account); flagged deployments are unflagged; device groups are deleted with "
                "their deployments and webhooks. These steps will run in this order:")
        else:
            text = (self.tr("Nothing blocks this delete. These steps will run:")
                    if len(plan.steps) > 1 else
                    self.tr("Nothing blocks this delete. This step will run:"))
        self.blockers = plain_label(text)
        self.blockers.setObjectName("cascadeBlockers")
        self.steps = QListWidget()
        self.steps.setObjectName("cascadeSteps")
        self.steps.setAccessibleName(self.tr("Steps"))
        self.steps.setWordWrap(True)  # long group names wrap instead of scrolling sideways
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for step in plan.steps:
            self.steps.addItem(QListWidgetItem(f"{MARKS['pending']}  {step.label}"))
        self.progress = QProgressBar()
        self.progress.setRange(0, len(plan.steps))
        self.progress.setValue(0)
        self.progress.setVisible(False)
        self.report = QPlainTextEdit()  # plain text: server strings are never markup
        self.report.setObjectName("cascadeReport")
        self.report.setReadOnly(True)
        self.report.setMaximumHeight(170)
        self.report.setVisible(False)
        self.buttons = QDialogButtonBox()
        self.confirm_button: QPushButton = self.buttons.addButton(
            VERB if not blockers else self.tr("Delete all of it"),
            QDialogButtonBox.ButtonRole.DestructiveRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setVisible(False)
        self.close_button.clicked.connect(self.accept)
        self.cancel_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.blockers)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.report)
        layout.addWidget(self.buttons)
        # Enter must never delete: Cancel is the default. Set once the buttons are inside the
        # dialog (before that, Qt made the first button of the focus chain, Delete, the default).
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()
        self._answer: asyncio.Future[bool] | None = None
        self.confirm_button.clicked.connect(lambda: self._answered(True))
        self.rejected.connect(lambda: self._answered(False))

    def preview_text(self) -> str:
        return "\n".join([self.headline.text(), self.blockers.text(),
                          *(step.label for step in self.plan.steps)])

    def _answered(self, yes: bool) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(yes)

    async def confirm(self) -> bool:
        """Show the preview and wait for Delete or Cancel (headless: the test's answer)."""
        if dialogs.HEADLESS_ANSWERS is not None:
            return bool(dialogs.HEADLESS_ANSWERS.get(VERB, False))
        self._answer = asyncio.get_running_loop().create_future()
        self.open()
        return await self._answer

    def start(self) -> None:
        self.confirm_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(True)

    def set_step(self, index: int, state: str, message: str) -> None:
        item = self.steps.item(index)
        if item is None:
            return
        label = self.plan.steps[index].label
        text = f"{MARKS.get(state, '?')}  {label}"
        if state == FAILED and message:
            text += f"\n      {message}"
        elif state == SKIPPED:
            text += self.tr("   (not done)")
        item.setText(text)
        self.steps.scrollToItem(item)
        if state in COLORS:
            item.setForeground(QBrush(COLORS[state](self.steps.palette())))
        if state in (DONE, FAILED):
            self.progress.setValue(min(self.progress.maximum(), index + 1))

    def finish(self, report: CascadeReport) -> None:
        self.progress.setVisible(False)
        self.confirm_button.setVisible(False)
        self.cancel_button.setVisible(False)
        self.close_button.setVisible(True)
        self.close_button.setDefault(True)
        text = report.summary()
        if not report.complete:
            text += "\n\n" + "\n".join(report.lines())
        self.report.setPlainText(text)
        self.report.setVisible(True)

    def report_text(self) -> str:
        return self.report.toPlainText()
