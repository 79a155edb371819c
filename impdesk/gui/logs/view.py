"""The log view: history on demand, live lines drained in batches, filters, find, export."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QFontDatabase, QFontMetrics, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHeaderView,
    QMenu,
    QTableView,
    QWidget,
)

from ...api.errors import ApiError
from ...api.logstreams import OPEN, RECONNECTING, TAKEN_OVER
from ...core.logbuffer import LogBuffer, LogLine
from ...core.loghistory import FORMATS, PAGE_SIZE, HistoryPager, export_lines, text_line
from ...core.logsession import LogSession, LogSubscriber
from .. import dialogs, theme
from ..tasks import executor, run_blocking
from .controls import LogControls
from .model import Column, LogFilterProxy, LogModel

log = logging.getLogger(__name__)
DRAIN_MS = 100
FILTER_DEBOUNCE_MS = 200
RECONNECT_NOW_AFTER_S = 3.0  # a reconnection taking this long offers "Reconnect now"
EXPORT_FILTERS = {"text": "Text (*.log *.txt)", "csv": "CSV (*.csv)",
                  "jsonl": "JSON Lines (*.jsonl)"}


class LogView(theme.FollowsPalette, LogControls, QWidget):
    """History and live logs of up to 8 devices, fed by the shared `LogSession`."""

    def __init__(self, session: LogSession, device_ids: Sequence[str],
                 name_of: Callable[[str], str], *, note: str = "", max_lines: int = 100_000,
                 utc: bool = False, page_size: int = PAGE_SIZE,
                 on_settings: Callable[[str, Any], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.device_ids = list(device_ids)
        self.name_of = name_of
        self.note = note
        self.page_size = page_size
        self.on_settings = on_settings or (lambda key, value: None)
        self.buffer = LogBuffer(max_lines)
        self.sub = LogSubscriber(self.buffer)
        self.model = LogModel(name_of, max_lines, self)
        self.model.set_devices(self.device_ids)
        self.model.utc = utc
        self.proxy = LogFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.paused = False
        self.loading = False
        self.history_loaded = False
        self.message = ""  # the latest explanation shown in the notice label
        self._notice = ""  # the session's notice for this view, as last seen
        self.reconnect_task: asyncio.Task | None = None
        self.pager = self._new_pager()
        self._initial = True
        self._removed = 0
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

        self.table = QTableView(self)
        self.table.setObjectName("logTable")
        self.table.setModel(self.proxy)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.table.setFont(font)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setCornerButtonEnabled(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        rows = self.table.verticalHeader()  # fixed heights: no per-row measuring of 100k rows
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(QFontMetrics(font).height() + 4)
        columns = self.table.horizontalHeader()
        columns.setStretchLastSection(True)
        columns.setHighlightSections(False)
        chars = QFontMetrics(font).horizontalAdvance("M")
        widest = max((len(self.model.name(d)) for d in self.device_ids), default=8)
        for column, width in ((Column.TIME, 25), (Column.DEVICE, min(30, max(8, widest) + 5)),
                              (Column.TYPE, 14)):
            self.table.setColumnWidth(column, width * chars + 8)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.installEventFilter(self)  # Ctrl+C copies lines, not the window's "Copy id"
        self.proxy.rowsAboutToBeRemoved.connect(self._count_removed)
        self.table.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self._build_controls()

        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(DRAIN_MS)
        self._drain_timer.timeout.connect(self.drain)
        self._drain_timer.start()
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DEBOUNCE_MS)
        self._filter_timer.timeout.connect(self.apply_text_filter)
        self.update_status()

    # -- lifecycle -----------------------------------------------------------------------------
    def spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        """Take live slots for the devices, then show the newest page of history."""
        self.session.attach(self.sub)
        result = await run_blocking(self.session.watch, self.sub, self.device_ids)
        self.show_message(" ".join(m for m in (self.note, result.message) if m))
        await self.load_older()
        self.history_loaded = True

    def shutdown(self) -> None:
        """The view closes: stop draining and let the session free this view's devices."""
        if self._closed:
            return
        self._closed = True
        self._drain_timer.stop()
        for task in list(self._tasks):
            task.cancel()
        if not self.session.closed:
            try:
                executor().submit(self.session.detach, self.sub)
            except RuntimeError:  # the pool is shut down: the app is quitting
                self.session.close()

    # -- history -------------------------------------------------------------------------------
    def _new_pager(self) -> HistoryPager:
        return HistoryPager(self.session.client.device_logs_page, self.device_ids, self.page_size)

    async def load_older(self) -> int:
        """One more chunk of history at the top (the first chunk merges with live lines)."""
        if self.loading or not self.pager.more:
            return 0
        if not self._initial and len(self.model.rows) >= self.model.max_lines:
            self.show_message(self.tr("The view holds its maximum of %s lines: raise “Keep” to "
                                      "load older history.") % f"{self.model.max_lines:,}")
            return 0
        self.loading = True
        self.act_older.setEnabled(False)
        try:
            entries = await run_blocking(self.pager.older)
        except ApiError as exc:
            self.show_message(self.tr("History could not be loaded: %s") % exc.user_message)
            return 0
        finally:
            self.loading = False
        lines = [LogLine.of(e) for e in entries]
        bar = self.table.verticalScrollBar()
        before, value = self.proxy.rowCount(), bar.value()
        if self._initial:
            self._initial = False
            for device_id in self.device_ids:
                await run_blocking(self.session.note_history, device_id,
                                   [e for e in entries if e.device_id == device_id])
            added = self.model.merge_history(lines, self.buffer.keys())
            self.table.scrollToBottom()
        else:
            added = self.model.prepend(lines)
            bar.setValue(value + self.proxy.rowCount() - before)  # keep the same lines in view
        self.act_older.setEnabled(self.pager.more)
        self.update_status()
        return added

    # -- live ----------------------------------------------------------------------------------
    def reconnect(self) -> asyncio.Task | None:
        """Reconnect button: take the stream back after a take-over, or skip a long back-off."""
        if self.reconnect_task is not None and not self.reconnect_task.done():
            return self.reconnect_task
        self.reconnect_button.setEnabled(False)
        self.reconnect_task = self.spawn(self._reconnect())
        return self.reconnect_task

    async def _reconnect(self) -> None:
        try:
            await run_blocking(self.session.reconnect)
        finally:
            self.reconnect_button.setEnabled(True)
            self.update_status()

    def drain(self) -> None:
        """Move waiting lines into the model in one insertion; follow the tail if at the bottom."""
        if self.session.state == RECONNECTING and not self.reconnect_button.isVisible():
            self.update_status()  # offers "Reconnect now" once reconnecting takes long
        if self.paused:
            self.update_status()
            return
        lines = self.buffer.take_all()
        if not lines:
            return
        bar = self.table.verticalScrollBar()
        following = bar.value() >= bar.maximum()
        value = bar.value()
        self._removed = 0
        self.model.append(lines)
        if following:
            self.table.scrollToBottom()
        elif self._removed:
            bar.setValue(max(0, value - self._removed))  # trimmed above: keep the view still
        self.act_follow.setChecked(following)
        self.update_status()

    def _count_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        self._removed += last - first + 1

    def _on_scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        self.act_follow.setChecked(value >= bar.maximum())
        if value == bar.minimum() and bar.maximum() > 0 and self.pager.more \
                and not self.loading and not self._initial:
            self.spawn(self.load_older())

    def _follow_clicked(self, checked: bool) -> None:
        if checked:
            self.table.scrollToBottom()

    def set_paused(self, paused: bool) -> None:
        self.paused = bool(paused)
        self.act_pause.setChecked(self.paused)
        self.act_pause.setText(self.tr("&Resume") if self.paused else self.tr("&Pause"))
        if not self.paused:
            self.drain()
        self.update_status()

    def set_utc(self, utc: bool) -> None:
        self.model.set_utc(bool(utc))
        self.act_utc.setChecked(bool(utc))
        self.on_settings("utc", bool(utc))

    def set_max_lines(self, max_lines: int) -> None:
        self.model.set_max_lines(max_lines)
        self.on_settings("max_lines", max_lines)
        self.update_status()

    def clear(self) -> None:
        """Empty the view; Load older starts again from the newest history."""
        self.buffer.clear()
        self.model.clear()
        self.pager = self._new_pager()
        self._initial = True
        self.act_older.setEnabled(True)
        self.update_status()

    # -- filters and find ----------------------------------------------------------------------
    def apply_text_filter(self) -> None:
        error = self.proxy.set_text(self.filter_edit.text(), self.regex_box.isChecked())
        dialogs.show_error(self.filter_error, error)

    def _types_changed(self) -> None:
        chosen = [t for t, act in self.type_actions.items() if act.isChecked()]
        every = len(chosen) == len(self.type_actions)
        self.proxy.set_types(None if every else chosen)
        self.types_button.setText(self.tr("&Types: all") if every
                                  else self.tr("&Types: %d of %d") % (len(chosen),
                                                                       len(self.type_actions)))

    def set_types(self, types: Sequence[str] | None) -> None:
        for type_, act in self.type_actions.items():
            act.blockSignals(True)
            act.setChecked(types is None or type_ in types)
            act.blockSignals(False)
        self._types_changed()

    def _device_changed(self, _: int) -> None:
        device_id = self.device_combo.currentData()
        self.proxy.set_devices(None if device_id is None else [device_id])

    def find(self, forward: bool = True) -> bool:
        """Select the next (or previous) shown line containing the find text; wraps around."""
        needle = self.find_edit.text().casefold()
        rows = self.proxy.rowCount()
        if not needle or not rows:
            return False
        current = self.table.currentIndex().row()
        step = 1 if forward else -1
        start = current if current >= 0 else (-1 if forward else rows)
        for offset in range(1, rows + 1):
            row = (start + step * offset) % rows
            if needle in self.model.display(self.proxy.line(row)).casefold():
                index = self.proxy.index(row, 0)
                flags = QItemSelectionModel.SelectionFlag
                # explicit: setCurrentIndex() would follow whatever modifier keys are held
                self.table.selectionModel().setCurrentIndex(
                    index, flags.ClearAndSelect | flags.Rows)
                self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
                dialogs.show_error(self.filter_error, "")
                return True
        dialogs.show_error(self.filter_error, self.tr("Not found: %s") % self.find_edit.text())
        return False

    # -- copy and export -----------------------------------------------------------------------
    def selected_lines(self) -> list[LogLine]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.proxy.line(r) for r in rows]

    def shown_lines(self) -> list[LogLine]:
        return [self.proxy.line(r) for r in range(self.proxy.rowCount())]

    def copy_selected(self) -> str:
        text = "\n".join(text_line(line, self.model.name(line.device_id), self.model.utc)
                         for line in self.selected_lines())
        if text:
            QApplication.clipboard().setText(text)
        return text

    def export_to(self, path: str | Path, fmt: str) -> int:
        """Write the shown lines (filters applied) to `path` as text, csv or jsonl."""
        return export_lines(path, self.shown_lines(), fmt, self.model.name, self.model.utc)

    async def export(self) -> None:
        dialog = QFileDialog(self, self.tr("Export logs"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(list(EXPORT_FILTERS.values()))
        dialog.selectFile("impdesk-logs.log")
        if not await dialogs.ask(dialog) or not dialog.selectedFiles():
            return
        fmt = next((f for f, flt in EXPORT_FILTERS.items()
                    if flt == dialog.selectedNameFilter()), "text")
        path = Path(dialog.selectedFiles()[0])
        if not path.suffix:
            path = path.with_suffix(FORMATS[fmt])
        try:
            count = await run_blocking(self.export_to, path, fmt)
        except OSError as exc:
            self.show_message(self.tr("Export failed: %s") % exc)
            return
        self.show_message(self.tr("Exported %d lines to %s") % (count, path))

    def restyle(self) -> None:
        if self.model.restyle():
            self.style_notice()

    def eventFilter(self, obj: Any, event: QEvent) -> bool:
        if obj is self.table and event.type() in (QEvent.Type.ShortcutOverride,
                                                  QEvent.Type.KeyPress) \
                and isinstance(event, QKeyEvent) and event.matches(QKeySequence.StandardKey.Copy):
            event.accept()  # an override claims the key from the window's shortcut
            if event.type() == QEvent.Type.KeyPress:
                self.copy_selected()
            return True
        return super().eventFilter(obj, event)

    def _context_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        for act in (self.act_copy, self.act_export, None, self.act_pause, self.act_clear):
            menu.addSeparator() if act is None else menu.addAction(act)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # -- status --------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message = text
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def update_status(self) -> None:
        session = self.session
        notice = self.sub.notice
        if notice and notice not in self.message:
            self.show_message(notice)
        elif not notice and self._notice and self.message == self._notice:
            self.show_message("")  # the session withdrew it (a take-over ended)
        self._notice = notice
        taken = session.state == TAKEN_OVER
        slow = (session.state == RECONNECTING
                and time.monotonic() - session.state_since >= RECONNECT_NOW_AFTER_S)
        self.reconnect_button.setText(self.tr("Reco&nnect") if taken
                                      else self.tr("Reco&nnect now"))
        self.reconnect_button.setToolTip(
            self.tr("Take the log stream back from the other client") if taken
            else self.tr("Stop waiting and open a new log stream now"))
        self.reconnect_button.setVisible(taken or slow)
        not_live = [self.model.name(d) for d in self.device_ids if not session.is_live(d)]
        parts = [self.tr("Stream: %s") % session.state_text, session.slots_text,
                 self.tr("%s lines (keeps %s)") % (f"{self.model.rowCount():,}",
                                                   f"{self.model.max_lines:,}")]
        if session.state == OPEN and not_live:
            parts.append(self.tr("not live: %s") % ", ".join(not_live))
        if self.paused:
            parts.append(self.tr("PAUSED — %d new lines waiting") % len(self.buffer))
        if self.proxy.rowCount() != self.model.rowCount():
            parts.append(self.tr("%d shown") % self.proxy.rowCount())
        self.status.setText(" · ".join(parts))

