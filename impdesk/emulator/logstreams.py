"""The log-stream hub (§3.6): streams, subscriptions, SSE framing and connection writers."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import select
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from .clock import iso
from .errors import ApiError

log = logging.getLogger(__name__)

KEEP_ALIVE = b": keep-alive\n\n"
POLL_S = 0.25  # how often an idle writer looks for a vanished client or a cut
WRITE_TIMEOUT_S = 60.0  # a client that accepts no bytes for this long is dropped
MAX_BACKLOG = 500_000  # queued chunks per connection before a hopeless reader is cut
BATCH_BYTES = 64 * 1024  # queued chunks are joined into writes of about this size
DROP_MODES = ("abort", "close", "stall")
_END = object()  # queue sentinel: stop after writing what came before


@dataclass(eq=False)
class Connection:
    """One open SSE response: its format, its outgoing queue and how it is to end."""

    stream: Stream
    fmt: str  # "text" or "json"
    sock: Any  # the client socket (None in unit use)
    queue: queue.Queue = field(default_factory=queue.Queue)
    opened: float = field(default_factory=time.monotonic)  # real time, anchors keep-alives
    cut: bool = False  # ended at once: nothing more is written
    ending: bool = False  # an end sentinel is queued: nothing more is queued
    stalled: bool = False  # a dead path: stays open, but not one more byte goes out
    events_left: int | None = None  # logstreams/drop after_events countdown
    end_mode: str = "abort"  # what the countdown does when it reaches 0


@dataclass(eq=False)
class Stream:
    id: str
    account_id: str
    created_at: float  # emulator clock
    subscriptions: list[str] = field(default_factory=list)  # device ids, least recent first
    connection: Connection | None = None
    disconnected_since: float | None = None  # emulator clock; the idle lifetime runs from it


class Hub:
    """All log streams of the emulator; state is guarded by the store lock."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.streams: dict[str, Stream] = {}  # insertion order = creation order
        self._by_device: dict[str, dict[str, Stream]] = {}  # device id -> subscribed streams

    @property
    def store(self) -> Any:
        return self.emulator.store

    def _cfg(self, key: str) -> Any:
        return self.store.config["logstream"][key]

    # -- lifecycle -----------------------------------------------------------------
    def reset(self) -> None:
        """Cut every open connection without an event and forget all streams (§8.4)."""
        with self.store.lock:
            for stream in self.streams.values():
                if stream.connection is not None:
                    self._cut(stream.connection)
            self.streams.clear()
            self._by_device.clear()

    def open_connections(self) -> int:
        with self.store.lock:
            return sum(1 for s in self.streams.values() if s.connection is not None)

    # -- streams -------------------------------------------------------------------
    def create(self, account: Any) -> Stream:
        """A new stream for `account`; the oldest ones are closed beyond the limit (§3.6.2)."""
        with self.store.lock:
            self._sweep()
            limit = max(1, int(self._cfg("streams_per_account")))
            mine = [s for s in self.streams.values() if s.account_id == account.id]
            for old in mine[: max(0, len(mine) - limit + 1)]:
                self._close(old)
            now = self.store.clock.now()
            stream = Stream(self.store.new_uuid(), account.id, now, disconnected_since=now)
            self.streams[stream.id] = stream
            return stream

    def get(self, stream_id: str) -> Stream | None:
        """A live stream by id (case-insensitive); expired streams are destroyed first."""
        with self.store.lock:
            self._sweep()
            return self.streams.get(stream_id.lower())

    def get_or_404(self, stream_id: str, account: Any = None) -> Stream:
        """The stream, which must belong to `account` when given; else NF100."""
        stream = self.get(stream_id)
        if stream is None or (account is not None and stream.account_id != account.id):
            raise ApiError("NF100", type="logstream", id=stream_id)
        return stream

    def _sweep(self) -> None:
        """Destroy streams that have had no connection for the idle lifetime (emulator time)."""
        lifetime = float(self._cfg("idle_lifetime_s"))
        now = self.store.clock.now()
        for stream in list(self.streams.values()):
            since = stream.disconnected_since
            if stream.connection is None and since is not None and now - since >= lifetime:
                self._destroy(stream)

    def _destroy(self, stream: Stream) -> None:
        self.streams.pop(stream.id, None)
        for device_id in stream.subscriptions:
            subs = self._by_device.get(device_id)
            if subs is not None:
                subs.pop(stream.id, None)
                if not subs:
                    del self._by_device[device_id]
        stream.subscriptions = []

    def _close(self, stream: Stream) -> None:
        """`closed` on the open connection (if any), the connection ends, the stream goes."""
        conn = stream.connection
        if conn is not None:
            self._finish(conn, state_event(conn.fmt, "closed"))
        self._destroy(stream)

    # -- subscriptions -----------------------------------------------------------------
    def subscribe(self, stream: Stream, device: Any) -> None:
        """Add a device; the least recently added ones are evicted beyond the limit (§3.6.4)."""
        with self.store.lock:
            if device.id in stream.subscriptions:
                return  # already subscribed: no event, place unchanged
            limit = max(1, int(self._cfg("devices_per_stream")))
            while len(stream.subscriptions) >= limit:
                self._remove(stream, stream.subscriptions[0])
            stream.subscriptions.append(device.id)
            self._by_device.setdefault(device.id, {})[stream.id] = stream
            self._state(stream, "subscribed", device.id)

    def unsubscribe(self, stream: Stream, device: Any) -> None:
        with self.store.lock:
            if device.id in stream.subscriptions:
                self._remove(stream, device.id)

    def _remove(self, stream: Stream, device_id: str) -> None:
        stream.subscriptions.remove(device_id)
        subs = self._by_device.get(device_id)
        if subs is not None:
            subs.pop(stream.id, None)
            if not subs:
                del self._by_device[device_id]
        self._state(stream, "unsubscribed", device_id)

    def device_removed(self, device: Any) -> None:
        """A deleted device leaves every stream with an `unsubscribed` event (§3.6.5)."""
        with self.store.lock:
            for stream in list(self._by_device.get(device.id, {}).values()):
                self._remove(stream, device.id)

    # -- events ------------------------------------------------------------------------
    def publish(self, device: Any, entry: Any) -> None:
        """Queue one new history entry for every open stream subscribed to its device.

        Called under the store lock for every entry: it only renders (once per format) and
        puts bytes on queues, so a slow or vanished reader never holds anyone up.
        """
        with self.store.lock:  # already held by store.on_log callers; re-entering is cheap
            subs = self._by_device.get(device.id)
            if not subs:
                return
            rendered: dict[str, bytes] = {}
            for stream in list(subs.values()):
                conn = stream.connection
                if conn is None or conn.ending:
                    continue
                chunk = rendered.get(conn.fmt)
                if chunk is None:
                    chunk = rendered[conn.fmt] = message_event(conn.fmt, device.id, entry)
                self._send(conn, chunk)

    def _state(self, stream: Stream, state: str, device_id: str | None = None) -> None:
        conn = stream.connection
        if conn is not None and not conn.ending:
            self._send(conn, state_event(conn.fmt, state, device_id))

    def _send(self, conn: Connection, chunk: bytes) -> None:
        """Queue one event; runs a pending drop countdown (§8.7)."""
        if conn.queue.qsize() >= MAX_BACKLOG:
            log.warning("log stream %s: reader too slow, connection cut", conn.stream.id)
            self._cut(conn)
            return
        conn.queue.put(chunk)
        if conn.events_left is not None:
            conn.events_left -= 1
            if conn.events_left <= 0:
                conn.events_left = None
                self._end_by_mode(conn, conn.end_mode)

    def _end_by_mode(self, conn: Connection, mode: str) -> None:
        if mode == "stall":
            conn.stalled = True
        elif mode == "close":
            if conn.stream.connection is conn:
                self._close(conn.stream)
            else:
                self._finish(conn, state_event(conn.fmt, "closed"))
        else:
            self._finish(conn)  # the events already queued still go out, then the cut

    # -- ending connections ------------------------------------------------------------
    def _detach(self, conn: Connection) -> None:
        """The stream no longer has this connection; its idle lifetime starts now."""
        stream = conn.stream
        if stream.connection is conn:
            stream.connection = None
            stream.disconnected_since = self.store.clock.now()

    def _finish(self, conn: Connection, last: bytes | None = None) -> None:
        """End after what is queued (and `last`) has been written."""
        if conn.ending:
            return
        if last is not None:
            conn.queue.put(last)
        conn.ending = True
        conn.queue.put(_END)
        self._detach(conn)

    def _cut(self, conn: Connection) -> None:
        """End at once, without any further byte."""
        conn.cut = conn.ending = True
        conn.queue.put(_END)
        self._detach(conn)
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    def drop(self, mode: str = "abort", after_events: int | None = None,
             account: Any = None) -> int:
        """Control surface §8.7: abort / close / stall open connections, now or after n events.

        `stall` (an impdesk addition) plays a path that died silently, as behind a NAT that
        forgot the connection: it stays open on both sides but carries nothing, not even
        keep-alives, so only the client's dead-connection timer (§3.6.7) can notice.
        """
        if mode not in DROP_MODES:
            raise ValueError("mode must be 'abort', 'close' or 'stall'")
        with self.store.lock:
            account_id = self._account_id(account)
            conns = [
                s.connection for s in list(self.streams.values())
                if s.connection is not None and not s.connection.ending
                and (account is None or s.account_id == account_id)
            ]
            for conn in conns:
                if after_events:
                    conn.events_left = int(after_events)
                    conn.end_mode = mode
                elif mode == "close":
                    self._close(conn.stream)
                elif mode == "stall":
                    conn.stalled = True
                else:
                    self._cut(conn)
            return len(conns)

    def _account_id(self, account: Any) -> str | None:
        """An Account, an account id or a username -> the account id."""
        if account is None or hasattr(account, "id"):
            return getattr(account, "id", None)
        accounts = self.store.accounts
        if str(account).lower() in accounts:
            return str(account).lower()
        found = self.store.account_by_username(str(account))
        return found.id if found is not None else str(account)

    # -- the connection writer -----------------------------------------------------------
    def serve(self, stream_id: str, fmt: str, handler: Any) -> None:
        """StreamResponse.run: take over the connection and write events until it ends."""
        sock = getattr(handler, "connection", None)
        with self.store.lock:
            stream = self.get(stream_id)
            if stream is None:
                return  # destroyed between the handler's check and the head being sent
            if stream.connection is not None:
                self._cut(stream.connection)  # one reader per stream, no event for the old one
            conn = Connection(stream, fmt, sock)
            stream.connection = conn
            stream.disconnected_since = None
            self._send(conn, state_event(fmt, "opened"))
            for device_id in stream.subscriptions:
                self._send(conn, state_event(fmt, "subscribed", device_id))
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(WRITE_TIMEOUT_S)
        try:
            self._write_loop(conn, handler.wfile)
        except (OSError, ValueError):
            pass  # the client went away (or the socket was cut under a write)
        finally:
            with self.store.lock:
                conn.ending = True
                self._detach(conn)

    def _write_loop(self, conn: Connection, wfile: Any) -> None:
        anchor = conn.opened  # keep-alives at opened + k × interval, whatever else is sent
        while not conn.cut:
            if conn.stalled:  # swallow everything until the client gives up or the end comes
                try:
                    if conn.queue.get(timeout=POLL_S) is _END:
                        return
                except queue.Empty:
                    if _client_gone(conn.sock):
                        return
                continue
            interval = float(self._cfg("keep_alive_s"))
            now = time.monotonic()
            if interval > 0 and now >= anchor + interval:
                _write(wfile, KEEP_ALIVE)
                anchor += interval
                if now >= anchor + interval:  # fell behind (e.g. interval lowered): skip ahead
                    anchor = now - (now - anchor) % interval
                continue
            wait = POLL_S if interval <= 0 else min(POLL_S, anchor + interval - now)
            try:
                item = conn.queue.get(timeout=max(wait, 0.001))
            except queue.Empty:
                if _client_gone(conn.sock):
                    return
                continue
            batch: list[bytes] = []
            size = 0
            while item is not _END:
                batch.append(item)
                size += len(item)
                if size >= BATCH_BYTES:
                    break
                try:
                    item = conn.queue.get_nowait()
                except queue.Empty:
                    break
            if conn.cut:
                return
            if conn.stalled:  # stalled while this batch was taken: it goes nowhere
                batch = []
            if batch:
                _write(wfile, b"".join(batch))
            if item is _END:
                return


def _write(wfile: Any, data: bytes) -> None:
    wfile.write(data)
    wfile.flush()


def _client_gone(sock: Any) -> bool:
    """True when the peer has closed its side (readable with nothing to read) or reset."""
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


# -- wire format (§3.6.6) ------------------------------------------------------------
def sse_event(name: str, data: str) -> bytes:
    """One SSE event; CR LF and CR become LF, each line gets its own `data:` field."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    text = f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"
    return text.encode("utf-8", "replace")


def message_event(fmt: str, device_id: str, entry: Any) -> bytes:
    ts = iso(entry.ts)
    if fmt == "json":
        doc = {"device_id": device_id, "ts": ts, "log_type": entry.log_type, "type": entry.type,
               "msg": entry.msg}
        return sse_event("message", _compact(doc))
    return sse_event("message", f"{device_id} {ts} {entry.log_type} {entry.type} {entry.msg}")


def state_event(fmt: str, state: str, device_id: str | None = None) -> bytes:
    if fmt == "json":
        doc = {"state": state}
        if device_id is not None:
            doc["device_id"] = device_id
        return sse_event("state_change", _compact(doc))
    return sse_event("state_change", state if device_id is None else f"{device_id} {state}")


def _compact(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
