"""Log views against the emulator: history paging, live lines, slots, drops, pause, filters."""

from __future__ import annotations

import csv
import gc
import json
import threading
import time

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

import impdesk.api.logstreams as logstreams
import impdesk.gui.logs.view as log_view
from impdesk.core.logsession import SLOTS

READER = "impdesk-logstream"


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == READER and t.is_alive()]


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread():
    """Windows of a test die here, not in a later GC pass on an emulator thread."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def fast_reconnect(monkeypatch):
    monkeypatch.setattr(logstreams, "BACKOFF_MIN_S", 0.05)


@pytest.fixture
def window(make_window, qtbot):
    """A signed-in window; at the end it closes and no reader thread may be left."""
    win = make_window()
    yield win
    win.close()
    qtbot.waitUntil(lambda: not reader_threads(), timeout=2000)


def devices_by_name(window) -> list[str]:
    snap = window.service.snapshot
    return [d.id for d in sorted(snap.devices, key=lambda d: d.display_name)]


def feed(emu, device_id: str, msgs: list[str], type_: str = "device.log",
         rate_per_s: float = 0) -> None:
    emu.control("POST", f"/devices/{device_id}/logs", {
        "entries": [{"type": type_, "msg": m} for m in msgs], "rate_per_s": rate_per_s})


def open_view(window, qloop, ids, **kw):
    view = window.logs.open_view(ids, **kw)
    qloop.run(view.start_task)
    return view


def msgs(view, device_id: str | None = None, prefix: str = "") -> list[str]:
    return [line.msg for line in view.model.rows
            if device_id in (None, line.device_id) and line.msg.startswith(prefix)]


def test_history_pages_newest_first_shown_in_time_order(window, emu, qloop):
    dev = devices_by_name(window)[0]
    feed(emu, dev, [f"h{i:03d}" for i in range(150)])
    window.logs.page_size = 40
    view = open_view(window, qloop, [dev])
    assert msgs(view) == [f"h{i:03d}" for i in range(110, 150)]
    assert view.history_loaded and view.act_older.isEnabled()
    assert qloop.run(view.load_older()) == 40  # the button's coroutine
    assert msgs(view) == [f"h{i:03d}" for i in range(70, 150)]
    stamps = [line.ts for line in view.model.rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    # everything, to the start of the retained history, without a gap or a double
    while qloop.run(view.load_older()):
        pass
    history = emu.get(f"/devices/{dev}/logs", params={"page[size]": 100}).json()["data"]
    total = int(emu.control("GET", "")["counts"]["log_entries"])
    assert total >= len(view.model.rows) > 150
    assert [line.msg for line in view.model.rows][-len(history):] == \
        [e["msg"] for e in reversed(history)]
    assert not view.pager.more and not view.act_older.isEnabled()


def test_live_lines_arrive_and_status_is_shown(window, emu, qloop, qtbot):
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    feed(emu, dev, [f"live {i}" for i in range(20)])
    feed(emu, dev, ["\x1b[31mred\x1b[0m text\x07 with\x00 controls"], type_="device.error")
    qtbot.waitUntil(lambda: len(msgs(view, prefix="live")) == 20, timeout=5000)
    assert msgs(view, prefix="live") == [f"live {i}" for i in range(20)]
    qtbot.waitUntil(lambda: "red text with controls" in msgs(view), timeout=3000)
    qtbot.waitUntil(lambda: "Live logs: live · 1 of 8 live slots" in window.logs.indicator.text(),
                    timeout=3000)
    assert "Stream: live · 1 of 8 live slots" in view.status.text()
    error_row = view.model.index(len(view.model.rows) - 1, 3)
    assert view.model.data(error_row, 9) is not None  # errors stand out (tinted)
    assert view.table.verticalScrollBar().value() == view.table.verticalScrollBar().maximum()


def test_ninth_device_evicts_the_oldest_with_an_explanation(make_window, emu, qloop, qtbot):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 12, "owner": "demo"})
    window = make_window()
    try:
        ids = devices_by_name(window)
        first = open_view(window, qloop, ids[:SLOTS])
        assert window.logs.session.slots_text == "8 of 8 live slots"
        second = open_view(window, qloop, [ids[SLOTS]])
        evicted = window.logs._name(ids[0])
        assert f"live logs for ‘{evicted}’ stopped" in second.message
        assert "at most 8 devices" in second.message
        qtbot.waitUntil(lambda: f"‘{evicted}’" in first.message, timeout=2000)
        assert window.logs.session.live == [*ids[1:SLOTS], ids[SLOTS]]
        assert "not live: " + evicted in first.status.text()
        feed(emu, ids[SLOTS], ["ninth"])
        feed(emu, ids[0], ["evicted"])
        qtbot.waitUntil(lambda: msgs(second, prefix="ninth") == ["ninth"], timeout=5000)
        assert msgs(first, prefix="evicted") == []
        # a whole group (or product) follows its first 8 devices and says so
        window.view.selectAll()
        big = window.logs.show_selected()
        qloop.run(big.start_task)
        assert len(big.device_ids) == SLOTS and "shows the first 8" in big.message
    finally:
        window.close()
    qtbot.waitUntil(lambda: not reader_threads(), timeout=2000)


def test_stream_drop_reconnects_without_lost_or_doubled_lines(window, emu, qloop, qtbot):
    a, b = devices_by_name(window)[:2]
    view = open_view(window, qloop, [a, b])
    feed(emu, a, [f"before {i}" for i in range(5)])
    qtbot.waitUntil(lambda: len(msgs(view, prefix="before")) == 5, timeout=5000)
    # the first two attempts to resume fail, so the outage lasts while lines are fed
    emu.control("POST", "/faults/fail_next", {"count": 2, "status": 503, "method": "GET",
                                               "path": "/logstream/"})
    assert emu.control("POST", "/logstreams/drop", {"mode": "abort"})["connections"] == 1
    feed(emu, a, [f"during {i}" for i in range(30)], rate_per_s=150)  # some land in the gap
    feed(emu, b, [f"b during {i}" for i in range(10)])  # b had nothing live before the drop
    expected = [f"before {i}" for i in range(5)] + [f"during {i}" for i in range(30)]
    qtbot.waitUntil(lambda: len(msgs(view, a, "before") + msgs(view, a, "during")) >= 35,
                    timeout=8000)
    qtbot.waitUntil(lambda: len(msgs(view, b, "b during")) >= 10, timeout=5000)
    qtbot.wait(300)  # nothing doubled afterwards either
    assert msgs(view, a, "before") + msgs(view, a, "during") == expected
    assert msgs(view, b, "b during") == [f"b during {i}" for i in range(10)]
    keys = [line.key for line in view.model.rows]
    assert len(keys) == len(set(keys))
    assert window.logs.session.state == logstreams.OPEN
    stream_gets = [r for r in emu.control("GET", "/requests")["requests"]
                   if r["method"] == "GET" and r["path"].startswith("/v5/logstream/")]
    assert [r["status"] for r in stream_gets] == [200, 503, 503, 200]


def test_pause_keeps_lines_and_resume_shows_them(window, emu, qloop, qtbot):
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    view.act_pause.trigger()
    assert view.paused
    rows = len(view.model.rows)
    feed(emu, dev, [f"p{i}" for i in range(25)])
    qtbot.waitUntil(lambda: len(view.buffer) == 25, timeout=5000)
    qtbot.wait(250)  # several drain ticks while paused
    assert len(view.model.rows) == rows
    assert "PAUSED — 25 new lines waiting" in view.status.text()
    view.act_pause.trigger()
    assert msgs(view, prefix="p") == [f"p{i}" for i in range(25)]


def test_filters_by_type_device_text_and_regex(window, emu, qloop, qtbot):
    a, b = devices_by_name(window)[:2]
    view = open_view(window, qloop, [a, b])
    view.clear()
    feed(emu, a, ["temp 21.5", "temp 22"], type_="device.log")
    feed(emu, a, ["ERROR: boom"], type_="agent.error")
    feed(emu, b, ["hello from b", "Temp 19"], type_="agent.log")
    qtbot.waitUntil(lambda: len(view.model.rows) == 5, timeout=5000)
    shown = lambda: [line.msg for line in view.shown_lines()]  # noqa: E731
    view.set_types(["agent.error"])
    assert shown() == ["ERROR: boom"]
    view.set_types(None)
    view.device_combo.setCurrentIndex(view.device_combo.findData(b))
    assert shown() == ["hello from b", "Temp 19"]
    view.device_combo.setCurrentIndex(0)
    view.filter_edit.setText("temp")
    view.apply_text_filter()
    assert shown() == ["temp 21.5", "temp 22", "Temp 19"]
    view.regex_box.setChecked(True)
    view.filter_edit.setText(r"temp \d+\.\d")
    view.apply_text_filter()
    assert shown() == ["temp 21.5"]
    view.filter_edit.setText("temp (")
    view.apply_text_filter()
    assert view.filter_error.isVisibleTo(view)
    assert "Invalid regular expression" in view.filter_error.text()
    view.filter_edit.setText("")
    view.apply_text_filter()
    assert not view.filter_error.isVisibleTo(view) and len(shown()) == 5
    # find next / previous wraps around the shown lines
    view.find_edit.setText("temp")
    assert view.find(True) and view.table.currentIndex().row() == 0
    assert view.find(True) and view.table.currentIndex().row() == 1
    assert view.find(False) and view.table.currentIndex().row() == 0
    assert view.find(False) and view.table.currentIndex().row() == 4
    view.find_edit.setText("absent")
    assert not view.find(True) and "Not found" in view.filter_error.text()
    # Ctrl+C in the table copies the selected lines as text (not the window's "Copy id")
    view.table.setFocus()
    view.table.selectAll()
    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyRelease(view.table, Qt.Key.Key_Control)  # else Ctrl stays "held" for later tests
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
    copied = QApplication.clipboard().text().splitlines()
    assert len(copied) == 5 and copied[2].endswith("  agent.error  ERROR: boom")


def test_export_text_csv_and_json_lines(window, emu, qloop, qtbot, tmp_path):
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    view.clear()
    feed(emu, dev, ["plain", 'comma, "quote"\nsecond line'])
    feed(emu, dev, ["bad"], type_="device.error")
    qtbot.waitUntil(lambda: len(view.model.rows) == 3, timeout=5000)
    name = window.logs._name(dev)
    view.set_utc(True)
    assert view.export_to(tmp_path / "x.log", "text") == 3
    text = (tmp_path / "x.log").read_text(encoding="utf-8").splitlines()
    assert text[0].endswith(f"Z  {name}  device.log  plain")
    assert text[1].endswith('comma, "quote"') and text[2] == "    second line"
    assert text[3].endswith("device.error  bad")
    view.export_to(tmp_path / "x.csv", "csv")
    with open(tmp_path / "x.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["msg"] for r in rows] == ["plain", 'comma, "quote"\nsecond line', "bad"]
    assert {r["device_id"] for r in rows} == {dev} and rows[2]["type"] == "device.error"
    view.export_to(tmp_path / "x.jsonl", "jsonl")
    items = [json.loads(s) for s in (tmp_path / "x.jsonl").read_text("utf-8").splitlines()]
    history = emu.get(f"/devices/{dev}/logs", params={"page[size]": 3}).json()["data"]
    assert [(i["ts"], i["type"], i["msg"]) for i in items] == \
        [(h["ts"], h["type"], h["msg"]) for h in reversed(history)]
    assert items[0]["device_name"] == name
    # the type filter applies to exports too
    view.set_types(["device.error"])
    assert view.export_to(tmp_path / "e.jsonl", "jsonl") == 1


def test_ring_buffer_cap_drops_the_oldest(window, emu, qloop, qtbot):
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    view.set_max_lines(50)
    assert len(view.model.rows) <= 50
    feed(emu, dev, [f"c{i:03d}" for i in range(120)])
    qtbot.waitUntil(lambda: msgs(view)[-1:] == ["c119"], timeout=5000)
    assert msgs(view) == [f"c{i:03d}" for i in range(70, 120)]
    assert window.settings.value("logs/max_lines") in (50, "50")


def test_sign_out_and_close_stop_the_reader_promptly(window, emu, qloop, qtbot):
    dev = devices_by_name(window)[0]
    open_view(window, qloop, [dev])
    assert reader_threads()
    started = time.monotonic()
    qloop.run(window.sign_out())
    qtbot.waitUntil(lambda: not reader_threads(), timeout=2000)
    assert time.monotonic() - started < 2
    assert not window.logs.docks and window.logs.indicator.text() == "Live logs: off"


def test_show_logs_from_the_tree_and_closing_docks_frees_slots(window, emu, qloop, qtbot):
    ids = devices_by_name(window)
    node = window.model.nodes[("device", ids[0])]
    flags = QItemSelectionModel.SelectionFlag
    window.view.selectionModel().select(
        window.proxy.mapFromSource(window.model.index_of(node.key)),
        flags.ClearAndSelect | flags.Rows)
    assert window.logs.act_show in window.context_actions
    assert window.logs.act_show.shortcut().toString() == "Ctrl+L"
    window.logs.act_show.trigger()
    first = window.logs.views[-1]
    qloop.run(first.start_task)
    assert first.device_ids == [ids[0]]
    assert window.logs.docks[-1].windowTitle() == f"Logs — {window.logs._name(ids[0])}"
    second = open_view(window, qloop, ids[1:3])
    assert window.logs.session.live == ids[:3]
    assert window.logs.docks[-1].windowTitle() == (
        f"Logs — {window.logs._name(ids[1])} and 1 more")
    window.logs.docks[-1].close()  # the second view: its two slots are freed
    qtbot.waitUntil(lambda: window.logs.session.live == ids[:1], timeout=3000)
    assert second not in window.logs.views and reader_threads()
    window.logs.docks[0].close()  # the last view: the stream stops
    qtbot.waitUntil(lambda: not reader_threads(), timeout=3000)
    assert window.logs.session.live == []


def test_follow_tail_only_while_at_the_bottom(window, emu, qloop, qtbot):
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    feed(emu, dev, [f"f{i}" for i in range(200)])
    qtbot.waitUntil(lambda: msgs(view)[-1:] == ["f199"], timeout=5000)
    bar = view.table.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()  # followed the tail
    bar.setValue(bar.maximum() // 2)
    value = bar.value()
    assert not view.act_follow.isChecked()
    feed(emu, dev, [f"g{i}" for i in range(20)])
    qtbot.waitUntil(lambda: msgs(view)[-1:] == ["g19"], timeout=5000)
    assert bar.value() == value  # the user's place is kept
    view.act_follow.trigger()
    feed(emu, dev, ["last"])
    qtbot.waitUntil(lambda: msgs(view)[-1:] == ["last"], timeout=5000)
    assert bar.value() == bar.maximum()
    view.set_utc(True)
    assert view.model.data(view.model.index(0, 0)).endswith("Z")


def stream_calls(emu, method: str) -> int:
    """Requests of one method on /logstream (POST: streams created; PUT: subscriptions)."""
    return len([r for r in emu.control("GET", "/requests")["requests"]
                if r["method"] == method and r["path"].startswith("/v5/logstream")])


def test_taken_over_shows_a_notice_and_reconnect_brings_lines_back(window, emu, qloop, qtbot):
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    session = window.logs.session
    assert session.state == logstreams.OPEN and not view.reconnect_button.isVisible()
    assert (stream_calls(emu, "POST"), stream_calls(emu, "PUT")) == (1, 1)
    # Another client of the account creates a stream: ours (the oldest) is closed (§3.6.2).
    assert emu.post("/logstream").status_code == 201
    # the reader makes a new stream, opens it and subscribes the device again; it reports
    # OPEN only once that subscription is back
    qtbot.waitUntil(lambda: session.state == logstreams.OPEN and stream_calls(emu, "PUT") == 2,
                    timeout=5000)
    assert stream_calls(emu, "POST") == 3
    assert not view.reconnect_button.isVisible() and not view.notice.isVisible()
    # ... and again, within the minute: the reader stops instead of fighting over the slot.
    assert emu.post("/logstream").status_code == 201
    qtbot.waitUntil(lambda: view.reconnect_button.isVisible(), timeout=5000)
    assert session.state == logstreams.TAKEN_OVER
    assert view.notice.isVisible() and "Another client of this account" in view.notice.text()
    assert "use Reconnect to take it back" in view.notice.text()
    assert view.reconnect_button.text().replace("&", "") == "Reconnect"
    assert "Stream: taken over by another client" in view.status.text()
    assert "taken over" in window.logs.indicator.text()
    qtbot.wait(300)  # no further attempt to take the slot back on its own
    assert stream_calls(emu, "POST") == 4 and not reader_threads()
    # Reconnect: a new stream, the device subscribed again, lines flow; the notice goes.
    qtbot.mouseClick(view.reconnect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: stream_calls(emu, "PUT") == 3, timeout=5000)
    assert stream_calls(emu, "POST") == 5
    feed(emu, dev, ["back again"])
    qtbot.waitUntil(lambda: msgs(view, prefix="back") == ["back again"], timeout=5000)
    assert session.state == logstreams.OPEN
    qtbot.waitUntil(lambda: not view.reconnect_button.isVisible(), timeout=2000)
    assert not view.notice.isVisible() and view.message == ""


def test_reconnect_now_cuts_a_long_back_off_short(window, emu, qloop, qtbot, monkeypatch):
    monkeypatch.setattr(logstreams, "BACKOFF_MIN_S", 30.0)  # the next attempt is 15-30 s away
    monkeypatch.setattr(log_view, "RECONNECT_NOW_AFTER_S", 0.5)
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    session = window.logs.session
    assert emu.control("POST", "/logstreams/drop", {"mode": "abort"})["connections"] == 1
    qtbot.waitUntil(lambda: session.state == logstreams.RECONNECTING, timeout=3000)
    assert not view.reconnect_button.isVisible()  # not for a short reconnection
    qtbot.waitUntil(lambda: view.reconnect_button.isVisible(), timeout=3000)
    assert view.reconnect_button.text().replace("&", "") == "Reconnect now"
    view.reconnect_button.click()
    qtbot.waitUntil(lambda: session.state == logstreams.OPEN, timeout=5000)
    feed(emu, dev, ["right away"])
    qtbot.waitUntil(lambda: msgs(view, prefix="right") == ["right away"], timeout=5000)
    qtbot.waitUntil(lambda: not view.reconnect_button.isVisible(), timeout=2000)
    assert len(reader_threads()) == 1
