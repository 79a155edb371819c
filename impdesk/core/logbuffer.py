"""Log lines for display: control-character stripping and a thread-safe bounded hand-off buffer."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

from ..api.records import LogEntry

DEFAULT_MAX_LINES = 100_000

# ANSI/VT escape sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|"
                   r"\x9b[0-?]*[ -/]*[@-~]")
# C0 (except TAB and LF), DEL, C1, and bidi overrides/isolates that could disguise text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Device text as plain text: ANSI escapes and control characters removed, CR/CRLF → LF."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text or "\x9b" in text:
        text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    return text.replace("\t", "    ")


class LogLine(NamedTuple):
    """One entry ready for display: the cleaned message, plus a one-line form for the table.

    A tuple of strings: the garbage collector stops tracking it, so 100,000 kept lines do not
    lengthen full collections (which would stall the UI).
    """

    device_id: str
    ts: str
    type: str
    msg: str
    one_line: str
    log_type: str | None = None

    @classmethod
    def of(cls, entry: LogEntry) -> LogLine:
        msg = clean_text(entry.msg)
        one_line = msg.replace("\n", " ⏎ ") if "\n" in msg else msg
        log_type = entry.log_type if isinstance(entry.log_type, str) else None
        return cls(entry.device_id, entry.ts, entry.type, msg, one_line, log_type)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The de-duplication key (device, ts, type, cleaned message)."""
        return (self.device_id, self.ts, self.type, self.msg)

    @property
    def is_error(self) -> bool:
        return self.type.endswith(".error")


class LogBuffer:
    """Lines handed from the reader thread to the UI; bounded, the oldest dropped first.

    `append`/`extend` may run on any thread; the UI takes everything at once with `take_all()`.
    """

    def __init__(self, max_lines: int = DEFAULT_MAX_LINES) -> None:
        self._lock = threading.Lock()
        self._lines: deque[LogLine] = deque(maxlen=max(1, max_lines))
        self.dropped = 0  # lines that fell off the head before the UI took them
        self.received = 0

    @property
    def max_lines(self) -> int:
        return self._lines.maxlen or 0

    def append(self, line: LogLine) -> None:
        with self._lock:
            if len(self._lines) == self._lines.maxlen:
                self.dropped += 1
            self._lines.append(line)
            self.received += 1

    def extend(self, lines: Iterable[LogLine]) -> None:
        with self._lock:
            for line in lines:
                if len(self._lines) == self._lines.maxlen:
                    self.dropped += 1
                self._lines.append(line)
                self.received += 1

    def take_all(self) -> list[LogLine]:
        """Everything waiting, oldest first; the buffer is empty afterwards."""
        with self._lock:
            if not self._lines:
                return []
            out = list(self._lines)
            self._lines.clear()
            return out

    def keys(self) -> set[tuple[str, str, str, str]]:
        with self._lock:
            return {line.key for line in self._lines}

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()

    def __len__(self) -> int:
        return len(self._lines)
