"""An incremental Server-Sent Events parser following the WHATWG rules (LF, CR or CRLF)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event (`comment` events carry keep-alive comments)."""

    event: str
    data: str
    id: str | None = None
    retry_ms: int | None = None


COMMENT = "comment"


class SseParser:
    """Feed raw bytes in any chunking; get the same events back."""

    def __init__(self) -> None:
        # utf-8-sig: a byte order mark at the very start is dropped, as the SSE spec asks.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._buffer = ""
        self._pending_cr = False  # a CR ended the last chunk: a following LF belongs to it
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        text = self._decoder.decode(chunk)
        if not text:
            return []  # an empty or partial chunk: keep a pending CR for the next one
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = False
        self._buffer += text
        events: list[SseEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            end, width = cut
            line = self._buffer[:end]
            if width == 1 and self._buffer[end] == "\r" and end + 1 == len(self._buffer):
                self._pending_cr = True  # maybe half of a CRLF split across chunks
            self._buffer = self._buffer[end + width:]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> SseEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return SseEvent(COMMENT, line[1:].lstrip(" "))
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent(self._event or "message", "\n".join(self._data), self._last_id,
                         self._retry)
        self._data = []
        self._event = ""
        return event


def _line_end(buffer: str) -> tuple[int, int] | None:
    """Index and width of the first line end (CRLF counts as one)."""
    lf = buffer.find("\n")
    cr = buffer.find("\r")
    if cr == -1 and lf == -1:
        return None
    if cr == -1 or (lf != -1 and lf < cr):
        return lf, 1
    if cr + 1 < len(buffer) and buffer[cr + 1] == "\n":
        return cr, 2
    return cr, 1
