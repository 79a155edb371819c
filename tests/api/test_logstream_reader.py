"""LogStreamReader against the emulator: live lines, drops, resumption, new streams, eviction,
stop() (§3.6)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest

import impdesk.api.logstreams as logstreams
from impdesk.api import LogEntry, LogStreamReader
from tests.api.conftest import requests_log


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


class Watcher:
    """A reader plus everything its callbacks reported."""

    def __init__(self, client, **kw) -> None:
        self.entries: list[LogEntry] = []
        self.states: list[tuple[str, str]] = []
        self.subscriptions: list[list[str]] = []
        self.lock = threading.Lock()
        self.reader = LogStreamReader(client, on_entry=self._entry, on_state=self._state,
                                      on_subscriptions=self.subscriptions.append, **kw)

    def _entry(self, entry: LogEntry) -> None:
        with self.lock:
            self.entries.append(entry)

    def _state(self, state: str, detail: str) -> None:
        with self.lock:
            self.states.append((state, detail))

    def msgs(self, device_id: str | None = None) -> list[str]:
        with self.lock:
            return [e.msg for e in self.entries if device_id in (None, e.device_id)]

    def opened(self) -> int:
        with self.lock:
            return sum(1 for s, _ in self.states if s == logstreams.OPEN)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(logstreams, "BACKOFF_MIN_S", 0.05)


@pytest.fixture
def watchers(client):
    made: list[Watcher] = []

    def make(**kw) -> Watcher:
        w = Watcher(client, rng=random.Random(0), **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        w.reader.stop(timeout=2)


def feed(emu, device_id: str, msgs: list[str], rate_per_s: float = 0) -> None:
    emu.control("POST", f"/devices/{device_id}/logs", {
        "entries": [{"type": "device.log", "msg": m} for m in msgs], "rate_per_s": rate_per_s})


def subscribed_on_server(emu, device_id: str) -> bool:
    return any(r["method"] == "PUT" and r["path"].endswith("/" + device_id)
               and r["status"] == 204 for r in requests_log(emu))


def alpha1(client) -> str:
    return next(d.id for d in client.list_devices() if d.name == "Alpha 1")


def start_watching(w: Watcher, emu, device_id: str) -> None:
    w.reader.watch(device_id)
    w.reader.start()
    wait_until(lambda: w.opened() >= 1 and subscribed_on_server(emu, device_id),
               what="stream open and subscribed")
    time.sleep(0.05)  # the `subscribed` event


def test_live_lines_arrive_in_order(client, emu, watchers):
    w = watchers()
    dev = alpha1(client)
    start_watching(w, emu, dev)
    feed(emu, dev, [f"line {i}" for i in range(20)])
    wait_until(lambda: len(w.msgs()) == 20, what="20 lines")
    assert w.msgs() == [f"line {i}" for i in range(20)]
    assert all(e.device_id == dev and e.type == "device.log" for e in w.entries)
    assert w.reader.state == logstreams.OPEN and w.reader.devices == [dev]
    get = next(r for r in requests_log(emu) if r["method"] == "GET"
               and r["path"].startswith("/v5/logstream/"))
    assert "format=json" in get["query"]


def test_multi_line_and_aliased_messages(client, emu, watchers):
    w = watchers()
    dev = alpha1(client)
    start_watching(w, emu, dev)
    emu.control("POST", f"/devices/{dev}/logs", {"entries": [
        {"type": "server.log", "msg": "one\r\ntwo\rthree"}, {"type": "odd.type", "msg": ""}]})
    wait_until(lambda: len(w.entries) == 2)
    # JSON carries the text exactly (the CR/LF rewrite of §3.6.6 is for the text format)
    assert [(e.type, e.msg) for e in w.entries] == [("device.log", "one\r\ntwo\rthree"),
                                                     ("odd.type", "")]


@pytest.mark.parametrize("after_events", [None, 7])
def test_abort_and_resume_every_line_exactly_once(client, emu, watchers, after_events):
    w = watchers()
    dev = alpha1(client)
    start_watching(w, emu, dev)
    feed(emu, dev, [f"before {i}" for i in range(5)])
    wait_until(lambda: len(w.msgs()) == 5)
    stream_gets = lambda: [r for r in requests_log(emu)  # noqa: E731
                           if r["method"] == "GET" and r["path"].startswith("/v5/logstream/")]
    assert len(stream_gets()) == 1
    emu.control("POST", "/logstreams/drop", {"mode": "abort", "after_events": after_events})
    # more lines while it is cut and reconnecting (paced, so some land on each side)
    feed(emu, dev, [f"during {i}" for i in range(30)], rate_per_s=150)
    expected = [f"before {i}" for i in range(5)] + [f"during {i}" for i in range(30)]
    wait_until(lambda: len(w.msgs()) >= 35, timeout=8, what="all 35 lines")
    time.sleep(0.2)  # nothing doubled afterwards either
    assert w.msgs() == expected
    gets = stream_gets()
    assert len(gets) == 2 and gets[0]["path"] == gets[1]["path"]  # the same stream, resumed
    assert len([r for r in requests_log(emu) if r["method"] == "POST"
                and r["path"] == "/v5/logstream"]) == 1
    assert w.opened() == 2
    # after the reconnect the gap was backfilled from history (§3.6.7)
    assert any(r["path"] == f"/v5/devices/{dev}/logs" for r in requests_log(emu))


def test_close_means_a_new_stream(client, emu, watchers):
    w = watchers()
    dev = alpha1(client)
    start_watching(w, emu, dev)
    feed(emu, dev, ["a"])
    wait_until(lambda: w.msgs() == ["a"])
    emu.control("POST", "/logstreams/drop", {"mode": "close"})
    feed(emu, dev, ["b", "c"])
    wait_until(lambda: w.opened() == 2, what="a second stream")
    feed(emu, dev, ["d"])
    wait_until(lambda: len(w.msgs()) >= 4, what="4 lines")
    time.sleep(0.1)
    assert w.msgs() == ["a", "b", "c", "d"]
    creates = [r for r in requests_log(emu) if r["method"] == "POST"
               and r["path"] == "/v5/logstream"]
    assert len(creates) == 2
    assert w.reader.devices == [dev]
    second_stream = [r["path"] for r in requests_log(emu) if r["method"] == "PUT"][-1]
    assert second_stream.split("/")[3] != next(r["path"] for r in requests_log(emu)
                                           if r["method"] == "PUT").split("/")[3]


def test_closed_twice_within_a_minute_is_taken_over(client, emu, watchers):
    w = watchers()
    dev = alpha1(client)
    start_watching(w, emu, dev)
    emu.control("POST", "/logstreams/drop", {"mode": "close"})
    wait_until(lambda: w.opened() == 2, what="a second stream")
    emu.control("POST", "/logstreams/drop", {"mode": "close"})
    wait_until(lambda: w.reader.state == logstreams.TAKEN_OVER, what="taken over")
    assert "Another client" in w.states[-1][1]


def test_gone_stream_is_recreated_and_resubscribed(client, emu, watchers, monkeypatch):
    monkeypatch.setattr(logstreams, "BACKOFF_MIN_S", 0.6)
    w = watchers()
    dev = alpha1(client)
    start_watching(w, emu, dev)
    emu.control("POST", "/logstreams/drop", {"mode": "abort"})
    emu.control("POST", "/clock", {"advance_s": 120})  # idle life (60 s) is over
    wait_until(lambda: w.opened() == 2, timeout=5, what="a new stream")
    feed(emu, dev, ["after"])
    wait_until(lambda: w.msgs() == ["after"])
    log = requests_log(emu)
    assert [r["status"] for r in log if r["method"] == "GET"
            and r["path"].startswith("/v5/logstream/")] == [200, 404, 200]
    assert len([r for r in log if r["method"] == "POST" and r["path"] == "/v5/logstream"]) == 2


def test_silent_connection_is_declared_dead_then_resumed_without_loss(
        client, emu, watchers, monkeypatch):
    """A path that dies without a FIN or RST (§3.6.7): only the silence timer can notice."""
    monkeypatch.setattr(logstreams, "DEAD_MARGIN_S", 0.4)  # silence limit 2 × 0.2 + 0.4 s
    cfg = emu.control("GET", "/config")["logstream"]
    emu.config(logstream={**cfg, "keep_alive_s": 0.2})
    w = watchers(keep_alive_s=0.2)
    dev = alpha1(client)
    start_watching(w, emu, dev)
    feed(emu, dev, ["before"])
    wait_until(lambda: w.msgs() == ["before"])
    time.sleep(1.2)  # 1.5 silence limits of real time: keep-alives keep a healthy stream open
    assert w.opened() == 1 and w.reader.state == logstreams.OPEN
    emu.control("POST", "/logstreams/drop", {"mode": "stall"})
    feed(emu, dev, ["during"])  # swallowed by the dead path: only the backfill can bring it
    wait_until(lambda: w.opened() == 2, timeout=5, what="the dead stream reopened")
    wait_until(lambda: w.msgs() == ["before", "during"], what="the gap backfilled")
    gets = [r["path"] for r in requests_log(emu)
            if r["method"] == "GET" and r["path"].startswith("/v5/logstream/")]
    assert len(gets) == 2 and gets[0] == gets[1]  # the same stream, resumed
    assert (logstreams.RECONNECTING, "") in w.states


def test_watch_a_ninth_device_evicts_the_least_recently_added(client, emu, watchers):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 10})
    ids = [d.id for d in client.list_devices()][:9]
    w = watchers()
    start_watching(w, emu, ids[0])
    for d in ids[1:8]:
        assert w.reader.watch(d) is None
    assert w.reader.watch(ids[1]) is None  # already watched: nothing changes
    evicted = w.reader.watch(ids[8])
    assert evicted == ids[0]
    assert w.reader.devices == ids[1:9]
    assert w.subscriptions[-1] == ids[1:9]
    log = requests_log(emu)
    assert any(r["method"] == "DELETE" and r["path"].endswith("/" + ids[0]) for r in log)
    feed(emu, ids[0], ["gone"])
    feed(emu, ids[8], ["ninth"])
    wait_until(lambda: w.msgs() == ["ninth"], what="ninth device line")
    w.reader.unwatch(ids[8])
    assert ids[8] not in w.reader.devices


def test_eviction_by_the_service_is_trusted(client, emu, watchers):
    emu.config(logstream={"devices_per_stream": 2, "streams_per_account": 1, "keep_alive_s": 30,
                          "idle_lifetime_s": 60})
    ids = [d.id for d in client.list_devices()][:3]
    w = watchers()
    start_watching(w, emu, ids[0])
    w.reader.watch(ids[1])
    w.reader.watch(ids[2])
    wait_until(lambda: w.reader.devices == ids[1:], what="the service's eviction")
    assert any("stopped streaming" in detail for _, detail in w.states)


def test_stop_from_another_thread_is_prompt(client, emu, watchers):
    w = watchers()
    dev = alpha1(client)
    start_watching(w, emu, dev)
    took: list[float] = []

    def stopper():
        started = time.perf_counter()
        w.reader.stop()
        took.append(time.perf_counter() - started)

    t = threading.Thread(target=stopper)
    t.start()
    t.join(5)
    assert took and took[0] < 2.0
    assert w.reader.state == logstreams.STOPPED
    assert not any(th.name == "impdesk-logstream" and th.is_alive()
                   for th in threading.enumerate())


def test_stop_while_reconnecting_is_prompt(client, emu, watchers, monkeypatch):
    monkeypatch.setattr(logstreams, "BACKOFF_MIN_S", 30.0)
    w = watchers()
    start_watching(w, emu, alpha1(client))
    emu.control("POST", "/logstreams/drop", {"mode": "abort"})
    wait_until(lambda: w.reader.state == logstreams.RECONNECTING)
    started = time.perf_counter()
    w.reader.stop()
    assert time.perf_counter() - started < 2.0
