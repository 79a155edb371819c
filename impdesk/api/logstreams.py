"""Live logs: one stream per account, ≤ 8 devices, reconnects and backfills (§3.6)."""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from .errors import ApiError, NotFound
from .records import LogEntry
from .sse import COMMENT, SseEvent, SseParser

log = logging.getLogger(__name__)

DEVICES_PER_STREAM = 8
KEEP_ALIVE_S = 30.0
DEAD_MARGIN_S = 5.0  # silence beyond two keep-alives plus this means a dead connection (§3.6.7)
TAKEN_OVER_WINDOW_S = 60.0
BACKOFF_MIN_S, BACKOFF_MAX_S = 1.0, 60.0
BACKFILL_MAX_PAGES = 10
# What a broken connection can raise; urllib3's own errors escape raw.read1() unwrapped.
STREAM_ERRORS = (ApiError, requests.RequestException, urllib3.exceptions.HTTPError, OSError)
_HEX16 = re.compile(r"\b[0-9a-fA-F]{16}\b")

# Connection states reported through `on_state`.
CONNECTING, OPEN, RECONNECTING, TAKEN_OVER, STOPPED = (
    "connecting", "open", "reconnecting", "taken_over", "stopped")


class LogStreamsMixin:
    """Low-level log-stream calls (the reader below uses them)."""

    def create_log_stream(self: Any) -> tuple[str, str]:
        """Create a stream; returns (stream id, stream URL checked against our origin).

        An older service answered with a redirect whose `Location` is the stream URL and whose
        last path segment is the id (§7.1 #28); both answers are understood.
        """
        resp = self._send("POST", self.url("/logstream"), retry=False)
        if 300 <= resp.status_code < 400 and resp.headers.get("Location"):
            url = self.url(urljoin(resp.url, resp.headers["Location"]))
            stream_id = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
            return stream_id, f"{self.base_url}/logstream/{stream_id}"
        doc = self._decode(resp)
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            raise ApiError(200, message="The service did not describe the new log stream.")
        stream_id = str(data["id"])
        return stream_id, f"{self.base_url}/logstream/{stream_id}"

    def subscribe_device(self: Any, stream_id: str, device_id: str) -> None:
        self.request("PUT", f"/logstream/{stream_id}/{device_id}")

    def unsubscribe_device(self: Any, stream_id: str, device_id: str) -> None:
        self.request("DELETE", f"/logstream/{stream_id}/{device_id}")


def parse_stream_event(event: SseEvent) -> tuple[str, Any]:
    """('message', LogEntry) or ('state', (state, device_id)) from a JSON or text event."""
    data = event.data
    if event.event == "message":
        if data.startswith("{"):
            try:
                return "message", LogEntry.from_json(json.loads(data))
            except ValueError:
                pass
        parts = data.split(" ", 4)
        if len(parts) >= 4:
            device_id, ts, log_type, type_ = parts[:4]
            msg = parts[4] if len(parts) > 4 else ""
            return "message", LogEntry.from_json(
                {"device_id": device_id, "ts": ts, "log_type": log_type, "type": type_,
                 "msg": msg})
        return "unknown", data
    if event.event == "state_change":
        if data.startswith("{"):
            try:
                obj = json.loads(data)
                return "state", (str(obj.get("state", "")), obj.get("device_id"))
            except ValueError:
                pass
        words = data.split()
        device = next((w for w in words if _HEX16.fullmatch(w)), None)
        state = next((w for w in words if w != device), "")
        return "state", (state, device.lower() if device else None)
    return "unknown", data


