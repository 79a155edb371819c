"""Contract tests for log streams: creation, SSE wire format, subscriptions, limits (§3.6)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.emulator.helpers import (
    EOF,
    UUID_RE,
    Stream,
    advance,
    assert_error,
    assert_ok,
    assert_resource,
    blinkup,
    create_stream,
    devices,
    factory_setup,
    feed,
    group,
    group_devices,
    history,
    online_alpha_device,
    open_stream,
    product,
    restart_delay,
    set_config,
    subscribe,
    unassigned,
    unsubscribe,
)


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def msg_json(emu, dev_id, entry) -> str:
    return compact(
        {
            "device_id": dev_id,
            "ts": entry["ts"],
            "log_type": entry["log_type"],
            "type": entry["type"],
            "msg": entry["msg"],
        }
    )


def sub_json(dev_id, state="subscribed") -> str:
    return compact({"state": state, "device_id": dev_id})


def expect_state_raw(st: Stream, data: str, timeout=3.0):
    ev = st.next(timeout)
    assert (ev.event, ev.data) == ("state_change", data), ev


def sentinel(emu, st: Stream, dev_id: str, text: str = "sentinel") -> None:
    """Feed one entry to a subscribed device and assert it is the very next event."""
    feed(emu, dev_id, ("device.log", text))
    ev = st.next()
    assert ev.event == "message", ev
    body = ev.json() if ev.data.startswith("{") else None
    if body is not None:
        assert body["device_id"] == dev_id and body["msg"] == text, ev
    else:
        assert ev.data.startswith(dev_id + " ") and ev.data.endswith(" " + text), ev


# -- creation -------------------------------------------------------------------------------------


def test_create_stream_shape(emu):
    ls = create_stream(emu)
    assert_resource(ls, "logstream", emu.base)
    assert UUID_RE.match(ls["id"])
    url = f"{emu.base}/logstream/{ls['id']}"
    assert ls["attributes"] == {"url": url}
    assert ls["links"]["self"] == url
    assert ls["relationships"] == {"owner": {"type": "account", "id": emu.accounts()["demo"]["id"]}}


def test_create_stream_ignores_body_and_query(emu):
    resp = emu.post("/logstream", params={"format": "json"}, data=b"\xff garbage")
    ls = assert_ok(resp, 201)
    assert "?" not in ls["attributes"]["url"]


def test_create_stream_needs_auth(emu):
    assert_error(emu.post("/logstream", as_user=None), "PX100")


def test_stream_head_and_opened_json(emu):
    ls = create_stream(emu)
    with Stream(ls["attributes"]["url"], "json", headers={"Authorization": "Bearer bogus"}) as st:
        assert st.status_code == 200
        assert st.headers["Content-Type"].startswith("text/event-stream")
        assert st.headers["Cache-Control"] == "no-cache"
        assert st.headers["Connection"].lower() == "close"
        assert "Content-Length" not in st.headers
        expect_state_raw(st, '{"state":"opened"}')
        assert st.parser.raw.startswith('event: state_change\ndata: {"state":"opened"}\n\n')


@pytest.mark.parametrize("fmt", [None, "text"])
def test_stream_text_default(emu, fmt):
    ls = create_stream(emu)
    with Stream(ls["attributes"]["url"], fmt) as st:
        expect_state_raw(st, "opened")
        assert st.parser.raw.startswith("event: state_change\ndata: opened\n\n")


@pytest.mark.parametrize("fmt", ["xml", "", "jsonl"])
def test_stream_bad_format_vx109(emu, fmt):
    ls = create_stream(emu)
    resp = requests.get(ls["attributes"]["url"], params={"format": fmt}, timeout=5)
    assert_error(resp, "VX109")


def test_stream_unknown_nf100(emu):
    resp = requests.get(
        f"{emu.base}/logstream/00000000-0000-0000-0000-000000000000",
        params={"format": "json"},
        timeout=5,
    )
    assert_error(resp, "NF100")


@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH", "PUT"])
def test_stream_path_other_methods_405(emu, method):
    ls = create_stream(emu)
    resp = emu.request(method, f"/logstream/{ls['id']}")
    assert_error(resp, "VX120")
    assert [m.strip() for m in resp.headers["Allow"].split(",")] == ["GET"]


# -- subscriptions and messages -------------------------------------------------------------------


def test_subscribe_and_json_message(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu, "json")
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
        feed(emu, dev["id"], ("agent.log", "Data published successfully"))
        ev = st.next()
        assert ev.event == "message"
        entry = history(emu, dev["id"])[0]
        assert ev.data == msg_json(emu, dev["id"], entry)
        assert list(json.loads(ev.data)) == ["device_id", "ts", "log_type", "type", "msg"]
        # a multi-line message stays one compact JSON data line
        feed(emu, dev["id"], ("device.log", "line one\nline two"))
        ev = st.next()
        assert ev.json()["msg"] == "line one\nline two"
        assert "\ndata: " + ev.data + "\n\n" in st.parser.raw
        assert "id:" not in st.parser.raw and "retry:" not in st.parser.raw


@pytest.mark.parametrize("form", ["mac", "MAC", "agent", "ID"])
def test_subscribe_by_other_identifiers(emu, form):
    dev = online_alpha_device(emu)
    a = dev["attributes"]
    ident = {
        "mac": a["mac_address"],
        "MAC": a["mac_address"].upper(),
        "agent": a["agent_id"],
        "ID": dev["id"].upper(),
    }[form]
    ls, st = open_stream(emu, "json")
    with st:
        assert_ok(subscribe(emu, ls["id"], ident), 204)
        expect_state_raw(st, sub_json(dev["id"]))


def test_text_format_messages(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu, "text")
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, f"{dev['id']} subscribed")
        feed(emu, dev["id"], ("device.log", "Hello World!"))
        ev = st.next()
        e = history(emu, dev["id"])[0]
        assert ev.event == "message"
        assert ev.data == f"{dev['id']} {e['ts']} development device.log Hello World!"
        feed(emu, dev["id"], ("device.log", "line one\r\nline two\rline three\nfour"))
        ev = st.next()
        e = history(emu, dev["id"])[0]
        prefix = f"{dev['id']} {e['ts']} development device.log "
        assert ev.data == prefix + "line one\nline two\nline three\nfour"
        assert (
            f"event: message\ndata: {prefix}line one\ndata: line two\ndata: line three\n"
            "data: four\n\n"
        ) in st.parser.raw
        feed(emu, dev["id"], ("status", ""))
        ev = st.next()
        e = history(emu, dev["id"])[0]
        assert ev.data == f"{dev['id']} {e['ts']} development status "
        assert_ok(unsubscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, f"{dev['id']} unsubscribed")


def test_subscriptions_before_open_announced_in_order(emu):
    devs = devices(emu)[:3]
    ls = create_stream(emu)
    for d in devs:
        assert_ok(subscribe(emu, ls["id"], d["id"]), 204)
    with Stream(ls["attributes"]["url"], "json") as st:
        expect_state_raw(st, '{"state":"opened"}')
        for d in devs:
            expect_state_raw(st, sub_json(d["id"]))
        sentinel(emu, st, devs[0]["id"])


def test_resubscribe_no_event(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
        assert_ok(subscribe(emu, ls["id"], dev["attributes"]["mac_address"]), 204)
        sentinel(emu, st, dev["id"])


def test_subscribe_body_ignored(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        resp = emu.put(
            f"/logstream/{ls['id']}/{dev['id']}",
            json={"data": {"type": "device", "id": "00000000000000aa"}},
        )
        assert_ok(resp, 204)
        expect_state_raw(st, sub_json(dev["id"]))


def test_unsubscribe_and_not_subscribed(emu):
    devs = devices(emu)
    a, b = devs[0], devs[1]
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], a["id"]), 204)
        expect_state_raw(st, sub_json(a["id"]))
        assert_ok(unsubscribe(emu, ls["id"], b["id"]), 204)
        sentinel(emu, st, a["id"])
        assert_ok(unsubscribe(emu, ls["id"], a["id"]), 204)
        expect_state_raw(st, sub_json(a["id"], "unsubscribed"))
        # no messages after unsubscribed
        feed(emu, a["id"], ("device.log", "after"))
        assert_ok(subscribe(emu, ls["id"], b["id"]), 204)
        expect_state_raw(st, sub_json(b["id"]))


def test_messages_only_for_subscribed_devices(emu):
    devs = devices(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], devs[0]["id"]), 204)
        expect_state_raw(st, sub_json(devs[0]["id"]))
        feed(emu, devs[1]["id"], ("device.log", "other"))
        sentinel(emu, st, devs[0]["id"])


@pytest.mark.parametrize("who", ["unknown", "invisible"])
def test_subscribe_device_errors(emu, who):
    ls = create_stream(emu)
    if who == "unknown":
        target = "00000000000000aa"
    else:
        target = blinkup(emu, owner="demo-2fa", online=False)["id"]
    assert_error(subscribe(emu, ls["id"], target), "NF100")
    assert_error(unsubscribe(emu, ls["id"], target), "NF100")


def test_subscribe_stream_errors(emu):
    dev = online_alpha_device(emu)
    assert_error(subscribe(emu, "00000000-0000-0000-0000-000000000000", dev["id"]), "NF100")
    shared_dev = group_devices(emu, group(emu, "Shared Dev")["id"])[0]
    other = create_stream(emu, as_user="demo-collab")
    assert_error(subscribe(emu, other["id"], shared_dev["id"]), "NF100")
    assert_error(subscribe(emu, other["id"], shared_dev["id"], as_user=None), "PX100")
    ls = create_stream(emu)
    resp = emu.put(f"/logstream/{ls['id']}/{dev['id']}", as_user=None)
    assert_error(resp, "PX100")


def test_eviction_at_eight_devices(emu):
    for _ in range(3):
        blinkup(emu, online=False)
    devs = devices(emu)
    assert len(devs) >= 9
    ls, st = open_stream(emu)
    with st:
        for d in devs[:8]:
            assert_ok(subscribe(emu, ls["id"], d["id"]), 204)
            expect_state_raw(st, sub_json(d["id"]))
        assert_ok(subscribe(emu, ls["id"], devs[8]["id"]), 204)
        expect_state_raw(st, sub_json(devs[0]["id"], "unsubscribed"))
        expect_state_raw(st, sub_json(devs[8]["id"]))
        feed(emu, devs[0]["id"], ("device.log", "evicted"))
        sentinel(emu, st, devs[1]["id"])


def test_eviction_order_unchanged_by_resubscribe(emu):
    set_config(emu, "logstream", devices_per_stream=2)
    a, b, c = devices(emu)[:3]
    ls, st = open_stream(emu)
    with st:
        for d in (a, b):
            assert_ok(subscribe(emu, ls["id"], d["id"]), 204)
            expect_state_raw(st, sub_json(d["id"]))
        assert_ok(subscribe(emu, ls["id"], a["id"]), 204)
        assert_ok(subscribe(emu, ls["id"], c["id"]), 204)
        expect_state_raw(st, sub_json(a["id"], "unsubscribed"))
        expect_state_raw(st, sub_json(c["id"]))


def test_resubscribe_after_unsubscribe_is_most_recent(emu):
    set_config(emu, "logstream", devices_per_stream=2)
    a, b, c = devices(emu)[:3]
    ls, st = open_stream(emu)
    with st:
        for d in (a, b):
            assert_ok(subscribe(emu, ls["id"], d["id"]), 204)
            expect_state_raw(st, sub_json(d["id"]))
        assert_ok(unsubscribe(emu, ls["id"], a["id"]), 204)
        expect_state_raw(st, sub_json(a["id"], "unsubscribed"))
        assert_ok(subscribe(emu, ls["id"], a["id"]), 204)
        expect_state_raw(st, sub_json(a["id"]))
        assert_ok(subscribe(emu, ls["id"], c["id"]), 204)
        expect_state_raw(st, sub_json(b["id"], "unsubscribed"))
        expect_state_raw(st, sub_json(c["id"]))


def test_lowered_limit_evicts_at_next_subscribe(emu):
    devs = devices(emu)[:4]
    ls, st = open_stream(emu)
    with st:
        for d in devs[:3]:
            assert_ok(subscribe(emu, ls["id"], d["id"]), 204)
            expect_state_raw(st, sub_json(d["id"]))
        set_config(emu, "logstream", devices_per_stream=2)
        assert_ok(subscribe(emu, ls["id"], devs[3]["id"]), 204)
        seen = []
        while True:
            s = st.next_state()
            seen.append(s)
            if s == {"state": "subscribed", "device_id": devs[3]["id"]}:
                break
        assert {(s["state"], s["device_id"]) for s in seen[:-1]} == {
            ("unsubscribed", devs[0]["id"]),
            ("unsubscribed", devs[1]["id"]),
        }


def test_deleted_device_unsubscribed(emu):
    dev = unassigned(emu)[0]
    other = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        for d in (dev, other):
            assert_ok(subscribe(emu, ls["id"], d["id"]), 204)
            expect_state_raw(st, sub_json(d["id"]))
        assert_ok(emu.delete(f"/devices/{dev['id']}"), 204)
        expect_state_raw(st, sub_json(dev["id"], "unsubscribed"))
        sentinel(emu, st, other["id"])


def test_status_lines_reach_stream(emu):
    restart_delay(emu, 0)
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
        assert_ok(emu.post(f"/devices/{dev['id']}/restart"), 204)
        msgs = [st.next_message() for _ in range(3)]
        assert [(m["type"], m["msg"]) for m in msgs[:2]] == [
            ("status", "Device restarting"),
            ("status", "Agent restarted: reload."),
        ]
        while msgs[-1]["msg"] != "Device connected":
            msgs.append(st.next_message())
        ts = [m["ts"] for m in msgs]
        assert ts == sorted(ts)


def test_production_log_type_in_stream(emu):
    f = factory_setup(emu, product(emu, "Alpha")["id"])
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], f["prod_device"]), 204)
        expect_state_raw(st, sub_json(f["prod_device"]))
        feed(emu, f["prod_device"], ("device.log", "p"))
        assert st.next_message()["log_type"] == "production"


def test_stream_survives_access_token_expiry(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
        advance(emu, 3601)
        emu.control("POST", "/tokens/expire", {"kind": "access"})
        sentinel(emu, st, dev["id"])


# -- connections, limits, lifetime ----------------------------------------------------------------


def test_second_stream_closes_oldest(emu):
    dev = online_alpha_device(emu)
    ls1, st1 = open_stream(emu)
    with st1:
        assert_ok(subscribe(emu, ls1["id"], dev["id"]), 204)
        expect_state_raw(st1, sub_json(dev["id"]))
        ls2 = create_stream(emu)
        assert ls2["id"] != ls1["id"]
        expect_state_raw(st1, '{"state":"closed"}')
        st1.expect_eof()
    resp = requests.get(ls1["attributes"]["url"], params={"format": "json"}, timeout=5)
    assert_error(resp, "NF100")
    assert_error(subscribe(emu, ls1["id"], dev["id"]), "NF100")
    with Stream(ls2["attributes"]["url"], "json") as st2:
        expect_state_raw(st2, '{"state":"opened"}')


def test_second_stream_closes_oldest_text(emu):
    _ls1, st1 = open_stream(emu, "text")
    with st1:
        create_stream(emu)
        expect_state_raw(st1, "closed")
        st1.expect_eof()


def test_streams_of_other_accounts_unaffected(emu):
    ls1, st1 = open_stream(emu)
    with st1:
        create_stream(emu, as_user="demo-collab")
        dev = online_alpha_device(emu)
        assert_ok(subscribe(emu, ls1["id"], dev["id"]), 204)
        expect_state_raw(st1, sub_json(dev["id"]))


def test_streams_per_account_configurable(emu):
    set_config(emu, "logstream", streams_per_account=2)
    ls1, st1 = open_stream(emu)
    with st1:
        ls2, st2 = open_stream(emu)
        with st2:
            dev = online_alpha_device(emu)
            assert_ok(subscribe(emu, ls1["id"], dev["id"]), 204)
            expect_state_raw(st1, sub_json(dev["id"]))
            create_stream(emu)
            expect_state_raw(st1, '{"state":"closed"}')
            st1.expect_eof()
            assert_ok(subscribe(emu, ls2["id"], dev["id"]), 204)
            expect_state_raw(st2, sub_json(dev["id"]))


def test_new_reader_ends_old_connection_without_event(emu):
    dev = online_alpha_device(emu)
    ls, st1 = open_stream(emu)
    with st1:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st1, sub_json(dev["id"]))
        with Stream(ls["attributes"]["url"], "json") as st2:
            expect_state_raw(st2, '{"state":"opened"}')
            expect_state_raw(st2, sub_json(dev["id"]))
            st1.expect_eof()
            sentinel(emu, st2, dev["id"])


def test_resume_keeps_subscriptions_without_replay(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
    time.sleep(0.2)
    feed(emu, dev["id"], ("device.log", "while away"))
    advance(emu, 30)
    with Stream(ls["attributes"]["url"], "json") as st:
        expect_state_raw(st, '{"state":"opened"}')
        expect_state_raw(st, sub_json(dev["id"]))
        sentinel(emu, st, dev["id"], "back")


def test_unopened_stream_destroyed_after_idle_lifetime(emu):
    ls = create_stream(emu)
    advance(emu, 61)
    resp = requests.get(ls["attributes"]["url"], params={"format": "json"}, timeout=5)
    assert_error(resp, "NF100")


def test_disconnected_stream_destroyed_after_idle_lifetime(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
    expect_state_raw(st, sub_json(dev["id"]))
    st.close()
    # give the server writes on which to notice the closed connection
    for i in range(3):
        time.sleep(0.1)
        feed(emu, dev["id"], ("device.log", f"nobody listens {i}"))
    advance(emu, 61)
    time.sleep(0.2)
    assert_error(subscribe(emu, ls["id"], dev["id"]), "NF100")


def test_idle_lifetime_configurable(emu):
    set_config(emu, "logstream", idle_lifetime_s=5)
    ls = create_stream(emu)
    advance(emu, 3)
    with Stream(ls["attributes"]["url"], "json") as st:
        expect_state_raw(st, '{"state":"opened"}')
    ls2 = create_stream(emu)
    advance(emu, 6)
    time.sleep(0.2)
    resp = requests.get(ls2["attributes"]["url"], params={"format": "json"}, timeout=5)
    assert_error(resp, "NF100")


def test_open_stream_not_destroyed_by_time(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        advance(emu, 120)
        time.sleep(0.2)
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))


def test_keep_alive(emu):
    set_config(emu, "logstream", keep_alive_s=1)
    _ls, st = open_stream(emu)
    with st:
        t0 = time.monotonic()
        ev = st.next(timeout=3, skip_comments=False)
        assert (ev.event, ev.data) == (":", "keep-alive")
        assert 0.5 < time.monotonic() - t0 < 2.5
        assert "\n: keep-alive\n\n" in st.parser.raw
        ev = st.next(timeout=3, skip_comments=False)
        assert (ev.event, ev.data) == (":", "keep-alive")


def test_stream_get_counted_and_logged(emu):
    ls = create_stream(emu)
    emu.control("DELETE", "/requests")
    with Stream(ls["attributes"]["url"], "json") as st:
        expect_state_raw(st, '{"state":"opened"}')
    reqs = emu.control("GET", "/requests")["requests"]
    assert any(r["method"] == "GET" and r["path"].endswith(f"/logstream/{ls['id']}") for r in reqs)


# -- faults ---------------------------------------------------------------------------------------


def test_drop_abort_then_resume(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
        res = emu.control("POST", "/logstreams/drop", {"mode": "abort"})
        assert res == {"connections": 1}
        st.expect_eof()
        assert not any(e.event == "state_change" for e in st.drain())
    with Stream(ls["attributes"]["url"], "json") as st:
        expect_state_raw(st, '{"state":"opened"}')
        expect_state_raw(st, sub_json(dev["id"]))


def test_drop_stall_goes_silent_but_keeps_the_stream(emu):
    """`stall` (impdesk's addition to §8.7): open on both sides, not one byte, not even a
    keep-alive; a new GET of the same stream takes over with its subscriptions intact."""
    set_config(emu, "logstream", keep_alive_s=0.2)
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
        assert emu.control("POST", "/logstreams/drop", {"mode": "stall"}) == {"connections": 1}
        st.drain()  # a keep-alive may have been on its way before the stall
        feed(emu, dev["id"], ("device.log", "into the void"))
        time.sleep(0.8)  # four keep-alive intervals of real time: the silence is the point
        assert st.drain() == []
        assert not st.closed.is_set()
        assert emu.control("GET", "")["counts"]["open_streams"] == 1
    with Stream(ls["attributes"]["url"], "json") as st:
        expect_state_raw(st, '{"state":"opened"}')
        expect_state_raw(st, sub_json(dev["id"]))
        sentinel(emu, st, dev["id"])
    assert [e["msg"] for e in history(emu, dev["id"])][:2] == ["sentinel", "into the void"]


def test_drop_close_destroys(emu):
    ls, st = open_stream(emu)
    with st:
        res = emu.control("POST", "/logstreams/drop", {"mode": "close"})
        assert res == {"connections": 1}
        expect_state_raw(st, '{"state":"closed"}')
        st.expect_eof()
    resp = requests.get(ls["attributes"]["url"], params={"format": "json"}, timeout=5)
    assert_error(resp, "NF100")


def test_drop_after_events(emu):
    dev = online_alpha_device(emu)
    ls, st = open_stream(emu)
    with st:
        assert_ok(subscribe(emu, ls["id"], dev["id"]), 204)
        expect_state_raw(st, sub_json(dev["id"]))
        emu.control("POST", "/logstreams/drop", {"mode": "abort", "after_events": 2})
        feed(emu, dev["id"], ("device.log", "one"), ("device.log", "two"), ("device.log", "three"))
        assert st.next_message()["msg"] == "one"
        assert st.next_message()["msg"] == "two"
        st.expect_eof()


def test_drop_limited_to_account(emu):
    _ls1, st1 = open_stream(emu)
    with st1:
        _ls2, st2 = open_stream(emu, as_user="demo-collab")
        with st2:
            res = emu.control(
                "POST", "/logstreams/drop", {"mode": "abort", "account": "demo-collab"}
            )
            assert res == {"connections": 1}
            st2.expect_eof()
            dev = online_alpha_device(emu)
            assert_ok(subscribe(emu, _ls1["id"], dev["id"]), 204)
            expect_state_raw(st1, sub_json(dev["id"]))


def test_reset_cuts_streams_without_event(emu):
    _ls, st = open_stream(emu)
    with st:
        emu.server.reset(seed="small", config={"rate_limit": {"limit": 0, "window_s": 1}})
        ev = st.next()
        assert ev.event == EOF, ev


def test_open_streams_counted_in_status(emu):
    assert emu.control("GET", "")["counts"]["open_streams"] == 0
    _ls, st = open_stream(emu)
    with st:
        assert emu.control("GET", "")["counts"]["open_streams"] == 1


def test_stream_url_is_origin_of_request(emu):
    port = emu.base.split(":")[2].split("/")[0]
    resp = emu.post("/logstream", headers={"Host": f"localhost:{port}"})
    ls = assert_ok(resp, 201)
    assert ls["attributes"]["url"] == f"http://localhost:{port}/v5/logstream/{ls['id']}"
