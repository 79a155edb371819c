"""The log table model over a ring buffer of lines, and its filter proxy (type, device, text)."""

from __future__ import annotations

import functools
import html
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from ...core.logbuffer import DEFAULT_MAX_LINES, LogLine
from ...core.loghistory import display_time
from .. import theme

Index = QModelIndex | QPersistentModelIndex
_time_text = functools.lru_cache(maxsize=8192)(display_time)  # mostly rows on screen

# Colours by type: errors stand out; the cloud's own lines are muted. One set per palette.
TYPE_COLOURS = {
    "device.error": "#b71c1c", "agent.error": "#b71c1c",
    "status": "#546e7a", "lastexitcode": "#6a1b9a", "powerstate": "#795548",
    "firmware": "#00796b", "server.sleep": "#6b7f8a", "agent.log": "#2e5c8a",
}
DARK_TYPE_COLOURS = {
    "device.error": "#ff8a80", "agent.error": "#ff8a80",
    "status": "#a7bcc7", "lastexitcode": "#ce93d8", "powerstate": "#d7b8a8",
    "firmware": "#80cbc4", "server.sleep": "#9fb3bf", "agent.log": "#90caf9",
}
# Per-device colours (distinct hues, readable on light and dark backgrounds).
DEVICE_COLOURS = ("#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#e53935",
                  "#6d4c41", "#3949ab", "#c0ca33", "#d81b60", "#00897b", "#757575")
KNOWN_TYPES = ("device.log", "device.error", "agent.log", "agent.error", "status",
               "lastexitcode", "powerstate", "firmware", "server.sleep")


class Column(IntEnum):
    """The table's columns."""

    TIME = 0  #: local or UTC timestamp
    DEVICE = 1  #: device name, in the device's colour
    TYPE = 2  #: log type, coloured by type
    MESSAGE = 3  #: the message on one line (⏎ marks line breaks)


HEADERS = ("Time", "Device", "Type", "Message")
_COLUMNS = len(Column)  # Qt asks on every index(): keep it cheap


class LogRole(IntEnum):
    """Data roles beside DisplayRole."""

    LINE = Qt.ItemDataRole.UserRole + 1  #: the LogLine
    DEVICE = Qt.ItemDataRole.UserRole + 2  #: device id
    TYPE = Qt.ItemDataRole.UserRole + 3  #: log type (aliases resolved)


_ROLES = frozenset({
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole, *LogRole})


