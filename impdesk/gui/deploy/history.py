"""A group's deployment history: code view, diff, rollback, flag, edit, delete, save, copy."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...api.errors import ApiError
from ...api.records import Deployment, DeviceGroup
from .. import dialogs
from ..dialogs import error_label, show_error
from ..tasks import TaskSet, run_blocking
from . import AFTER_CHOICES, NOTHING, DeployRequest
from .code import FILE_LABELS, FILES, MAX_TEXT, deployment_label, short_sha
from .extras import DiffDialog, EditDialog, GroupPicker
from .highlight import CodeView
from .history_model import Col, DeploymentsModel

if TYPE_CHECKING:
    from . import DeployFeature

REDEPLOY = "Redeploy"  # the confirmation's action (also the key of headless answers)


class HistoryDialog(QDialog):
    """Deployments of one group, newest first, with everything one does with them."""

    def __init__(self, feature: DeployFeature, group: DeviceGroup,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feature = feature
        self.group = group
        self.group_id = group.id
        self.tasks = TaskSet()
        self.busy = False
        self.last_saved: list[str] = []
        self._generation = 0
        self.setObjectName("DeploymentHistory")
        self.setWindowTitle(self.tr("Deployments — %s") % feature.group_title(group))
        self.setModal(False)
        self.resize(980, 640)
        self.model = DeploymentsModel(self)
        self.table = QTableView()
        self.table.setObjectName("deploymentsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setSectionResizeMode(
            Col.DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.table.doubleClicked.connect(lambda _i: self._spawn(self.compare_selected))

        spawn = self._spawn
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for name, text, slot, tip in (
                ("deploy", self.tr("&Deploy…"), self._open_deploy, self.tr("Deploy new code")),
                ("redeploy", self.tr("&Redeploy"), lambda: spawn(self.rollback),
                 self.tr("Deploy this code again: it becomes the current deployment")),
                ("compare", self.tr("Co&mpare"), lambda: spawn(self.compare_selected),
                 self.tr("Side-by-side diff of two selected deployments (or one and the one "
                         "before it)")),
                ("flag", self.tr("Flag"), lambda: spawn(self.toggle_flag),
                 self.tr("Flagged deployments cannot be deleted")),
                ("edit", self.tr("&Edit…"), lambda: spawn(self.edit),
                 self.tr("Change the description and tags")),
                ("delete", self.tr("De&lete"), lambda: spawn(self.delete), ""),
                ("save", self.tr("&Save code…"), lambda: spawn(self.save_code),
                 self.tr("Write the agent and device code to files")),
                ("copy", self.tr("Co&py to group…"), lambda: spawn(self.copy_to),
                 self.tr("Deploy the same code to another device group")),
                ("refresh", self.tr("Re&fresh"), lambda: spawn(self.reload),
                 self.tr("Read the group's deployments again"))):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setAutoDefault(False)  # Enter in the table must not open a dialog
            button.clicked.connect(slot)
            self.buttons[name] = button
            row.addWidget(button)
            if name in ("deploy", "edit", "copy"):
                row.addSpacing(12)
        row.addStretch(1)

        self.reason = QLabel()
        self.reason.setObjectName("deleteReason")
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        muted = self.reason.palette()
        muted.setColor(muted.ColorRole.WindowText, muted.placeholderText().color())
        self.reason.setPalette(muted)
        self.error = error_label()
        self.error.setObjectName("historyError")
        self.code_tabs = QTabWidget()
        self.code_views: dict[str, CodeView] = {}
        for kind in FILES:
            view = self.code_views[kind] = CodeView()
            view.setObjectName(f"{kind}_view")
            self.code_tabs.addTab(view, self.tr(FILE_LABELS[kind]))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.code_tabs)
        splitter.setSizes([300, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.diff_dialog: DiffDialog | None = None
        self._on_selection()
        self.table.setFocus()  # arrow keys move through the deployments from the start

    # -- data ------------------------------------------------------------------------------
    def _spawn(self, fn: Callable[[], Awaitable[Any]]) -> None:
        self.tasks.spawn(fn())

    async def reload(self) -> None:
        """Re-read the group and its deployments (newest first), keeping the selection."""
        client = self.feature.client
        if client is None:
            return
        self._generation += 1
        generation = self._generation
        try:
            deployments = await run_blocking(client.list_deployments, group_id=self.group_id)
            group = await self.feature.reload_group(self.group_id) or self.group
        except ApiError as exc:
            show_error(self.error, exc.user_message)
            return
        if generation != self._generation:
            return  # a later reload is on its way
        keep = [d.id for d in self.selected()]
        self.group = group
        self.model.set_data(deployments, group, self.feature.account_names())
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(
            Col.DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        self.select_ids(keep or ([deployments[0].id] if deployments else []))
        for dep in deployments:
            if dep.id == group.current_deployment_id:
                self.feature.remember(dep)

    def selected(self) -> list[Deployment]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [d for d in (self.model.deployment(r) for r in rows) if d is not None]

    def select_ids(self, ids: list[str]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = selection.SelectionFlag
        for dep_id in ids:
            row = self.model.row_of(dep_id)
            if row >= 0:
                index = self.model.index(row, 0)
                selection.select(index, flags.Select | flags.Rows)
                selection.setCurrentIndex(index, flags.NoUpdate)
        self._on_selection()

    def _on_selection(self) -> None:
        chosen = self.selected()
        one = chosen[0] if len(chosen) == 1 else None
        idle = not self.busy
        b = self.buttons
        b["deploy"].setEnabled(idle)
        b["refresh"].setEnabled(idle)
        for name in ("redeploy", "flag", "edit", "save", "copy"):
            b[name].setEnabled(idle and one is not None)
        b["compare"].setEnabled(idle and self._compare_pair() is not None)
        b["flag"].setText(self.tr("Unflag") if one is not None and one.flagged
                          else self.tr("Flag"))
        reason = self.model.block_reason(one) if one is not None else None
        b["delete"].setEnabled(idle and one is not None and reason is None)
        b["delete"].setToolTip(reason or self.tr("Delete this deployment"))
        self.reason.setText(self.tr("Cannot delete %s: %s") % (short_sha(one.sha), reason)
                            if one is not None and reason else "")
        for kind in FILES:
            self.code_views[kind].set_code(str(one.attr(kind, "")) if one is not None else "")

    def _compare_pair(self) -> tuple[Deployment, Deployment] | None:
        chosen = self.selected()
        if len(chosen) == 2:
            return chosen[1], chosen[0]  # rows are newest first: older on the left
        if len(chosen) == 1:
            row = self.model.row_of(chosen[0].id)
            older = self.model.deployment(row + 1)
            return (older, chosen[0]) if older is not None else None
        return None

    async def _run(self, work: Awaitable[Any], change: str | None = None) -> Any:
        """Run one operation with the buttons off; server errors are shown verbatim.

        `change` names a change sent by `work` itself (deploys name their own)."""
        self.busy = True
        show_error(self.error, None)
        self._on_selection()
        try:
            if change is None:
                return await work
            with self.feature.window.changes.sending(change):
                return await work
        except ApiError as exc:
            code = f" [{exc.code}]" if exc.code else ""
            show_error(self.error, self.tr("The service refused: %s%s") % (exc.user_message,
                                                                            code))
            return None
        finally:
            self.busy = False
            self._on_selection()

    def _one(self, dep: Deployment | None) -> Deployment | None:
        if dep is not None:
            return dep
        chosen = self.selected()
        return chosen[0] if len(chosen) == 1 else None

    # -- operations ----------------------------------------------------------------------------
    def _open_deploy(self) -> None:
        self.feature.window.tasks.spawn(self.feature.open_deploy(self.group))

    async def compare_selected(self) -> DiffDialog | None:
        pair = self._compare_pair()
        return self.compare(*pair) if pair else None

    def compare(self, older: Deployment, newer: Deployment) -> DiffDialog:
        if self.diff_dialog is not None and shiboken6.isValid(self.diff_dialog):
            self.diff_dialog.close()
        dialog = self.diff_dialog = DiffDialog(older, newer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    async def rollback(self, dep: Deployment | None = None) -> Deployment | None:
        """Redeploy an earlier deployment's code (confirmed first); returns the new one."""
        dep = self._one(dep)
        if dep is None:
            return None
        label = deployment_label(dep)
        text = self.tr("Deploy the code of %s to %s again? It becomes the current "
                       "deployment.\n\nAfter redeploying:") % (label, self.group.name)
        after = await dialogs.confirm_choice(
            self, self.tr("Redeploy"), text, REDEPLOY,
            [(key, self.tr(choice)) for key, choice in AFTER_CHOICES], NOTHING)
        if after is None:
            return None
        description = self.tr("Redeploy of %s") % label
        request = DeployRequest(self.group_id, str(dep.attr("agent_code", "")),
                                str(dep.attr("device_code", "")), description[:MAX_TEXT],
                                tags=dep.tags, after=after)
        outcome = await self._run(self.feature.deploy(request, notify=False))
        await self.reload()
        return outcome.deployment if outcome else None

    async def copy_to(self, dep: Deployment | None = None,
                      group_id: str | None = None) -> Deployment | None:
        """Deploy this deployment's code to another group (picked when not given)."""
        dep = self._one(dep)
        if dep is None:
            return None
        if group_id is None:
            others = [(self.feature.group_title(g), g) for g in self.feature.groups()
                      if g.id != self.group_id]
            picker = GroupPicker(others, self.tr("Copy %s to") % deployment_label(dep), self)
            if not await dialogs.ask(picker):
                return None
            group_id = picker.chosen()
            picker.deleteLater()
            if group_id is None:
                return None
        request = DeployRequest(group_id, str(dep.attr("agent_code", "")),
                                str(dep.attr("device_code", "")), dep.description,
                                tags=dep.tags)
        outcome = await self._run(self.feature.deploy(request))
        return outcome.deployment if outcome else None

    async def toggle_flag(self, dep: Deployment | None = None) -> Deployment | None:
        dep = self._one(dep)
        if dep is None:
            return None
        client = self.feature.client
        change = (self.tr("Unflag %s") if dep.flagged else self.tr("Flag %s")) % (
            deployment_label(dep))
        updated = await self._run(run_blocking(client.update_deployment, dep.id,
                                               flagged=not dep.flagged), change)
        if updated is not None:
            self.model.replace(updated)
            self._on_selection()
            self.feature.status(self.tr("%s %s") % (
                self.tr("Flagged") if updated.flagged else self.tr("Unflagged"),
                deployment_label(updated)))
        return updated

    async def edit(self, dep: Deployment | None = None,
                   values: tuple[str | None, list[str]] | None = None) -> Deployment | None:
        dep = self._one(dep)
        if dep is None:
            return None
        if values is None:
            editor = EditDialog(dep, self)
            if not await dialogs.ask(editor):
                return None
            values = editor.values()
            editor.deleteLater()
        description, tags = values
        updated = await self._run(run_blocking(self.feature.client.update_deployment, dep.id,
                                               description=description, tags=tags),
                                  self.tr("Edit %s") % deployment_label(dep))
        if updated is not None:
            self.model.replace(updated)
            self._on_selection()
            if updated.id == self.group.current_deployment_id:
                self.feature.remember(updated)
        return updated

    async def delete(self, dep: Deployment | None = None, check: bool = True) -> bool:
        """Delete after confirming; refused locally when the rules forbid it (unless
        `check` is False), and the server's own refusal is shown verbatim."""
        dep = self._one(dep)
        if dep is None:
            return False
        reason = self.model.block_reason(dep)
        if check and reason:
            show_error(self.error, self.tr("Cannot delete %s: %s") % (short_sha(dep.sha), reason))
            return False
        verb = self.tr("Delete")
        if not await dialogs.confirm(self, self.tr("Delete deployment"), self.tr(
                "Delete deployment %s? Its code is gone for good.") % deployment_label(dep),
                verb):
            return False
        client = self.feature.client
        done = await self._run(_deleted(client, dep.id),
                               self.tr("Delete %s") % deployment_label(dep))
        if done:
            self.feature.status(self.tr("Deleted %s") % deployment_label(dep))
            await self.reload()
        return bool(done)

    async def save_code(self, dep: Deployment | None = None,
                        directory: str | None = None) -> list[str]:
        """Write `<group>-<sha7>.agent.nut` and `.device.nut` into a directory."""
        dep = self._one(dep)
        if dep is None:
            return []
        if directory is None:
            chooser = QFileDialog(self, self.tr("Save the code of %s into") % short_sha(dep.sha))
            chooser.setFileMode(QFileDialog.FileMode.Directory)
            chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
            if not await dialogs.ask(chooser) or not chooser.selectedFiles():
                return []
            directory = chooser.selectedFiles()[0]
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.group.name).strip("-") or "deployment"
        paths = {kind: os.path.join(directory, f"{stem}-{short_sha(dep.sha)}."
                                    f"{kind.split('_')[0]}.nut") for kind in FILES}
        existing = [p for p in paths.values() if os.path.exists(p)]
        if existing and not await dialogs.confirm(
                self, self.tr("Overwrite"), self.tr("Replace %s?") % ", ".join(
                    os.path.basename(p) for p in existing), self.tr("Overwrite")):
            return []
        try:
            for kind, path in paths.items():
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    fh.write(str(dep.attr(kind, "")))
        except OSError as exc:
            show_error(self.error, self.tr("Could not save: %s") % (exc.strerror or exc))
            return []
        self.last_saved = list(paths.values())
        self.feature.status(self.tr("Saved %s") % ", ".join(self.last_saved))
        return self.last_saved


async def _deleted(client: Any, deployment_id: str) -> bool:
    await run_blocking(client.delete_deployment, deployment_id)
    return True
