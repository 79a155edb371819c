"""The activity journal: every change made from the app, with time, action, target and result."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

OK = "ok"
CSV_HEADER = ("time", "action", "target", "result")


@dataclass(frozen=True)
class Entry:
    """One change: `result` is "ok" or the error text shown to the user."""

    time: datetime
    action: str
    target: str
    result: str

    @property
    def ok(self) -> bool:
        return self.result == OK


class Journal:
    """An in-memory list of entries; listeners hear about each new one (on the caller's thread)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.entries: list[Entry] = []
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._listeners: list[Callable[[Entry], None]] = []

    def subscribe(self, listener: Callable[[Entry], None]) -> None:
        self._listeners.append(listener)

    def record(self, action: str, target: str, result: str = OK) -> Entry:
        entry = Entry(self._clock(), action, target, result or OK)
        self.entries.append(entry)
        for listener in list(self._listeners):
            listener(entry)
        return entry

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for e in self.entries:
            writer.writerow((e.time.isoformat(timespec="seconds"), _cell(e.action),
                             _cell(e.target), _cell(e.result)))
        return out.getvalue()

    def export_csv(self, path: str | Path) -> int:
        """Write the journal as UTF-8 CSV; returns the number of entries written."""
        Path(path).write_text(self.to_csv(), encoding="utf-8", newline="")
        return len(self.entries)


def _cell(text: str) -> str:
    """Keep spreadsheets from running server-supplied text as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