class LogModel(QAbstractTableModel):
    """Lines in arrival/time order in a bounded deque; the oldest fall off the head."""

    def __init__(self, name_of: Callable[[str], str], max_lines: int = DEFAULT_MAX_LINES,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: deque[LogLine] = deque()
        self.max_lines = max(1, max_lines)
        self.name_of = name_of
        self.utc = False
        self.trimmed = 0  # lines dropped off the head since the last clear
        self._names: dict[str, str] = {}
        self._device_colour: dict[str, QColor] = {}
        self._device_brush: dict[str, QBrush] = {}
        self._dark = not theme.is_dark()
        self.restyle()

    def restyle(self) -> bool:
        """Pick the colours for the current palette; True (and repaint) when they changed."""
        dark = theme.is_dark()
        if dark == self._dark:
            return False
        self._dark = dark
        colours = DARK_TYPE_COLOURS if dark else TYPE_COLOURS
        self._type_brush = {t: QBrush(QColor(c)) for t, c in colours.items()}
        self._error_bg = QBrush(theme.error_background())
        self._device_brush.clear()
        if self.rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.rows) - 1, _COLUMNS - 1),
                                  [Qt.ItemDataRole.ForegroundRole,
                                   Qt.ItemDataRole.BackgroundRole,
                                   Qt.ItemDataRole.DecorationRole])
        return True

    # -- devices -------------------------------------------------------------------------------
    def set_devices(self, device_ids: Sequence[str]) -> None:
        """Fix names and colours for the view's devices."""
        for device_id in device_ids:
            self._names[device_id] = self.name_of(device_id)
            if device_id not in self._device_colour:
                colour = DEVICE_COLOURS[len(self._device_colour) % len(DEVICE_COLOURS)]
                self._device_colour[device_id] = QColor(colour)

    def name(self, device_id: str) -> str:
        name = self._names.get(device_id)
        if name is None:
            name = self._names[device_id] = self.name_of(device_id)
        return name

    def device_colour(self, device_id: str) -> QColor:
        return self._device_colour.get(device_id) or QColor(DEVICE_COLOURS[-1])

    def device_brush(self, device_id: str) -> QBrush:
        """The device's name colour: its swatch colour, darkened or lightened to be readable."""
        brush = self._device_brush.get(device_id)
        if brush is None:
            colour = _readable(self.device_colour(device_id), self._dark)
            brush = self._device_brush[device_id] = QBrush(colour)
        return brush

    # -- Qt model ------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else _COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.tr(HEADERS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():  # font, alignment, check state, …
            return None
        line = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == Column.MESSAGE:
                return line.one_line
            if column == Column.TIME:
                return self.time_text(line)
            if column == Column.DEVICE:
                return self.name(line.device_id)
            return line.type
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == Column.DEVICE:
                return self.device_brush(line.device_id)
            return self._type_brush.get(line.type) if column != Column.TIME else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._error_bg if line.is_error else None
        if role == Qt.ItemDataRole.DecorationRole and column == Column.DEVICE:
            return self.device_colour(line.device_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            text = f"{self.name(line.device_id)} ({line.device_id})\n{line.ts}  {line.type}" \
                   f"\n\n{line.msg}"
            return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"
        if role == LogRole.LINE:
            return line
        if role == LogRole.DEVICE:
            return line.device_id
        if role == LogRole.TYPE:
            return line.type
        return None

    def time_text(self, line: LogLine) -> str:
        return _time_text(line.ts, self.utc)

    def display(self, line: LogLine) -> str:
        """The whole row as one line of text (find searches it)."""
        return f"{self.time_text(line)}  {self.name(line.device_id)}  {line.type}  " \
               f"{line.one_line}"

    def line(self, row: int) -> LogLine:
        return self.rows[row]

    # -- changes -------------------------------------------------------------------------------
    def append(self, lines: Sequence[LogLine]) -> None:
        """Add a batch at the end with one insertion, then trim the head past the cap."""
        if not lines:
            return
        if len(lines) > self.max_lines:
            self.trimmed += len(lines) - self.max_lines
            lines = lines[-self.max_lines:]
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(lines) - 1)
        self.rows.extend(lines)
        self.endInsertRows()
        self._trim()

    def prepend(self, lines: Sequence[LogLine]) -> int:
        """Add older lines at the top (as many as fit under the cap); returns how many."""
        room = self.max_lines - len(self.rows)
        if room <= 0 or not lines:
            return 0
        lines = lines[-room:]
        self.beginInsertRows(QModelIndex(), 0, len(lines) - 1)
        self.rows.extendleft(reversed(lines))
        self.endInsertRows()
        return len(lines)

    def merge_history(self, lines: Iterable[LogLine], also_seen: set | None = None) -> int:
        """The first history page: drop lines already shown live, put the rest on top."""
        seen = {line.key for line in self.rows} | (also_seen or set())
        fresh = [line for line in lines if line.key not in seen]
        return self.prepend(fresh)

    def set_max_lines(self, max_lines: int) -> None:
        self.max_lines = max(1, max_lines)
        self._trim()

    def set_utc(self, utc: bool) -> None:
        if utc != self.utc:
            self.utc = utc
            if self.rows:
                self.dataChanged.emit(self.index(0, Column.TIME),
                                      self.index(len(self.rows) - 1, Column.TIME),
                                      [Qt.ItemDataRole.DisplayRole])

    def clear(self) -> None:
        self.beginResetModel()
        self.rows.clear()
        self.trimmed = 0
        self.endResetModel()

    def _trim(self) -> None:
        excess = len(self.rows) - self.max_lines
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            for _ in range(excess):
                self.rows.popleft()
            self.endRemoveRows()
            self.trimmed += excess


def _readable(colour: QColor, dark: bool) -> QColor:
    """`colour` made darker (light palette) or lighter (dark palette) until text in it reads."""
    colour = QColor(colour)
    for _ in range(8):
        if dark and colour.lightness() < 150:
            colour = colour.lighter(118)
        elif not dark and colour.lightness() > 95:
            colour = colour.darker(118)
        else:
            break
    return colour


class LogFilterProxy(QSortFilterProxyModel):
    """Filters by type, device and text or a regular expression (no sorting: time order)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.types: set[str] | None = None  # None = every type
        self.devices: set[str] | None = None  # None = every device
        self._needle = ""
        self._regex: re.Pattern[str] | None = None
        self.pattern_error = ""
        self._active = False
        self.setDynamicSortFilter(False)

    def set_types(self, types: Iterable[str] | None) -> None:
        self.beginFilterChange()
        self.types = set(types) if types is not None else None
        self._refilter()

    def set_devices(self, devices: Iterable[str] | None) -> None:
        self.beginFilterChange()
        self.devices = set(devices) if devices is not None else None
        self._refilter()

    def set_text(self, text: str, regex: bool = False) -> str:
        """Filter by text (case-insensitive); returns an error for an invalid expression."""
        self.beginFilterChange()
        self.pattern_error = ""
        self._needle, self._regex = "", None
        if text and regex:
            try:
                self._regex = re.compile(text, re.IGNORECASE)
            except re.error as exc:
                self.pattern_error = f"Invalid regular expression: {exc}"
        elif text:
            self._needle = text.casefold()
        self._refilter()
        return self.pattern_error

    def _refilter(self) -> None:
        self._active = bool(self.types is not None or self.devices is not None
                            or self._needle or self._regex is not None)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def accepts(self, line: LogLine) -> bool:
        if self.types is not None and line.type not in self.types:
            return False
        if self.devices is not None and line.device_id not in self.devices:
            return False
        if self._needle:
            return self._needle in line.msg.casefold()
        if self._regex is not None:
            return self._regex.search(line.msg) is not None
        return True

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._active:
            return True
        return self.accepts(self.sourceModel().rows[source_row])

    def line(self, row: int) -> LogLine:
        return self.sourceModel().rows[self.mapToSource(self.index(row, 0)).row()]
