"""One live log stream per account, shared by every log view, with the 8-device slot accounting."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..api.logstreams import (
    CONNECTING,
    DEVICES_PER_STREAM,
    OPEN,
    RECONNECTING,
    STOPPED,
    TAKEN_OVER,
    LogStreamReader,
)
from ..api.records import LogEntry
from .logbuffer import LogBuffer, LogLine

log = logging.getLogger(__name__)

SLOTS = DEVICES_PER_STREAM
OPEN_WAIT_S = 5.0  # how long watch() waits for the stream to open before subscribing anyway
STOP_WAIT_S = 3.0

STATE_TEXT = {
    CONNECTING: "connecting…",
    OPEN: "live",
    RECONNECTING: "reconnecting…",
    TAKEN_OVER: "taken over by another client",
    STOPPED: "off",
}


@dataclass
class WatchResult:
    """What a watch request did, for the view to show."""

    live: list[str] = field(default_factory=list)  # requested devices now streaming
    evicted: list[str] = field(default_factory=list)  # devices (of any view) that lost a slot
    skipped: list[str] = field(default_factory=list)  # requested beyond the 8 slots
    message: str = ""  # a plain-text explanation; "" when there is nothing to explain


class LogSubscriber:
    """A log view's end of the session: the devices it shows and the buffer the reader fills."""

    def __init__(self, buffer: LogBuffer, devices: Iterable[str] = ()) -> None:
        self.buffer = buffer
        self.devices: list[str] = list(devices)
        self.notice = ""  # the latest explanation that concerns this view


