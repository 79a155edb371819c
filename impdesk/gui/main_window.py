"""The main window: sign-in, the account tree with details, drag-and-drop moves with undo."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSplitter,
    QToolBar,
    QWidget,
)

from .. import settings as keys
from ..api.records import Device
from ..core import gcpause
from ..core.services import AccountService
from ..core.tree import DEVICE, GROUP, PRODUCT, UNASSIGNED, Key, TreeNode
from . import dialogs, manage, theme
from .details import DetailsPane
from .identity import DEMO_BADGE_STYLE, ConnectionInfo, DemoAccount, app_icon
from .proxies import TreeFilterProxy
from .tasks import Changes, TaskSet
from .tree_model import AccountTreeModel, Column
from .tree_view import AccountTreeView
from .window_constants import (
    COUNTS_FLUSH_MS,
    DEFAULT_SIZE,
    DETAILS_WIDTH,
    FILTER_DEBOUNCE_MS,
    MESSAGE_MS,
    QUIT_ANYWAY,
    STATUS_REFRESH_MS,
)
from .window_loading import LoadingMixin
from .window_moves import LastMove, MovesMixin
from .window_session import SessionMixin

__all__ = ["ConnectionInfo", "DemoAccount", "MainWindow", "app_icon"]

# Feature modules with `install(window)`, added as they land (logs, deployments, management).
FEATURES: list[Any] = [manage]
FEATURES.append(__import__(f"{__package__}.deploy", fromlist=["install"]))  # issue 7
FEATURES.append(__import__(f"{__package__}.logs", fromlist=["install"]))  # issue 6
FEATURES.append(__import__(f"{__package__}.appinfo", fromlist=["install"]))  # issue 8

log = logging.getLogger(__name__)



def default_size() -> tuple[int, int]:
    """Room for every tree column and the details pane, within 95 % of the screen."""
    width, height = DEFAULT_SIZE
    screen = QGuiApplication.primaryScreen()
    # The offscreen platform's 800 × 600 "screen" is no screen: screenshots get the full size.
    real = QGuiApplication.platformName() != "offscreen"
    if real and screen is not None and not screen.availableGeometry().isEmpty():
        area = screen.availableGeometry()
        width = min(width, int(area.width() * 0.95))
        height = min(height, int(area.height() * 0.95))
    return width, height

class MainWindow(theme.FollowsPalette, SessionMixin, LoadingMixin, MovesMixin, QMainWindow):
    """The top-level window.

    Feature modules plug in through `install(window)` (see FEATURES): they add actions to
    `window.menus[...]`, `window.toolbar` and `window.context_actions`, and follow
    `service_changed` / `tree_reloaded`.

    Signals:
        service_changed(object): an AccountService after sign-in, None after sign-out
        tree_reloaded(): a load or refresh finished and the model holds the new state
        palette_changed(): the palette changed (the system went dark or light): colours
            picked from the old one must be picked again
    """

    service_changed = Signal(object)
    tree_reloaded = Signal()
    palette_changed = Signal()

    def __init__(self, info: ConnectionInfo, parent: QWidget | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.settings = settings or QSettings()
        self.tasks = TaskSet()
        self.changes = Changes()  # what is being sent right now: quitting asks first
        self._quit_anyway = False
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
        self.resize(*default_size())

        self.model = AccountTreeModel(self)
        self.proxy = TreeFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = AccountTreeView(self)
        self.view.setModel(self.proxy)
        # The selection, read once per change (before any feature's slot asks for it):
        # selectedRows() on 10,000 selected rows took 2.5 s, and five slots asked.
        self._selection: list[TreeNode] | None = None
        self.view.selectionModel().selectionChanged.connect(self._forget_selection)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.layoutChanged, self.proxy.modelReset):
            signal.connect(self._forget_selection)
        self.view.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self.details = DetailsPane(self)
        splitter = QSplitter(self)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([self.width() - DETAILS_WIDTH, DETAILS_WIDTH])
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
        self.model.rows_moving.connect(self._remember_moving)
        self.model.rows_moved.connect(self._restore_moved)
        self._moving: tuple[list, Any] = ([], None)  # selected keys and the current key
        self._shown_node: TreeNode | None = None  # the node the details pane shows
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

    # -- selection, details, filter ------------------------------------------------------------
    def view_index(self, key: Key) -> QModelIndex:
        """The view's (proxy) index of a node's row; invalid when filtered out or unknown."""
        return self.proxy.mapFromSource(self.model.index_of(key))

    def select_only(self, key: Key) -> None:
        """Make one node's row the selection and the current row, and show it (if visible).

        `view.setCurrentIndex()` would extend the selection instead while Ctrl or Shift
        happens to be held (it reads the keyboard's modifiers).
        """
        index = self.view_index(key)
        if index.isValid():
            flags = QItemSelectionModel.SelectionFlag
            self.view.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
            self.view.scrollTo(index)

    def selected_nodes(self) -> list[TreeNode]:
        if self._selection is None:
            self._selection = self._read_selection()
        return list(self._selection)

    def _forget_selection(self, *_: Any) -> None:
        self._selection = None

    def _read_selection(self) -> list[TreeNode]:
        """The selected rows' nodes, range by range (rows are selected whole)."""
        nodes: list[TreeNode] = []
        seen: set[TreeNode] = set()
        proxy, root = self.proxy, self.model.root
        for selected in self.view.selectionModel().selection():
            parent = selected.parent()
            for row in range(selected.top(), selected.bottom() + 1):
                node = self.model.node(proxy.mapToSource(proxy.index(row, 0, parent)))
                if node is not root and node not in seen:
                    seen.add(node)
                    nodes.append(node)
        return nodes

    def _remember_moving(self, keys: list) -> None:
        """Devices are about to leave their rows: note which were selected and current."""
        moving = set(keys)
        selected = [n.key for n in self.selected_nodes() if n.key in moving]
        current = self.model.node(self.proxy.mapToSource(self.view.currentIndex()))
        self._moving = (selected, current.key if current.key in moving else None)

    def _restore_moved(self, _keys: list) -> None:
        """Select again, in their new rows, the devices that were selected before a move."""
        selected, current = self._moving
        self._moving = ([], None)
        selection = QItemSelection()
        for key in selected:
            index = self.view_index(key)
            if index.isValid():
                selection.select(index, index)
        flags = QItemSelectionModel.SelectionFlag
        model = self.view.selectionModel()
        if not selection.isEmpty():
            model.select(selection, flags.Select | flags.Rows)
        if current is not None:
            index = self.view_index(current)
            if index.isValid():
                model.setCurrentIndex(index, flags.NoUpdate)

    def selected_device_ids(self) -> list[str]:
        return [n.id for n in self.selected_nodes() if n.kind == DEVICE]

    def _on_selection(self, *_: Any) -> None:
        nodes = self.selected_nodes()
        node = nodes[0] if len(nodes) == 1 else None
        self._shown_node = node
        extra = None
        if node is not None and node.kind in (PRODUCT, GROUP, UNASSIGNED):
            total, online = self.model.stats(node)
            extra = {"devices": str(total), "online devices": str(online)}
        self.details.show_node(node, extra)
        self._update_actions()

    def _on_model_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex,
                               *_: Any) -> None:
        # Thousands of rows change in a status refresh: compare with the node the details
        # pane shows instead of asking the selection model every time.
        shown = self._shown_node
        if shown is None or shown.parent is None:
            return
        parent = self.model.node(top_left).parent
        if parent is shown.parent and top_left.row() <= shown.row() <= bottom_right.row():
            self._on_selection()

    def _apply_filter(self) -> None:
        text = self.filter.text()
        self.proxy.set_text(text)
        if text.strip():
            self.view.expandAll()

    def _focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def restyle(self) -> None:
        self.palette_changed.emit()

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
        if self.changes.labels() and not self._quit_anyway and _has_loop():
            event.ignore()  # never a half-sent change without asking; the answer comes async
            self.tasks.spawn(self._confirm_quit())
            return
        self.settings.setValue(keys.GEOMETRY, self.saveGeometry())
        self.settings.setValue(keys.WINDOW_STATE, self.saveState())
        self.settings.setValue(keys.TREE_HEADER, self.view.header().saveState())
        self.settings.setValue(keys.SPLITTER, self.splitter.saveState())
        self._status_timer.stop()
        self.tasks.cancel_all()
        gcpause.release()
        super().closeEvent(event)

    async def _confirm_quit(self) -> None:
        """Ask before quitting while changes are in flight; close when the user says so."""
        labels = self.changes.labels()
        if not labels:
            self.close()
            return
        text = self.tr("impdesk is still sending changes to impCentral:\n\n%s\n\nIf you quit "
                       "now, what has not been sent stays undone and the report of what was "
                       "done is lost.") % "\n".join(f"  \u2022 {label}" for label in labels)
        if await dialogs.confirm(self, self.tr("Quit impdesk"), text, QUIT_ANYWAY):
            self._quit_anyway = True
            self.close()
        else:
            self.statusBar().showMessage(self.tr("Still sending: %s") % "; ".join(labels),
                                         MESSAGE_MS)

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
