"""Qt-free log parts: text cleaning, the bounded buffer, history paging, export, slot accounting."""

from __future__ import annotations

import csv
import json
import threading

import pytest

from impdesk.api.logstreams import DEVICES_PER_STREAM, OPEN
from impdesk.api.records import LogEntry
from impdesk.core.logbuffer import LogBuffer, LogLine, clean_text
from impdesk.core.loghistory import HistoryPager, display_time, export_lines
from impdesk.core.logsession import LogSession, LogSubscriber


def entry(device: str, n: int, msg: str | None = None, type_: str = "device.log") -> LogEntry:
    return LogEntry(device_id=device, ts=f"2026-11-26T10:{n // 60:02d}:{n % 60:02d}.000Z",
                    type=type_, msg=msg if msg is not None else f"{device}-{n}")


# -- text ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "clean"), [
    ("plain", "plain"),
    ("\x1b[31;1mred\x1b[0m", "red"),
    ("a\x00b\x07c\x7fd\x85e", "abcde"),
    ("csi\x9b1mx", "csix"),
    ("title\x1b]0;pwned\x07 after", "title after"),
    ("one\r\ntwo\rthree", "one\ntwo\nthree"),
    ("tab\there", "tab    here"),
    ("\u202egnp.exe", "gnp.exe"),
    ("", ""),
])
def test_clean_text_keeps_plain_text_only(raw, clean):
    assert clean_text(raw) == clean


def test_log_line_has_a_one_line_form_and_the_cleaned_key():
    line = LogLine.of(LogEntry("d1", "2026-01-01T00:00:00.000Z", "agent.error", "a\nb\x1b[0m"))
    assert line.msg == "a\nb" and line.one_line == "a ⏎ b" and line.is_error
    assert line.key == ("d1", "2026-01-01T00:00:00.000Z", "agent.error", "a\nb")


# -- buffer ---------------------------------------------------------------------------------------
def test_buffer_is_bounded_and_counts_what_it_dropped():
    buf = LogBuffer(max_lines=10)
    buf.extend(LogLine.of(entry("d", i)) for i in range(25))
    assert len(buf) == 10 and buf.dropped == 15 and buf.received == 25
    taken = buf.take_all()
    assert [line.msg for line in taken] == [f"d-{i}" for i in range(15, 25)]
    assert buf.take_all() == [] and len(buf) == 0


def test_buffer_loses_nothing_between_producer_threads_and_a_consumer():
    buf = LogBuffer(max_lines=1_000_000)
    taken: list[LogLine] = []
    done = threading.Event()

    def produce(device: str) -> None:
        for i in range(5000):
            buf.append(LogLine.of(entry(device, i)))

    threads = [threading.Thread(target=produce, args=(f"d{k}",)) for k in range(4)]
    for t in threads:
        t.start()

    def consume() -> None:
        while not done.is_set() or len(buf):
            taken.extend(buf.take_all())

    consumer = threading.Thread(target=consume)
    consumer.start()
    for t in threads:
        t.join()
    done.set()
    consumer.join()
    assert len(taken) == 20_000 and buf.dropped == 0
    for k in range(4):  # each producer's order is kept
        assert [line.msg for line in taken if line.device_id == f"d{k}"] == \
            [f"d{k}-{i}" for i in range(5000)]


# -- history paging -------------------------------------------------------------------------------
class FakeHistory:
    """Newest-first pages over per-device histories that may grow between requests."""

    def __init__(self, histories: dict[str, list[LogEntry]]) -> None:
        self.histories = histories  # oldest first
        self.calls: list[tuple[str, int, int]] = []

    def page(self, device: str, number: int, size: int) -> tuple[list[LogEntry], bool]:
        self.calls.append((device, number, size))
        newest_first = list(reversed(self.histories[device]))
        chunk = newest_first[(number - 1) * size:number * size]
        return chunk, number * size < len(newest_first)


def test_pager_returns_time_ordered_chunks_each_older_than_the_last():
    fake = FakeHistory({"a": [entry("a", i) for i in range(0, 100, 2)],     # even seconds
                        "b": [entry("b", i) for i in range(51, 100, 1)]})   # 51..99
    pager = HistoryPager(fake.page, ["a", "b"], page_size=10)
    seen: list[LogEntry] = []
    while pager.more:
        chunk = pager.older()
        assert [e.ts for e in chunk] == sorted(e.ts for e in chunk)
        if seen:
            assert chunk[-1].ts <= seen[0].ts  # the whole chunk is older than what was shown
        seen = chunk + seen
    everything = sorted(fake.histories["a"] + fake.histories["b"], key=lambda e: e.ts)
    assert seen == everything


def test_pager_skips_entries_shifted_onto_later_pages():
    history = [entry("a", i) for i in range(30)]
    fake = FakeHistory({"a": history})
    pager = HistoryPager(fake.page, ["a"], page_size=10)
    first = pager.older()
    assert [e.msg for e in first] == [f"a-{i}" for i in range(20, 30)]
    history.extend(entry("a", i) for i in range(30, 45))  # 15 new lines shift every page
    second = pager.older()  # page 2 now holds a-34..a-25 (skipped); page 3 reaches a-19
    assert [e.msg for e in second] == [f"a-{i}" for i in range(15, 20)]
    rest: list[LogEntry] = []
    while pager.more:
        rest = pager.older() + rest
    assert [e.msg for e in rest] == [f"a-{i}" for i in range(0, 15)]


