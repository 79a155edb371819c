"""Point-and-click deployments: deploy dialog, history per group, the tree's Deployment column."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from ...api.errors import ApiError
from ...api.records import Deployment, DeviceGroup
from ...core.tree import GROUP
from .. import dialogs
from ..tasks import run_blocking
from ..tree_model import Column
from ..window_constants import MESSAGE_MS
from .code import deployment_label

if TYPE_CHECKING:
    from ..main_window import MainWindow

log = logging.getLogger(__name__)
NAME_FETCHES = 4  # deployments fetched at the same time for the tree's Deployment column
NOTHING, RESTART, CONDITIONAL = "nothing", "restart", "conditional"
AFTER_CHOICES = (  # what happens to the group's devices after a deployment
    (NOTHING, "&Nothing: devices pick up the code on their next restart"),
    (RESTART, "&Restart every device of the group"),
    (CONDITIONAL, "Cond&itional restart: only devices not running it"))


@dataclass
class DeployRequest:
    """What to deploy where; code of None means "the group's current deployment's code"."""

    group_id: str
    agent_code: str | None
    device_code: str | None
    description: str | None = None
    origin: str | None = "impdesk"
    tags: list[str] = field(default_factory=list)
    flagged: bool = False
    after: str = NOTHING
    make_minimum: bool = False


@dataclass
class DeployOutcome:
    """A created deployment; `problems` lists follow-ups that failed (the deployment exists)."""

    deployment: Deployment
    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def install(window: MainWindow) -> None:
    window.deploy = DeployFeature(window)  # type: ignore[attr-defined]


class DeployFeature(QObject):
    """Actions, the deploy operation shared by the dialogs, and the tree's Deployment column."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.history_dialogs: dict[str, QWidget] = {}
        self.last_outcome: DeployOutcome | None = None
        self._names_running = False
        self._names_again = False
        spawn = window.tasks.spawn
        self.act_deploy = self._action(self.tr("&Deploy…"), lambda: spawn(self.open_deploy()),
                                       "Ctrl+D", self.tr("Deploy agent and device code to the "
                                                         "selected device group"))
        self.act_history = self._action(self.tr("De&ployments…"), self.open_history,
                                        "Ctrl+Shift+D", self.tr("The selected group's "
                                                                "deployment history"))
        groups = window.menus["groups"]
        groups.addAction(self.act_deploy)
        groups.addAction(self.act_history)
        window.toolbar.insertAction(window.toolbar_separator, self.act_deploy)
        window.context_actions.extend([self.act_deploy, self.act_history])
        window.view.selectionModel().selectionChanged.connect(lambda *_: self.update_actions())
        window.service_changed.connect(self._on_service_changed)
        window.tree_reloaded.connect(self._on_tree_reloaded)
        self.update_actions()

    def _action(self, text: str, slot: Any, shortcut: str, tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut})")
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    # -- state -----------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        return self.window.service.client if self.window.service else None

    def selected_group(self) -> DeviceGroup | None:
        nodes = self.window.selected_nodes()
        if len(nodes) == 1 and nodes[0].kind == GROUP and isinstance(nodes[0].payload,
                                                                     DeviceGroup):
            return nodes[0].payload
        return None

    def group(self, group_id: str) -> DeviceGroup | None:
        return self.window.service.group(group_id) if self.window.service else None

    def groups(self) -> list[DeviceGroup]:
        return list(self.window.service.snapshot.device_groups) if self.window.service else []

    def group_title(self, group: DeviceGroup) -> str:
        service = self.window.service
        product = next((p for p in service.snapshot.products if p.id == group.product_id),
                       None) if service else None
        return f"{product.name} / {group.name}" if product else group.name

    def account_names(self) -> dict[str, str]:
        service = self.window.service
        if service is None:
            return {}
        return {a.id: a.username or a.email or a.id for a in service.snapshot.accounts}

    def update_actions(self) -> None:
        ok = self.window.service is not None and self.selected_group() is not None
        self.act_deploy.setEnabled(ok)
        self.act_history.setEnabled(ok)

    def _on_service_changed(self, service: Any) -> None:
        self.window.model.deployment_names.clear()
        if service is None:
            for dialog in list(self.history_dialogs.values()):
                dialog.close()
            self.history_dialogs.clear()
        self.update_actions()

    def status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, MESSAGE_MS)

    # -- the tree's Deployment column ---------------------------------------------------------
    def _on_tree_reloaded(self) -> None:
        self.update_actions()
        self.window.tasks.spawn(self.refresh_tree_names())

    def remember(self, dep: Deployment) -> None:
        """Name a deployment in the tree and repaint the groups that show it."""
        self.window.model.deployment_names[dep.id] = deployment_label(dep)
        self._repaint_groups({dep.id})

    def _repaint_groups(self, deployment_ids: set[str]) -> None:
        model = self.window.model
        for group in self.groups():
            if group.current_deployment_id in deployment_ids:
                index = model.index_of((GROUP, group.id), Column.DEPLOYMENT)
                if index.isValid():
                    model.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    async def refresh_tree_names(self) -> None:
        """Fetch the current deployment of every group not yet named (a few at a time)."""
        if self._names_running:
            self._names_again = True
            return
        self._names_running = True
        try:
            while True:
                self._names_again = False
                client = self.client
                names = self.window.model.deployment_names
                wanted = list(dict.fromkeys(
                    g.current_deployment_id for g in self.groups()
                    if g.current_deployment_id and g.current_deployment_id not in names))
                if client is None or not wanted:
                    break
                limit = asyncio.Semaphore(NAME_FETCHES)

                async def fetch(dep_id: str, client: Any = client, names: dict = names,
                                limit: asyncio.Semaphore = limit) -> None:
                    async with limit:
                        try:
                            dep = await run_blocking(client.get_deployment, dep_id)
                        except ApiError as exc:
                            log.info("deployment %s: %s", dep_id, exc.code or exc.status)
                            names[dep_id] = dep_id[:8]
                            return
                    if client is self.client:
                        self.remember(dep)

                await asyncio.gather(*(fetch(d) for d in wanted))
                if not self._names_again:
                    break
        finally:
            self._names_running = False

    async def reload_group(self, group_id: str) -> DeviceGroup | None:
        """Re-read one group (current/minimum deployment) into the snapshot and the tree."""
        service = self.window.service
        if service is None:
            return None
        fresh = await run_blocking(service.client.get_device_group, group_id)
        if self.window.service is not service:
            return fresh
        groups = service.snapshot.device_groups
        service.snapshot.device_groups = [fresh if g.id == group_id else g for g in groups]
        self.window.model.apply(service.shape())
        return fresh

    # -- deploying ---------------------------------------------------------------------------
    async def deploy(self, request: DeployRequest, notify: bool = True) -> DeployOutcome:
        """Create the deployment, then the chosen restart and minimum; raises ApiError
        (CompileError for code that does not compile) when nothing was created."""
        group = self.group(request.group_id)
        label = self.tr("Deploying to %s") % (group.name if group else request.group_id)
        with self.window.changes.sending(label):
            return await self._deploy(request, notify)

    async def _deploy(self, request: DeployRequest, notify: bool) -> DeployOutcome:
        client = self.client
        group = self.group(request.group_id)
        if client is None or group is None:
            raise ApiError(0, message=self.tr("Not signed in, or the group is gone."))
        if request.agent_code is None or request.device_code is None:
            fresh = await run_blocking(client.get_device_group, group.id)
            if not fresh.current_deployment_id:
                raise ApiError(0, message=self.tr("This group has no deployment yet to take "
                                                  "the code from."))
            current = await run_blocking(client.get_deployment, fresh.current_deployment_id)
            if request.agent_code is None:
                request.agent_code = str(current.attr("agent_code", ""))
            if request.device_code is None:
                request.device_code = str(current.attr("device_code", ""))
        dep = await run_blocking(
            client.create_deployment, group.type, group.id, device_code=request.device_code,
            agent_code=request.agent_code, description=request.description,
            origin=request.origin, tags=request.tags, flagged=request.flagged)
        outcome = DeployOutcome(dep)
        self.window.model.deployment_names[dep.id] = deployment_label(dep)
        if request.after in (RESTART, CONDITIONAL):
            conditional = request.after == CONDITIONAL
            word = self.tr("Conditional restart") if conditional else self.tr("Restart")
            try:
                await run_blocking(client.restart_device_group, group.id, conditional)
                outcome.done.append(self.tr("%s requested") % word)
            except ApiError as exc:
                outcome.problems.append(self.tr("%s failed: %s") % (word, exc.user_message))
        if request.make_minimum:
            try:
                await run_blocking(client.set_min_supported_deployment, group.id, dep.id)
                outcome.done.append(self.tr("now the minimum supported deployment"))
            except ApiError as exc:
                outcome.problems.append(self.tr("Setting the minimum supported deployment "
                                                "failed: %s") % exc.user_message)
        try:
            await self.reload_group(group.id)
        except ApiError as exc:
            log.info("group reload after deploy: %s", exc.code or exc.status)
        self.remember(dep)
        self.last_outcome = outcome
        text = self.tr("Deployed %s to %s") % (deployment_label(dep), group.name)
        self.status("; ".join([text, *outcome.done, *outcome.problems]))
        for dialog in self.history_dialogs.values():
            if notify and getattr(dialog, "group_id", None) == group.id:
                self.window.tasks.spawn(dialog.reload())  # type: ignore[attr-defined]
        return outcome

    async def open_deploy(self, group: DeviceGroup | None = None) -> bool:
        from .dialog import DeployDialog

        group = group or self.selected_group()
        if group is None or self.window.service is None:
            return False
        dialog = DeployDialog(self, group, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.current_dialog = dialog
        return await dialogs.ask(dialog)

    def open_history(self, group: DeviceGroup | None = None) -> QWidget | None:
        from .history import HistoryDialog

        group = group or self.selected_group()
        if group is None or self.window.service is None:
            return None
        dialog = self.history_dialogs.get(group.id)
        if dialog is None:
            dialog = HistoryDialog(self, group, self.window)
            self.history_dialogs[group.id] = dialog
            dialog.finished.connect(lambda _=0, gid=group.id: self.history_dialogs.pop(gid, None))
            self.window.tasks.spawn(dialog.reload())
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

