"""Logs feature: "Show logs" for a device, a selection or a group, in docks sharing one stream."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel

from ... import settings as keys
from ...api.logstreams import OPEN, RECONNECTING, TAKEN_OVER
from ...core.logbuffer import DEFAULT_MAX_LINES
from ...core.loghistory import PAGE_SIZE
from ...core.logsession import SLOTS, LogSession
from ...core.tree import DEVICE
from .. import theme
from .view import LogView

if TYPE_CHECKING:
    from ..main_window import MainWindow

log = logging.getLogger(__name__)
STATUS_POLL_MS = 200
MESSAGE_MS = 8000
STATE_COLOURS = {OPEN: "#2e7d32", RECONNECTING: "#a84e00", TAKEN_OVER: "#c62828"}
DARK_STATE_COLOURS = {OPEN: "#81c995", RECONNECTING: "#ffb74d", TAKEN_OVER: "#ff8a80"}


def install(window: MainWindow) -> None:
    """Add "Show logs" (Ctrl+L) to the menus, toolbar and tree context menu."""
    window.logs = LogsFeature(window)  # type: ignore[attr-defined]


class LogDock(QDockWidget):
    """A dock holding one LogView; closing it frees the view's live slots."""

    def __init__(self, view: LogView, title: str, parent: Any) -> None:
        super().__init__(title, parent)
        self.view = view
        self.setWidget(view)
        self.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea
                             | Qt.DockWidgetArea.RightDockWidgetArea)

    def closeEvent(self, event: Any) -> None:
        self.view.shutdown()
        super().closeEvent(event)
        self.deleteLater()