# -- export ---------------------------------------------------------------------------------------
def test_export_formats(tmp_path):
    lines = [LogLine.of(entry("d1", 1, "hello")),
             LogLine.of(entry("d1", 2, 'multi, "quoted"\nline', "agent.error"))]
    name_of = {"d1": "Alpha"}.get
    assert export_lines(tmp_path / "a.log", lines, "text", name_of, utc=True) == 2
    assert (tmp_path / "a.log").read_text("utf-8").splitlines() == [
        "2026-11-26 10:00:01.000Z  Alpha  device.log  hello",
        '2026-11-26 10:00:02.000Z  Alpha  agent.error  multi, "quoted"', "    line"]
    export_lines(tmp_path / "a.csv", lines, "csv", name_of)
    with open(tmp_path / "a.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["ts", "device_id", "device_name", "type", "log_type", "msg"]
    assert rows[2] == ["2026-11-26T10:00:02.000Z", "d1", "Alpha", "agent.error", "",
                       'multi, "quoted"\nline']
    export_lines(tmp_path / "a.jsonl", lines, "jsonl", name_of)
    items = [json.loads(s) for s in (tmp_path / "a.jsonl").read_text("utf-8").splitlines()]
    assert items[1] == {"ts": "2026-11-26T10:00:02.000Z", "device_id": "d1",
                        "device_name": "Alpha", "type": "agent.error", "log_type": None,
                        "msg": 'multi, "quoted"\nline'}
    with pytest.raises(ValueError):
        export_lines(tmp_path / "a.x", lines, "xml", name_of)


def test_display_time_utc_and_local():
    assert display_time("2026-11-26T10:33:59.538Z", utc=True) == "2026-11-26 10:33:59.538Z"
    assert display_time("2026-11-26T10:33:59.538Z", utc=False)[-4:] == ".538"
    assert display_time("garbage", utc=True) == "garbage"


# -- slot accounting ------------------------------------------------------------------------------
class FakeReader:
    """Stands in for LogStreamReader: evicts the least recently added past 8, no network."""

    def __init__(self, client, *, on_entry, on_state, on_subscriptions) -> None:
        self.on_entry, self.on_state, self.on_subscriptions = on_entry, on_state, on_subscriptions
        self.devices: list[str] = []
        self.stopped = False

    def start(self) -> None:
        self.on_state(OPEN, "")

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True

    def watch(self, device_id: str) -> str | None:
        if device_id in self.devices:
            return None
        evicted = self.devices.pop(0) if len(self.devices) >= DEVICES_PER_STREAM else None
        self.devices.append(device_id)
        self.on_subscriptions(list(self.devices))
        return evicted

    def unwatch(self, device_id: str) -> None:
        if device_id in self.devices:
            self.devices.remove(device_id)
        self.on_subscriptions(list(self.devices))

    def note_seen(self, device_id: str, entries: list[LogEntry]) -> None:
        pass


def make_session() -> tuple[LogSession, list[FakeReader]]:
    made: list[FakeReader] = []

    def factory(*args, **kw) -> FakeReader:
        made.append(FakeReader(*args, **kw))
        return made[-1]

    session = LogSession(None, reader_factory=factory, name_of=lambda d: d.upper(),
                         open_wait_s=0)
    return session, made


def test_session_shares_one_reader_and_explains_eviction():
    session, readers = make_session()
    first, second = LogSubscriber(LogBuffer()), LogSubscriber(LogBuffer())
    result = session.watch(first, [f"d{i}" for i in range(10)])
    assert result.live == [f"d{i}" for i in range(8)] and result.skipped == ["d8", "d9"]
    assert "Only the first 8 devices stream live" in result.message
    assert session.slots_text == "8 of 8 live slots"
    result = session.watch(second, ["x"])
    assert len(readers) == 1 and result.evicted == ["d0"]
    assert "live logs for ‘D0’ stopped to make room for ‘X’" in result.message
    assert first.notice == result.message and not second.notice
    # entries are routed on the reader thread into the buffers that show the device
    readers[0].on_entry(entry("x", 1))
    readers[0].on_entry(entry("d3", 1))
    assert [line.device_id for line in second.buffer.take_all()] == ["x"]
    assert [line.device_id for line in first.buffer.take_all()] == ["d3"]
    # the service evicting on its own (a lower limit) is explained too
    readers[0].devices.remove("d5")
    readers[0].on_subscriptions(list(readers[0].devices))
    assert "stopped streaming ‘D5’" in session.notice and "‘D5’" in first.notice
    # closing the last view stops the reader
    session.detach(first)
    assert readers[0].devices == ["x"] and not readers[0].stopped
    session.detach(second)
    assert readers[0].stopped and session.live == [] and session.slots_text == "0 of 8 live slots"


def test_a_device_the_request_wants_is_never_the_one_evicted():
    session, _ = make_session()
    first, second = LogSubscriber(LogBuffer()), LogSubscriber(LogBuffer())
    session.watch(first, [f"d{i}" for i in range(8)])
    result = session.watch(second, ["d0", "x"])  # d0 is the oldest, but wanted again
    assert result.evicted == ["d1"] and result.live == ["d0", "x"]
    assert session.live == ["d0", *[f"d{i}" for i in range(2, 8)], "x"]
    assert "‘D1’ stopped to make room for ‘X’" in result.message
    assert "stopped streaming" not in session.notice  # our own eviction, not the service's
