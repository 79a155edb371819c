"""The main window: sign-in, the account tree with details, drag-and-drop moves with undo."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QToolBar,
    QWidget,
)

from .. import settings as keys
from ..api.client import Client
from ..api.errors import ApiError, OtpRequired
from ..api.records import Device
from ..core import gcpause
from ..core.services import AccountService, MoveOutcome
from ..core.tree import DEVICE, GROUP, PRODUCT, UNASSIGNED, UNASSIGNED_KEY, TreeNode
from ..credentials import KeyringTokenStore
from . import dialogs, manage
from .details import DetailsPane
from .identity import DEMO_BADGE_STYLE, ConnectionInfo, DemoAccount, app_icon
from .move_dialog import MoveDialog
from .profiles import KEY, PASSWORD, Profile, ProfileStore
from .proxies import TreeFilterProxy
from .signin import SignInDialog, SignInRequest
from .tasks import TaskSet, run_blocking
from .tree_model import AccountTreeModel, Column, Role
from .tree_view import AccountTreeView

__all__ = ["ConnectionInfo", "DemoAccount", "MainWindow", "app_icon"]

# Feature modules with `install(window)`, added as they land (logs, deployments, management).
FEATURES: list[Any] = [manage]
FEATURES.append(__import__(f"{__package__}.deploy", fromlist=["install"]))  # issue 7
FEATURES.append(__import__(f"{__package__}.logs", fromlist=["install"]))  # issue 6
FEATURES.append(__import__(f"{__package__}.appinfo", fromlist=["install"]))  # issue 8

log = logging.getLogger(__name__)
STATUS_REFRESH_MS = 60_000
FILTER_DEBOUNCE_MS = 200
MESSAGE_MS = 8000
SMALL_TREE_NODES = 300  # up to this many rows the first load expands everything
DRAIN_SLICE_S = 0.012  # UI-thread time spent inserting devices before yielding to the loop
DRAIN_ROWS = 100  # devices inserted under one group at a time
COUNTS_FLUSH_MS = 250  # while devices stream in, the tree's counts repaint this often


@dataclass
class LastMove:
    """What Ctrl+Z undoes: devices and the groups they came from."""

    previous_groups: dict[str, str | None]
    target_group_id: str | None


class MainWindow(QMainWindow):
    """The top-level window.

    Feature modules plug in through `install(window)` (see FEATURES): they add actions to
    `window.menus[...]`, `window.toolbar` and `window.context_actions`, and follow
    `service_changed` / `tree_reloaded`.

    Signals:
        service_changed(object): an AccountService after sign-in, None after sign-out
        tree_reloaded(): a load or refresh finished and the model holds the new state
    """

    service_changed = Signal(object)
    tree_reloaded = Signal()

    def __init__(self, info: ConnectionInfo, parent: QWidget | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.settings = settings or QSettings()
        self.tasks = TaskSet()
        self.service: AccountService | None = None
        self.ready = asyncio.Event() if _has_loop() else None
        self.last_move: LastMove | None = None
        self.load_seconds: float | None = None
        self._loading = False
        self._pending_devices: list[Device] = []
        self._drainer: asyncio.Task | None = None
        self.setObjectName("mainWindow")
        self.setWindowTitle(self._title(None))
        self.setWindowIcon(app_icon())
        self.resize(1180, 720)

        self.model = AccountTreeModel(self)
        self.proxy = TreeFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = AccountTreeView(self)
        self.view.setModel(self.proxy)
        self.view.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self.details = DetailsPane(self)
        splitter = QSplitter(self)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([760, 420])
        self.splitter = splitter
        self.setCentralWidget(splitter)

        self.filter = QLineEdit(self)
        self.filter.setObjectName("treeFilter")
        self.filter.setPlaceholderText(self.tr("Filter: name, device id, MAC, agent id, type"))
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(340)
        self.filter.setMinimumWidth(280)  # the placeholder stays readable beside the toolbar
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DEBOUNCE_MS)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter.textChanged.connect(lambda _: self._filter_timer.start())

        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.connection = QLabel(self)
        self.connection.setObjectName("connectionLabel")
        self.connection.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.connection)

        self.context_actions: list[QAction | None] = []
        self._make_actions()
        self._make_menus_and_toolbar()
        for feature in FEATURES:
            feature.install(self)
        self.model.assign_requested.connect(self._on_assign_requested)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.model.dataChanged.connect(self._on_model_data_changed)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(lambda: self.tasks.spawn(self.refresh(quiet=True)))
        self._counts_timer = QTimer(self)
        self._counts_timer.setInterval(COUNTS_FLUSH_MS)
        self._counts_timer.timeout.connect(self.model.flush_counts)
        self._restore_geometry()
        self._update_actions()
        self.connection.setText(self.tr("Not signed in"))
        self.statusBar().showMessage(
            self.tr("Demo mode — local emulator at %s") % info.endpoint if info.demo
            else self.tr("Not signed in — %s") % info.endpoint)

    # -- construction ---------------------------------------------------------------------
    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        spawn = self.tasks.spawn
        self.act_refresh = self._action(self.tr("&Refresh"), lambda: spawn(self.refresh()),
                                        QKeySequence.StandardKey.Refresh,
                                        self.tr("Reload products, device groups and devices"))
        self.act_sign_in = self._action(self.tr("&Sign in…"), lambda: spawn(self.sign_in()))
        self.act_sign_out = self._action(self.tr("Sign &out"), lambda: spawn(self.sign_out()))
        self.act_switch_profile = self._action(
            self.tr("S&witch profile…"), lambda: spawn(self.switch_profile()), None,
            self.tr("Sign out, then sign in with another saved profile"))
        self.act_move = self._action(self.tr("&Move to device group…"),
                                     lambda: spawn(self.move_selected()), "Ctrl+M",
                                     self.tr("Move the selected devices to another group"))
        self.act_unassign = self._action(
            self.tr("&Unassign"), lambda: spawn(self.move_devices(self.selected_device_ids(),
                                                                  None)),
            None, self.tr("Remove the selected devices from their groups"))
        self.act_undo = self._action(self.tr("&Undo move"), lambda: spawn(self.undo_move()),
                                     QKeySequence.StandardKey.Undo,
                                     self.tr("Move the devices of the last move back (Ctrl+Z)"))
        self.act_restart = self._action(self.tr("&Restart"),
                                        lambda: spawn(self.restart_selected(False)), "Ctrl+R",
                                        self.tr("Restart the selected devices or groups"))
        self.act_cond_restart = self._action(self.tr("&Conditional restart"),
                                             lambda: spawn(self.restart_selected(True)),
                                             "Ctrl+Shift+R",
                                             self.tr("Restart only devices not running the "
                                                     "current deployment"))
        self.act_find = self._action(self.tr("&Find"), self._focus_filter,
                                     QKeySequence.StandardKey.Find)
        self.act_copy = self._action(self.tr("&Copy id"), self.copy_selected,
                                     QKeySequence.StandardKey.Copy)
        self.act_expand = self._action(self.tr("&Expand all"), self.view.expandAll)
        self.act_collapse = self._action(self.tr("C&ollapse all"), self.view.collapseAll)
        self.act_quit = self._action(self.tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)
        self.act_about = self._action(self.tr("&About impdesk"), self._about)

    def _make_menus_and_toolbar(self) -> None:
        menu = self.menuBar()
        self.menus: dict[str, QMenu] = {}
        file_menu = self.menus["file"] = menu.addMenu(self.tr("&File"))
        for act in (self.act_sign_in, self.act_sign_out, self.act_switch_profile, None,
                    self.act_quit):
            file_menu.addSeparator() if act is None else file_menu.addAction(act)
        edit = self.menus["edit"] = menu.addMenu(self.tr("&Edit"))
        for act in (self.act_undo, None, self.act_copy, self.act_find):
            edit.addSeparator() if act is None else edit.addAction(act)
        view = self.menus["view"] = menu.addMenu(self.tr("&View"))
        for act in (self.act_refresh, None, self.act_expand, self.act_collapse):
            view.addSeparator() if act is None else view.addAction(act)
        devices = self.menus["devices"] = menu.addMenu(self.tr("&Devices"))
        for act in (self.act_move, self.act_unassign, None, self.act_restart,
                    self.act_cond_restart):
            devices.addSeparator() if act is None else devices.addAction(act)
        self.menus["groups"] = menu.addMenu(self.tr("&Groups"))
        help_menu = self.menus["help"] = menu.addMenu(self.tr("&Help"))
        help_menu.addAction(self.act_about)

        bar = self.toolbar = QToolBar(self.tr("Main"), self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (self.act_refresh, self.act_move, self.act_restart, self.act_undo):
            bar.addAction(act)
        self.toolbar_separator = bar.addSeparator()
        bar.addWidget(self.filter)
        spacer = QWidget(self)
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding,
                             spacer.sizePolicy().verticalPolicy().Preferred)
        bar.addWidget(spacer)
        if self.info.demo:
            badge = QLabel(self.tr("DEMO · local emulator"), self)
            badge.setObjectName("demoBadge")
            badge.setStyleSheet(DEMO_BADGE_STYLE)
            badge.setToolTip(self.tr("Connected to the embedded emulator with demo data at %s; "
                                     "nothing leaves this machine.") % self.info.endpoint)
            bar.addWidget(badge)
        self.addToolBar(bar)

    def _title(self, account: str | None) -> str:
        parts = ["impdesk"]
        if account:
            parts.append(account)
        if self.info.demo:
            parts.append(self.tr("Demo (local emulator)"))
        return " — ".join(parts)

    # -- sign-in -----------------------------------------------------------------------------
    async def start(self) -> None:
        """First thing after show(): demo signs in by itself; otherwise restore or ask."""
        try:
            if self.info.demo:
                demo = self.info.accounts[0] if self.info.accounts else None
                if demo is not None:
                    await self._sign_in(SignInRequest(self.info.endpoint, demo.username,
                                                      demo.password))
                    return
            profile = ProfileStore(self.settings).restorable()  # last sign-in, if remembered
            if profile is not None:
                store = KeyringTokenStore(profile.identifier, profile.endpoint)
                client = Client(profile.endpoint, token_store=store)
                try:
                    await run_blocking(client.login_with_refresh_token)
                except ApiError:
                    log.info("the saved session could not be restored")
                else:
                    await self._signed_in(client, profile.identifier)
                    return
            self._mark_ready_if_idle()  # waiting for the user now: the window is complete
            await self.sign_in()
        finally:
            self._mark_ready_if_idle()

    async def sign_in(self, profile: str | None = None) -> None:
        """Open the sign-in dialog; the last used profile (or `profile`) is preselected."""
        store = ProfileStore(self.settings)
        last = store.last() if not self.info.demo else None
        endpoint = last.endpoint if last else self.info.endpoint
        identifier = last.identifier if last else ""
        chosen = profile if profile is not None else (last.name if last else "")
        dialog = SignInDialog(self._attempt_sign_in, self, endpoint, identifier,
                              profiles=store, profile=chosen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        await dialogs.ask(dialog)

    async def switch_profile(self) -> None:
        """Sign out (forgetting a remembered session), then sign in with another profile."""
        if self.service is not None:
            await self.sign_out()
        await self.sign_in(profile="")

    async def _attempt_sign_in(self, request: SignInRequest, dialog: SignInDialog) -> None:
        await self._sign_in(request, dialog)

    async def _sign_in(self, request: SignInRequest, dialog: SignInDialog | None = None) -> None:
        """Sign in; raises (for the dialog to show) on failure. 2FA asks for the code."""
        who = request.identifier or "login key"
        store = KeyringTokenStore(who, request.endpoint, persist=request.remember)
        client = Client(request.endpoint, token_store=store)
        if request.login_key:
            await run_blocking(client.login_with_key, request.login_key)
        else:
            try:
                await run_blocking(client.login, request.identifier, request.password)
            except OtpRequired as exc:
                if dialog is None:
                    raise
                otp = request.otp
                if not otp:
                    dialog.show_otp(True)
                    raise ApiError(0, message=self.tr(
                        "This account uses two-factor authentication: enter the six-digit "
                        "one-time password and sign in again.")) from None
                await run_blocking(client.complete_login, exc.login_token, otp)
        if request.remember and store.error:
            self.statusBar().showMessage(store.error, MESSAGE_MS)
        if not self.info.demo:  # the demo's throwaway endpoint must not replace the user's
            ProfileStore(self.settings).record_use(Profile(
                request.profile, request.endpoint, request.identifier,
                bool(request.remember and store.persist),
                KEY if request.login_key else PASSWORD))
        await self._signed_in(client, who)

    async def _signed_in(self, client: Client, who: str) -> None:
        self.service = AccountService(client)
        self.service_changed.emit(self.service)
        self.setWindowTitle(self._title(who))
        self.connection.setText(self.tr("Signed in as %s · %s") % (who, client.base_url))
        self._update_actions()
        await self.refresh(initial=True)
        self._status_timer.start()

    async def sign_out(self) -> None:
        service, self.service = self.service, None
        self.service_changed.emit(None)
        self._status_timer.stop()
        if service is not None:
            try:
                await run_blocking(service.client.sign_out)
            except ApiError as exc:
                log.info("sign-out: %s", exc.code or exc.status)
        self.model.reset_to(_empty_shape())
        gcpause.release()  # the dropped tree was frozen after its load: let the collector in
        self.details.show_node(None)
        self.setWindowTitle(self._title(None))
        self.connection.setText(self.tr("Not signed in"))
        self.last_move = None
        self._update_actions()
        self.statusBar().showMessage(self.tr("Signed out"), MESSAGE_MS)

    # -- loading ---------------------------------------------------------------------------------
    async def refresh(self, initial: bool = False, quiet: bool = False) -> None:
        """Load the account: progressive on first load, precise row updates afterwards."""
        if self.service is None or self._loading:
            return
        self._loading = True
        self.act_refresh.setEnabled(False)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        first = initial or not self.model.root.children
        if not quiet:
            self.progress.setRange(0, 0)
            self.progress.setFormat(self.tr("Loading…"))
            self.progress.setVisible(True)
        service = self.service
        with gcpause.bulk_load():  # no 30-60 ms full GC passes over the new records
            try:
                if first:
                    # Counts repaint a few times a second while pages stream in, not per page.
                    self.model.defer_counts = True
                    self._counts_timer.start()
                    shape = await run_blocking(
                        service.load_progressive,
                        lambda s: loop.call_soon_threadsafe(self._on_structure, s),
                        lambda devs: loop.call_soon_threadsafe(self._on_device_page, devs),
                        lambda *p: loop.call_soon_threadsafe(self._on_progress, *p))
                    if self._drainer is not None and not self._drainer.done():
                        await self._drainer
                    await self._drain_devices()
                else:
                    shape = await run_blocking(service.load)
                # The final, consistent state (no reset): compared on a worker, applied here.
                nodes, revision = self.model.state()
                todo = await run_blocking(service.plan, nodes, shape)
                self.model.apply(shape, todo, revision)
                self._flush_counts()
                await asyncio.sleep(0)  # let the loop breathe between the big steps
                self.tree_reloaded.emit()
                self.load_seconds = time.perf_counter() - started
                if first:
                    await asyncio.sleep(0)
                    self._expand_initial()
                    await self._fit_columns()
                    self._select_first_device()
                counts = self._counts()
                if not quiet:
                    self.statusBar().showMessage(
                        self.tr("Loaded %s in %.1f s") % (counts, self.load_seconds), MESSAGE_MS)
            except ApiError as exc:
                self.statusBar().showMessage(self.tr("Refresh failed: %s") % exc.user_message,
                                             MESSAGE_MS)
            finally:
                self._flush_counts()
                self._loading = False
                self.progress.setVisible(False)
                self._update_actions()
                self._on_selection()
                self._mark_ready_if_idle()

    def _flush_counts(self) -> None:
        self._counts_timer.stop()
        self.model.defer_counts = False
        self.model.flush_counts()

    def _on_structure(self, shape: Any) -> None:
        if self.model.root.children:
            self.model.apply(shape)
        else:
            self.model.reset_to(shape)
            # Products only: whether the account is small is known once devices are in.
            self._expand_initial(groups=False)

    def _on_device_page(self, devices: list[Device]) -> None:
        self._pending_devices.extend(devices)
        if self._drainer is None or self._drainer.done():  # devices stream in while loading
            self._drainer = self.tasks.spawn(self._drain_devices())

    def _on_progress(self, name: str, done: int, total: int | None, items: int) -> None:
        if name != "devices":
            return
        if total:
            self.progress.setRange(0, total)
            # setValue() repaints the whole window synchronously; with updates off it only
            # schedules a repaint, so a progress tick never stalls the event loop.
            self.progress.setUpdatesEnabled(False)
            self.progress.setValue(done)
            self.progress.setUpdatesEnabled(True)
        self.progress.setFormat(self.tr("Devices: %d") % items)
        self.statusBar().showMessage(self.tr("Loading devices… %d so far") % items)

    async def _drain_devices(self) -> None:
        """Insert device pages group by group (one row insert per group and slice), yielding to
        the event loop whenever a time slice is used up, so it keeps breathing."""
        budget = time.perf_counter() + DRAIN_SLICE_S
        while self._pending_devices:
            pending, self._pending_devices = self._pending_devices, []
            by_group: dict[str | None, list[Device]] = {}
            for device in pending:
                by_group.setdefault(device.devicegroup_id, []).append(device)
            for devices in by_group.values():
                for start in range(0, len(devices), DRAIN_ROWS):
                    self.model.add_devices(devices[start:start + DRAIN_ROWS])
                    if time.perf_counter() > budget:
                        await asyncio.sleep(0)
                        budget = time.perf_counter() + DRAIN_SLICE_S

    def _expand_initial(self, groups: bool = True) -> None:
        small = groups and len(self.model.nodes) <= SMALL_TREE_NODES
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, Role.KIND) in (PRODUCT, "owner"):
                self.view.expand(index)
                if small:  # small accounts open fully: every device at a glance
                    for child in range(self.proxy.rowCount(index)):
                        self.view.expand(self.proxy.index(child, 0, index))

    async def _fit_columns(self) -> None:
        """Fit the columns to their contents once devices are in, one column per loop turn
        (each measures the visible rows); the user's restored widths win."""
        if self._header_restored:
            return
        for col in range(1, len(Column)):
            await asyncio.sleep(0)
            self.view.resizeColumnToContents(col)
        self.view.setColumnWidth(0, max(self.view.columnWidth(0), 260))

    def _select_first_device(self) -> None:
        if self.view.selectionModel().hasSelection():
            return
        for node in self.model.root.walk():
            if node.kind == DEVICE:
                index = self.proxy.mapFromSource(self.model.index_of(node.key))
                if index.isValid():
                    self.view.setCurrentIndex(index)
                    self.view.scrollTo(index)
                return

    def _counts(self) -> str:
        snap = self.service.snapshot if self.service else None
        if snap is None:
            return ""
        return self.tr("%d products, %d device groups, %d devices") % (
            len(snap.products), len(snap.device_groups), len(snap.devices))

    def _mark_ready_if_idle(self) -> None:
        if self.ready is not None and not self._loading:
            self.ready.set()

    # -- selection, details, filter ------------------------------------------------------------
    def selected_nodes(self) -> list[TreeNode]:
        nodes: list[TreeNode] = []
        for index in self.view.selectionModel().selectedRows(0):
            node = self.model.node(self.proxy.mapToSource(index))
            if node is not self.model.root:
                nodes.append(node)
        return nodes

    def selected_device_ids(self) -> list[str]:
        return [n.id for n in self.selected_nodes() if n.kind == DEVICE]

    def _on_selection(self, *_: Any) -> None:
        nodes = self.selected_nodes()
        node = nodes[0] if len(nodes) == 1 else None
        extra = None
        if node is not None and node.kind in (PRODUCT, GROUP, UNASSIGNED):
            total, online = self.model.stats(node)
            extra = {"devices": str(total), "online devices": str(online)}
        self.details.show_node(node, extra)
        self._update_actions()

    def _on_model_data_changed(self, top_left: QModelIndex, *_: Any) -> None:
        nodes = self.selected_nodes()
        if len(nodes) == 1 and self.model.node(top_left) is nodes[0]:
            self._on_selection()

    def _apply_filter(self) -> None:
        text = self.filter.text()
        self.proxy.set_text(text)
        if text.strip():
            self.view.expandAll()

    def _focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self.filter.text():
            self.filter.clear()
            return
        super().keyPressEvent(event)

    def copy_selected(self) -> None:
        from PySide6.QtWidgets import QApplication

        ids = [n.id for n in self.selected_nodes() if n.id]
        if ids:
            QApplication.clipboard().setText("\n".join(ids))
            self.statusBar().showMessage(self.tr("Copied %d id(s)") % len(ids), MESSAGE_MS)

    def _update_actions(self) -> None:
        signed_in = self.service is not None
        nodes = self.selected_nodes()
        devices = [n for n in nodes if n.kind == DEVICE]
        self.act_sign_in.setEnabled(not signed_in)
        self.act_sign_out.setEnabled(signed_in)
        self.act_refresh.setEnabled(signed_in and not self._loading)
        self.act_move.setEnabled(signed_in and bool(devices))
        self.act_unassign.setEnabled(signed_in and any(
            isinstance(n.payload, Device) and n.payload.devicegroup_id for n in devices))
        restartable = [n for n in nodes if n.kind == GROUP or (
            n.kind == DEVICE and isinstance(n.payload, Device) and n.payload.devicegroup_id)]
        self.act_restart.setEnabled(signed_in and bool(restartable))
        self.act_cond_restart.setEnabled(signed_in and bool(restartable))
        self.act_undo.setEnabled(signed_in and self.last_move is not None)

    def _context_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        for act in (self.act_move, self.act_unassign, None, self.act_restart,
                    self.act_cond_restart, None, *self.context_actions, None, self.act_copy,
                    None, self.act_refresh):
            if act is None:
                menu.addSeparator()
            elif act.isVisible():
                menu.addAction(act)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # -- moves -------------------------------------------------------------------------------------
    def _on_assign_requested(self, device_ids: list[str], target_group_id: str) -> None:
        self.tasks.spawn(self.move_devices(device_ids, target_group_id or None))

    async def move_selected(self) -> None:
        ids = self.selected_device_ids()
        if not ids or self.service is None:
            return
        service = self.service
        products = {p.id: p for p in service.snapshot.products}
        dialog = MoveDialog(service.snapshot.device_groups, products,
                            lambda gid: service.verdicts(ids, gid), len(ids), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        if not await dialogs.ask(dialog):
            return
        chosen = dialog.chosen()
        dialog.deleteLater()
        if chosen is not None:
            await self.move_devices(ids, chosen or None)

    async def move_devices(self, device_ids: list[str], target_group_id: str | None,
                           record_undo: bool = True) -> MoveOutcome | None:
        """Check the rules, mark rows pending, ask the server, then commit or roll back."""
        if self.service is None or not device_ids:
            return None
        service = self.service
        verdicts = service.verdicts(device_ids, target_group_id)
        allowed = [d for d, v in verdicts.items() if v.allowed]
        refused = {d: v.reason for d, v in verdicts.items() if not v.allowed and not v.no_op}
        if not allowed:
            if refused:
                self._report_refusals(refused, target_group_id)
            return None
        unbond_key = None
        if any(verdicts[d].needs_unbond_key for d in allowed):
            unbond_key = await self._ask_unbond_key()
            if unbond_key is None:
                self.statusBar().showMessage(self.tr("Move cancelled"), MESSAGE_MS)
                return None
        pending_keys = [(DEVICE, d) for d in allowed]
        self.model.set_pending(pending_keys, "moving")
        self.statusBar().showMessage(self.tr("Moving %d device(s)…") % len(allowed))
        try:
            outcome = await run_blocking(service.move_devices, allowed, target_group_id,
                                         unbond_key)
        except ApiError as exc:
            self.model.set_pending(pending_keys, None)  # rolled back: nothing moved
            self._journal_move(target_group_id, {d: str(exc) for d in allowed})
            self.statusBar().showMessage(self.tr("Move failed, nothing was moved: %s")
                                         % exc.user_message, MESSAGE_MS)
            await self._error_box(self.tr("Move failed"),
                                  self.tr("Nothing was moved.\n\n%s") % exc.user_message)
            return None
        finally:
            self.model.set_pending(pending_keys, None)
        outcome.refused.update(refused)
        self.model.apply(service.shape())
        self._journal_move(target_group_id, {**{d: "ok" for d in outcome.applied},
                                             **outcome.refused})
        target_name = self._group_name(target_group_id)
        if outcome.applied and record_undo:
            self.last_move = LastMove(dict(outcome.previous_groups), target_group_id)
        self._update_actions()
        if outcome.refused:
            self._report_refusals(outcome.refused, target_group_id, len(outcome.applied))
        else:
            self.statusBar().showMessage(
                self.tr("Moved %d device(s) to %s. Ctrl+Z undoes it.") % (
                    len(outcome.applied), target_name), MESSAGE_MS)
        return outcome

    def _journal_move(self, target_group_id: str | None, results: dict[str, str]) -> None:
        journal = getattr(self, "journal", None)
        if journal is None:
            return
        action = (self.tr("Move to %s") % self._group_name(target_group_id) if target_group_id
                  else self.tr("Unassign"))
        for device_id, result in results.items():
            device = self.service.device(device_id) if self.service else None
            journal.record(action, device.display_name if device else device_id, result)

    async def undo_move(self) -> None:
        move, self.last_move = self.last_move, None
        self._update_actions()
        if move is None:
            return
        by_group: dict[str | None, list[str]] = {}
        for device_id, group_id in move.previous_groups.items():
            by_group.setdefault(group_id, []).append(device_id)
        for group_id, ids in by_group.items():
            await self.move_devices(ids, group_id, record_undo=False)

    async def _ask_unbond_key(self) -> str | None:
        if dialogs.HEADLESS_ANSWERS is not None:
            value = dialogs.HEADLESS_ANSWERS.get("unbond_key")
            return value if isinstance(value, str) else None
        dialog = QInputDialog(self)
        dialog.setWindowTitle(self.tr("Unbond key required"))
        dialog.setLabelText(self.tr("Removing devices from a production device group needs the "
                                    "account's unbond key:"))
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        if not await dialogs.ask(dialog):
            return None
        return dialog.textValue().strip() or None

    def _group_name(self, group_id: str | None) -> str:
        if group_id is None:
            return self.tr("Unassigned devices")
        group = self.service.group(group_id) if self.service else None
        return group.name if group else group_id

    def _report_refusals(self, refused: dict[str, str], target_group_id: str | None,
                         applied: int = 0) -> None:
        lines = []
        for device_id, reason in refused.items():
            node = self.model.nodes.get((DEVICE, device_id))
            name = node.payload.display_name if node and isinstance(node.payload, Device) \
                else device_id
            lines.append(f"{name}: {reason}")
        summary = self.tr("%d moved to %s, %d refused.") % (
            applied, self._group_name(target_group_id), len(refused))
        self.statusBar().showMessage(f"{summary} {lines[0]}", MESSAGE_MS)
        self.last_refusals = lines
        if len(lines) > 1 or applied:
            self.tasks.spawn(self._error_box(self.tr("Some devices were not moved"),
                                             summary + "\n\n" + "\n".join(lines)))

    async def _error_box(self, title: str, text: str) -> None:
        if dialogs.HEADLESS_ANSWERS is not None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        await dialogs.ask(box)

    # -- restarts ------------------------------------------------------------------------------
    async def restart_selected(self, conditional: bool) -> None:
        if self.service is None:
            return
        client = self.service.client
        targets = [n for n in self.selected_nodes() if n.kind == GROUP or (
            n.kind == DEVICE and isinstance(n.payload, Device) and n.payload.devicegroup_id)]
        if not targets:
            return
        word = self.tr("Conditional restart") if conditional else self.tr("Restart")
        names = ", ".join(self.model.data(self.model.index_of(n.key), 0) for n in targets[:5])
        more = "" if len(targets) <= 5 else self.tr(" and %d more") % (len(targets) - 5)
        if not await dialogs.confirm(self, word, self.tr("%s %s%s?") % (word, names, more), word):
            return
        results: dict[str, str] = {}
        for node in targets:
            try:
                if node.kind == GROUP:
                    await run_blocking(client.restart_device_group, node.id, conditional)
                else:
                    await run_blocking(client.restart_device, node.id, conditional)
                results[node.id] = "ok"
            except ApiError as exc:
                results[node.id] = str(exc)  # status, code, title: detail (verbatim)
        failed = {k: v for k, v in results.items() if v != "ok"}
        self.last_restart_results = results
        rows = [(self.model.data(self.model.index_of(n.key), 0), n.kind, results[n.id])
                for n in targets]
        journal = getattr(self, "journal", None)
        for name, _kind, result in rows if journal is not None else ():
            journal.record(word, name, result)
        show = getattr(self, "show_restart_results", None)
        if show is not None:
            await show(word, rows)
        elif failed:
            await self._error_box(word, "\n".join(f"{k}: {v}" for k, v in failed.items()))
        self.statusBar().showMessage(self.tr("%s: %d done, %d failed") % (
            word, len(results) - len(failed), len(failed)), MESSAGE_MS)

    # -- window state -----------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self.settings.value(keys.GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.settings.value(keys.SPLITTER)
        if splitter is not None:
            self.splitter.restoreState(splitter)
        state = self.settings.value(keys.WINDOW_STATE)  # docks and toolbars of the features
        if state is not None:
            self.restoreState(state)
        header = self.settings.value(keys.TREE_HEADER)  # column widths, order, sort
        self._header_restored = header is not None and self.view.header().restoreState(header)

    def closeEvent(self, event: Any) -> None:
        self.settings.setValue(keys.GEOMETRY, self.saveGeometry())
        self.settings.setValue(keys.WINDOW_STATE, self.saveState())
        self.settings.setValue(keys.TREE_HEADER, self.view.header().saveState())
        self.settings.setValue(keys.SPLITTER, self.splitter.saveState())
        self._status_timer.stop()
        self.tasks.cancel_all()
        gcpause.release()
        super().closeEvent(event)

    def _about(self) -> None:
        from .appinfo import AboutDialog

        AboutDialog(self).open()


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        try:
            return asyncio.get_event_loop() is not None
        except RuntimeError:
            return False


def _empty_shape() -> Any:
    from ..core.tree import ROOT_KEY, TreeShape

    shape = TreeShape()
    shape.parents[UNASSIGNED_KEY] = ROOT_KEY
    shape.payloads[UNASSIGNED_KEY] = None
    return shape