class LogsFeature(QObject):
    """Owns the account's LogSession and the open log docks.

    The reader thread never touches Qt: it fills each view's buffer and marks the session
    dirty; a UI timer picks the change up (no cross-thread signals, PYSIDE-3124).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session: LogSession | None = None
        self.docks: list[LogDock] = []
        self.page_size = PAGE_SIZE
        self._dirty = False
        self._last_notice = ""
        self._count = 0

        window.palette_changed.connect(self.refresh_status)  # the indicator's colour
        self.act_show = QAction(self.tr("Show &logs"), window)
        self.act_show.setShortcut(QKeySequence("Ctrl+L"))
        tip = self.tr("History and live logs of the selected devices, group or product")
        self.act_show.setStatusTip(tip)
        self.act_show.setToolTip(tip + " (Ctrl+L)")
        self.act_show.triggered.connect(self.show_selected)
        window.addAction(self.act_show)
        window.menus["view"].addSeparator()
        window.menus["view"].addAction(self.act_show)
        window.menus["devices"].addSeparator()
        window.menus["devices"].addAction(self.act_show)
        window.menus["groups"].addAction(self.act_show)
        # Not on the toolbar: at the default width it would push the demo badge into overflow.
        window.context_actions.append(self.act_show)

        self.indicator = QLabel(window)
        self.indicator.setObjectName("logStreamState")
        self.indicator.setTextFormat(Qt.TextFormat.PlainText)
        window.statusBar().addPermanentWidget(self.indicator)
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_POLL_MS)
        self._timer.timeout.connect(self._poll)  # runs while a session exists
        window.service_changed.connect(self._on_service_changed)
        # Not aboutToQuit: qasync emits it each time run_until_complete() returns.
        window.installEventFilter(self)
        self.refresh_status()

    # -- opening views -------------------------------------------------------------------------
    def show_selected(self) -> LogView | None:
        """Open a log view for the tree selection (devices, groups, products)."""
        service = self.window.service
        if service is None:
            return None
        nodes = self.window.selected_nodes()
        ids: list[str] = []
        for node in nodes:
            found = [n for n in node.walk() if n.kind == DEVICE]
            if node.kind != DEVICE:
                found.sort(key=lambda n: (n.payload.display_name if n.payload else n.id).lower())
            ids.extend(n.id for n in found)
        ids = list(dict.fromkeys(ids))
        if not ids:
            self.window.statusBar().showMessage(
                self.tr("Select a device, a device group or a product to show its logs."),
                MESSAGE_MS)
            return None
        if len(nodes) == 1 and nodes[0].kind == DEVICE:
            title = self._name(ids[0])
        elif len(nodes) == 1:
            title = getattr(nodes[0].payload, "name", None) or self.tr("Unassigned devices")
        else:
            title = self.tr("%d devices") % len(ids)
        note = ""
        if len(ids) > SLOTS:
            note = self.tr("%s has %d devices; this view shows the first %d (by name): a log "
                           "stream carries at most %d devices.") % (
                               f"‘{title}’", len(ids), SLOTS, SLOTS)
            ids = ids[:SLOTS]
        return self.open_view(ids, title, note)

    def open_view(self, device_ids: Sequence[str], title: str = "", note: str = "") -> LogView:
        """Dock a new log view on `device_ids` (≤ 8) and start it."""
        session = self._ensure_session()
        settings = self.window.settings
        max_lines = _int(settings.value(keys.LOG_MAX_LINES), DEFAULT_MAX_LINES)
        utc = str(settings.value(keys.LOG_UTC, "false")).lower() == "true"
        view = LogView(session, device_ids, self._name, note=note, max_lines=max_lines, utc=utc,
                       page_size=self.page_size, on_settings=self._save_setting)
        self._count += 1
        if not title:
            title = self._name(device_ids[0])
            if len(device_ids) > 1:
                title = self.tr("%s and %d more") % (title, len(device_ids) - 1)
        dock = LogDock(view, self.tr("Logs — %s") % title, self.window)
        dock.setObjectName(f"logsDock{self._count}")
        dock.destroyed.connect(lambda _=None, d=dock: self._forget(d))
        window = self.window
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        others = [d for d in window.findChildren(QDockWidget) if d.isVisible()
                  and window.dockWidgetArea(d) == bottom]
        window.addDockWidget(bottom, dock)
        if self.docks or others:  # a tab of the bottom area, full width, not a sliver beside it
            window.tabifyDockWidget(self.docks[-1] if self.docks else others[0], dock)
        window.resizeDocks([dock], [max(320, window.height() * 2 // 5)], Qt.Orientation.Vertical)
        self.docks.append(dock)
        dock.show()
        dock.raise_()
        view.start_task = view.spawn(view.start())  # type: ignore[attr-defined]
        self.refresh_status()
        return view

    @property
    def views(self) -> list[LogView]:
        return [d.view for d in self.docks]

    def _forget(self, dock: LogDock) -> None:
        if dock in self.docks:
            self.docks.remove(dock)

    def _name(self, device_id: str) -> str:
        service = self.window.service
        device = service.device(device_id) if service is not None else None
        return device.display_name if device is not None else device_id

    def _save_setting(self, name: str, value: Any) -> None:
        key = {"utc": keys.LOG_UTC, "max_lines": keys.LOG_MAX_LINES}[name]
        self.window.settings.setValue(key, value)

    # -- the session ---------------------------------------------------------------------------
    def _ensure_session(self) -> LogSession:
        service = self.window.service
        if self.session is None or self.session.closed:
            assert service is not None
            self.session = LogSession(service.client, notify=self._mark_dirty, name_of=self._name)
            self._timer.start()
        return self.session

    def _mark_dirty(self) -> None:
        self._dirty = True  # any thread; the UI timer does the rest

    def _poll(self) -> None:
        if self._dirty:
            self._dirty = False
            self.refresh_status()

    def refresh_status(self) -> None:
        session = self.session
        if session is None or session.closed:
            text, colour = self.tr("Live logs: off"), ""
        else:
            text = self.tr("Live logs: %s · %s") % (session.state_text, session.slots_text)
            colours = DARK_STATE_COLOURS if theme.is_dark() else STATE_COLOURS
            colour = colours.get(session.state, "")
            if session.notice and session.notice != self._last_notice:
                self._last_notice = session.notice
                self.window.statusBar().showMessage(session.notice, MESSAGE_MS)
        self.indicator.setText(text)
        self.indicator.setToolTip(session.detail if session else "")
        self.indicator.setStyleSheet(f"color: {colour};" if colour else "")
        for view in self.views:
            view.update_status()

    def _on_service_changed(self, service: Any) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Sign-out, account change or window close: close the docks and stop the reader."""
        session, self.session = self.session, None
        if session is not None:
            session.closed = True  # the views skip their own per-device unsubscribes
        for dock in list(self.docks):
            dock.view.shutdown()
            dock.close()
        self.docks.clear()
        if session is not None:
            session.close()
        self._timer.stop()
        self.refresh_status()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False


def _int(value: Any, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default