class LogSession:
    """The account's single `LogStreamReader` and the views that share it.

    Entries are routed on the reader thread straight into each interested view's `LogBuffer`.
    State and slot changes call `notify()` from whichever thread saw them (the GUI hops to
    its own thread). `watch`, `unwatch`, `detach` and `stop` block on the network: call them
    off the UI thread.
    """

    def __init__(self, client: Any, *, notify: Callable[[], None] | None = None,
                 name_of: Callable[[str], str] | None = None,
                 reader_factory: Callable[..., LogStreamReader] = LogStreamReader,
                 slots: int = SLOTS, open_wait_s: float = OPEN_WAIT_S) -> None:
        self.client = client
        self.notify = notify or (lambda: None)
        self.name_of = name_of or (lambda device_id: device_id)
        self.reader_factory = reader_factory
        self.slots = slots
        self.open_wait_s = open_wait_s
        self._lock = threading.RLock()
        self._watching = threading.Lock()  # one watch/unwatch at a time: exact slot accounting
        self._subs: list[LogSubscriber] = []
        self._routes: dict[str, tuple[LogBuffer, ...]] = {}
        self._reader: LogStreamReader | None = None
        self._opened = threading.Event()
        self._expected_gone: set[str] = set()
        self._takeover_notice = ""
        self.state = STOPPED
        self.state_since = time.monotonic()  # when `state` last changed
        self.detail = ""
        self.live: list[str] = []  # streaming devices, least recently added first
        self.notice = ""  # the latest session-wide explanation (evictions, take-over)
        self.closed = False

    # -- status --------------------------------------------------------------------------------
    @property
    def slots_text(self) -> str:
        return f"{len(self.live)} of {self.slots} live slots"

    @property
    def state_text(self) -> str:
        return STATE_TEXT.get(self.state, self.state)

    @property
    def running(self) -> bool:
        reader = self._reader
        thread = getattr(reader, "_thread", None) if reader else None
        return bool(thread is not None and thread.is_alive())

    def is_live(self, device_id: str) -> bool:
        return device_id in self.live

    # -- views ---------------------------------------------------------------------------------
    def attach(self, sub: LogSubscriber) -> None:
        with self._lock:
            if sub not in self._subs:
                self._subs.append(sub)
            self._reroute()

    def watch(self, sub: LogSubscriber, device_ids: Iterable[str]) -> WatchResult:
        """Stream `device_ids` into `sub` (at most 8); explains any device that lost its slot."""
        wanted = list(dict.fromkeys(device_ids))
        result = WatchResult(skipped=wanted[self.slots:])
        wanted = wanted[:self.slots]
        with self._lock:
            if self.closed:
                return result
            self.attach(sub)
            for device_id in wanted:
                if device_id not in sub.devices:
                    sub.devices.append(device_id)
            self._reroute()
            reader = self._ensure_reader()
        if self.state != TAKEN_OVER:  # a taken-over stream waits for Reconnect, not for us
            self._opened.wait(self.open_wait_s)
        if self.closed or self._reader is not reader:  # stopped while we waited
            return result
        with self._watching:
            with self._lock:
                # Free slots ourselves, least recently added first, never one this request
                # wants (the reader's own eviction would not know an already-live device is).
                live = reader.devices
                to_add = [d for d in wanted if d not in live]
                need = len(live) + len(to_add) - self.slots
                victims = [d for d in live if d not in wanted][:max(0, need)]
                self._expected_gone.update(victims)
            for device_id in victims:  # network calls: outside the callbacks' lock
                reader.unwatch(device_id)
                result.evicted.append(device_id)
            for device_id in to_add:
                evicted = reader.watch(device_id)  # None: a slot is free
                if evicted is not None:
                    result.evicted.append(evicted)
        result.live = [d for d in wanted if d in reader.devices]
        if result.evicted:
            names = ", ".join(f"‘{self.name_of(d)}’" for d in result.evicted)
            added = ", ".join(f"‘{self.name_of(d)}’" for d in to_add if d in result.live)
            text = (f"All {self.slots} live slots were in use: a log stream carries at most "
                    f"{self.slots} devices, so live logs for {names} stopped to make room for "
                    f"{added}. Their history stays available; close a log view to free a slot.")
            result.message = text
            with self._lock:
                self.notice = text
                for other in self._subs:
                    if any(d in other.devices for d in result.evicted):
                        other.notice = text
        if result.skipped:
            more = (f"Only the first {self.slots} devices stream live: a log stream carries at "
                    f"most {self.slots}; {len(result.skipped)} more were left out.")
            result.message = f"{result.message} {more}".strip()
        self.notify()
        return result

    def unwatch(self, sub: LogSubscriber, device_ids: Iterable[str]) -> None:
        gone = list(device_ids)
        with self._lock:
            sub.devices = [d for d in sub.devices if d not in gone]
            unused = [d for d in gone if not any(d in s.devices for s in self._subs)]
            self._expected_gone.update(unused)
            self._reroute()
            reader = self._reader
        if reader is not None:
            with self._watching:
                for device_id in unused:
                    reader.unwatch(device_id)

    def detach(self, sub: LogSubscriber) -> None:
        """A view closed: free the devices nobody else shows; stop the stream when none is left."""
        self.unwatch(sub, list(sub.devices))
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            self._reroute()
            idle = not self._subs
        if idle:
            self.stop()

    def note_history(self, device_id: str, entries: list[LogEntry]) -> None:
        """History a view showed: a backfill after a reconnect starts after it."""
        reader = self._reader
        if reader is not None:
            reader.note_seen(device_id, entries)

    def reconnect(self) -> None:
        """After a take-over, or to cut a reconnection's back-off short: a fresh reader for
        every device still wanted (blocking)."""
        with self._lock:
            old, self._reader = self._reader, None
            wanted = list(dict.fromkeys(d for s in self._subs for d in s.devices))[-self.slots:]
        if old is not None:
            old.stop(STOP_WAIT_S)
        with self._lock:
            if self.closed:
                return
            gone, self._takeover_notice = self._takeover_notice, ""
            if gone:  # the take-over is over; other explanations stay
                for sub in self._subs:
                    if sub.notice == gone:
                        sub.notice = ""
                if self.notice == gone:
                    self.notice = ""
            reader = self._ensure_reader()
        for device_id in wanted:
            reader.watch(device_id)
        self.notify()

    def stop(self) -> None:
        """Stop the reader thread (prompt: its blocked read is woken)."""
        with self._lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.stop(STOP_WAIT_S)
        with self._lock:
            self.live = []
            self._set_state(STOPPED)
            self._opened.set()  # wakes a watch() waiting for the stream; it sees the stop
        self.notify()

    def close(self) -> None:
        """Sign-out or window close: stop and refuse further watching."""
        self.closed = True
        self.stop()

    # -- reader callbacks (reader thread, or the thread calling watch) -------------------------
    def _ensure_reader(self) -> LogStreamReader:
        if self._reader is None:
            self._opened.clear()
            self._reader = self.reader_factory(
                self.client, on_entry=self._on_entry, on_state=self._on_state,
                on_subscriptions=self._on_subscriptions)
            self._reader.start()
        return self._reader

    def _reroute(self) -> None:
        routes: dict[str, list[LogBuffer]] = {}
        for sub in self._subs:
            for device_id in sub.devices:
                routes.setdefault(device_id, []).append(sub.buffer)
        self._routes = {d: tuple(bufs) for d, bufs in routes.items()}

    def _on_entry(self, entry: LogEntry) -> None:
        buffers = self._routes.get(entry.device_id)
        if buffers:
            line = LogLine.of(entry)
            for buffer in buffers:
                buffer.append(line)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state_since = time.monotonic()
        self.state = state

    def _on_state(self, state: str, detail: str) -> None:
        with self._lock:
            self._set_state(state)
            if state == OPEN:
                self._opened.set()
            else:
                self._opened.clear()
            if state == TAKEN_OVER:
                self.detail = detail or "Another client of this account took over the stream."
                self.notice = (f"{self.detail} impdesk stopped reconnecting so the two do not "
                               "keep closing each other's stream; use Reconnect to take it back.")
                self._takeover_notice = self.notice
                for sub in self._subs:  # every view shows it: all their live lines stopped
                    sub.notice = self.notice
            elif state in (OPEN, CONNECTING):
                self.detail = ""
            if detail and state == OPEN:
                self.detail = detail
        self.notify()

    def _on_subscriptions(self, device_ids: list[str]) -> None:
        with self._lock:
            before = self.live
            self.live = list(device_ids)
            dropped = [d for d in before if d not in self.live and d not in self._expected_gone]
            self._expected_gone.difference_update(d for d in before if d not in self.live)
            if dropped:  # the service evicted them (its limit may be lower than ours)
                names = ", ".join(f"‘{self.name_of(d)}’" for d in dropped)
                self.notice = (f"The service stopped streaming {names}: its limit of devices "
                               "per log stream was reached. History stays available.")
                for sub in self._subs:
                    if any(d in sub.devices for d in dropped):
                        sub.notice = self.notice
        self.notify()