class LogStreamReader:
    """Reads one account's log stream on its own thread.

    Callbacks run on the reader thread (the GUI hops to its loop with call_soon_threadsafe):
    `on_entry(LogEntry)`, `on_state(state, detail)`, `on_subscriptions(list of device ids)`.
    """

    def __init__(self, client: Any, *, on_entry: Callable[[LogEntry], None],
                 on_state: Callable[[str, str], None] | None = None,
                 on_subscriptions: Callable[[list[str]], None] | None = None,
                 keep_alive_s: float = KEEP_ALIVE_S, backfill: bool = True,
                 rng: random.Random | None = None) -> None:
        self.client = client
        self.on_entry = on_entry
        self.on_state = on_state or (lambda state, detail: None)
        self.on_subscriptions = on_subscriptions or (lambda ids: None)
        self.keep_alive_s = keep_alive_s
        self.backfill = backfill
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._wanted: OrderedDict[str, None] = OrderedDict()  # least recently added first
        self._subscribed: set[str] = set()
        self._stream: tuple[str, str] | None = None
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._seen: OrderedDict[tuple, None] = OrderedDict()  # recent keys, for de-duplication
        self._last_ts: dict[str, str] = {}
        self._closed_at: deque[float] = deque(maxlen=2)
        self.state = STOPPED
        self.delivered = 0
        self._opened_once = False  # a later connection is a resumption: backfill the gap

    # -- public --------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="impdesk-logstream",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop promptly from any thread: wake the blocked read by shutting the socket."""
        self._stop.set()
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        self._set_state(STOPPED, "")

    @property
    def devices(self) -> list[str]:
        with self._lock:
            return list(self._wanted)

    def watch(self, device_id: str) -> str | None:
        """Add a device; returns the device evicted to stay within 8, if any."""
        evicted = None
        with self._lock:
            if device_id in self._wanted:
                return None
            if len(self._wanted) >= DEVICES_PER_STREAM:
                evicted, _ = self._wanted.popitem(last=False)
            self._wanted[device_id] = None
            stream = self._stream
        if stream is not None:
            if evicted is not None:
                self._safe(lambda: self.client.unsubscribe_device(stream[0], evicted))
            self._safe(lambda: self.client.subscribe_device(stream[0], device_id))
        self._announce()
        return evicted

    def unwatch(self, device_id: str) -> None:
        with self._lock:
            if device_id not in self._wanted:
                return
            del self._wanted[device_id]
            stream = self._stream
        if stream is not None:
            self._safe(lambda: self.client.unsubscribe_device(stream[0], device_id))
        self._announce()

    def note_seen(self, device_id: str, entries: list[LogEntry]) -> None:
        """Entries a view showed from history: a later backfill starts after them, skips them.

        Without this a device that logged nothing live before a drop has no gap start.
        """
        newest = max((e.ts for e in entries), default="")
        if newest >= self._last_ts.get(device_id, ""):
            self._last_ts[device_id] = newest
        for entry in entries:
            self._seen[entry.key] = None

    # -- the reader thread ----------------------------------------------------------------------
    def _run(self) -> None:
        backoff = BACKOFF_MIN_S
        first = True
        while not self._stop.is_set():
            try:
                if self._stream is None:
                    self._set_state(CONNECTING if first else RECONNECTING, "")
                    self._stream = self.client.create_log_stream()
                    self._subscribed.clear()
                outcome = self._read(self._stream, resumed=self._opened_once)
                first = False
                if outcome == "ok":
                    backoff = BACKOFF_MIN_S
            except NotFound:
                self._stream = None  # the stream is gone: a new one, with resubscription
                continue
            except STREAM_ERRORS as exc:
                if self._stop.is_set():
                    break
                log.info("log stream interrupted: %s", type(exc).__name__)
                outcome = "error"
            if self._stop.is_set():
                break
            if outcome == "closed":
                now = time.monotonic()
                self._closed_at.append(now)
                if len(self._closed_at) == 2 and now - self._closed_at[0] < TAKEN_OVER_WINDOW_S:
                    self._set_state(TAKEN_OVER, "Another client of this account took over the "
                                                "log stream.")
                    return
                self._stream = None
            self._set_state(RECONNECTING, "")
            delay = self.rng.uniform(backoff / 2, backoff)
            backoff = min(BACKOFF_MAX_S, backoff * 2)
            if self._stop.wait(delay):
                break

    def _read(self, stream: tuple[str, str], resumed: bool) -> str:
        """Hold one connection until it ends: 'closed' (server said so), 'ok' or raises."""
        stream_id, url = stream
        silence = 2 * self.keep_alive_s + DEAD_MARGIN_S  # the read timeout: a dead path
        ticket = self.client.limiter.acquire()
        try:
            resp = self.client.http.get(self.client.url(url), params={"format": "json"},
                                        stream=True, timeout=(3.05, silence),
                                        headers={"Accept": "text/event-stream"})
        except BaseException:
            self.client.limiter.release(None, ticket)
            raise
        self.client.limiter.release(resp.headers, ticket)  # the stream counts once, when opened
        try:
            if resp.status_code == 404:
                raise NotFound(404, message="The log stream is gone.")
            if resp.status_code != 200:
                raise ApiError(resp.status_code, message="The log stream could not be opened.")
            self._sock = _socket_of(resp)
            if self._stop.is_set():
                return "ok"
            parser = SseParser()
            for chunk in _chunks(resp):
                for event in parser.feed(chunk):
                    if event.event == COMMENT:
                        continue
                    if self._handle(event, stream_id, resumed) == "closed":
                        return "closed"
            return "ok"
        finally:
            self._sock = None
            resp.close()

    def _handle(self, event: SseEvent, stream_id: str, resumed: bool) -> str | None:
        kind, value = parse_stream_event(event)
        if kind == "message":
            self._deliver(value)
        elif kind == "state":
            state, device_id = value
            if state == "opened":
                # OPEN is reported only once every wanted device is subscribed again and the
                # gap is backfilled: a caller that sees OPEN can rely on lines arriving.
                self._opened_once = True
                self._sync_subscriptions(stream_id)
                if resumed and self.backfill:
                    self._backfill()
                self._set_state(OPEN, "")
            elif state == "subscribed" and device_id:
                self._subscribed.add(device_id)
            elif state == "unsubscribed" and device_id:
                self._subscribed.discard(device_id)
                with self._lock:
                    lost = device_id in self._wanted
                    self._wanted.pop(device_id, None)
                if lost:  # evicted by the service: trust the event, not the number (§7.1 #19)
                    self._set_state(OPEN, f"The service stopped streaming {device_id}.")
                    self._announce()
            elif state == "closed":
                return "closed"
        return None

    def _sync_subscriptions(self, stream_id: str) -> None:
        with self._lock:
            wanted = list(self._wanted)
        for device_id in wanted:
            if device_id not in self._subscribed:
                self._safe(lambda d=device_id: self.client.subscribe_device(stream_id, d))

    def _backfill(self) -> None:
        """Fetch what was logged while disconnected; duplicates are dropped by key."""
        with self._lock:
            wanted = list(self._wanted)
        for device_id in wanted:
            since = self._last_ts.get(device_id)
            if since is None:
                continue
            gap: list[LogEntry] = []
            for page in range(1, BACKFILL_MAX_PAGES + 1):
                try:
                    entries, more = self.client.device_logs_page(device_id, page, 100)
                except ApiError:
                    break
                gap.extend(e for e in entries if e.ts >= since)
                if not more or any(e.ts < since for e in entries):
                    break
            for entry in sorted(gap, key=lambda e: e.ts):
                self._deliver(entry)

    def _deliver(self, entry: LogEntry) -> None:
        key = entry.key
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > 5000:
            self._seen.popitem(last=False)
        if entry.ts > self._last_ts.get(entry.device_id, ""):
            self._last_ts[entry.device_id] = entry.ts
        self.delivered += 1
        self.on_entry(entry)

    def _safe(self, call: Callable[[], None]) -> None:
        try:
            call()
        except ApiError as exc:
            log.info("log stream subscription call failed: %s", exc.code or exc.status)

    def _announce(self) -> None:
        self.on_subscriptions(self.devices)

    def _set_state(self, state: str, detail: str) -> None:
        self.state = state
        self.on_state(state, detail)


def _chunks(resp: requests.Response, size: int = 65536) -> Iterator[bytes]:
    """The body's bytes as they arrive.

    `iter_content(None)` would read a stream without Content-Length or chunking (the emulator's,
    which ends when the connection closes, §3.6.3) to its very end before yielding anything.
    """
    read1 = getattr(resp.raw, "read1", None)
    if read1 is None:  # urllib3 < 2
        yield from resp.iter_content(chunk_size=1)
        return
    while True:
        chunk = read1(size)
        if not chunk:
            return
        yield chunk


def _socket_of(resp: requests.Response) -> socket.socket | None:
    """The socket under a streamed response, so stop() can shut its read side.

    WORKAROUND(https://github.com/psf/requests/issues/4762): closing a response from another
    thread does not wake a blocked read; shutting the socket down does.
    """
    # With `Connection: close` (the stream's) http.client drops `connection.sock` (None), but
    # the response's file object still holds the socket: try both.
    for path in (("connection", "sock"), ("_fp", "fp", "raw", "_sock")):
        obj: Any = resp.raw
        for name in path:
            obj = getattr(obj, name, None)
        if isinstance(obj, socket.socket):
            return obj
    return None
