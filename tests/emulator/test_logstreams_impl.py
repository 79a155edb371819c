"""Implementation tests of the log-stream hub (§3.6) over HTTP, independent of seeds/control."""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from impdesk.emulator import life, logstreams
from impdesk.emulator.clock import iso
from impdesk.emulator.model import Device, LogEntry
from impdesk.emulator.seeds import DEMO_PASSWORD
from tests.emulator.helpers import EOF, Stream, wait_for

pytestmark = pytest.mark.timeout(60)

OPENED_JSON = '{"state":"opened"}'


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def app(emu):
    return emu.server.emulator


def token(emu, username: str = "demo") -> str:
    """Log in through /v5/auth with the seeded password (no control surface needed)."""
    cache = emu.__dict__.setdefault("_impl_tokens", {})
    if username not in cache:
        resp = emu.http.post(emu.base + "/auth", json={"id": username, "password": DEMO_PASSWORD},
                             timeout=10)
        assert resp.status_code == 200, resp.text
        cache[username] = resp.json()["access_token"]
    return cache[username]


def call(emu, method: str, path: str, user: str | None = "demo", **kw) -> requests.Response:
    headers = kw.pop("headers", {})
    if user is not None:
        headers["Authorization"] = "Bearer " + token(emu, user)
    return emu.http.request(method, emu.base + path, headers=headers, timeout=10, **kw)


def new_stream(emu, user: str = "demo") -> dict:
    resp = call(emu, "POST", "/logstream", user)
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]


def sub(emu, sid: str, device: str, user: str = "demo", method: str = "PUT") -> int:
    return call(emu, method, f"/logstream/{sid}/{device}", user).status_code


def open_(ls: dict, fmt: str | None = "json", read_timeout: float = 10) -> Stream:
    st = Stream(ls["attributes"]["url"], fmt, read_timeout=read_timeout)
    assert st.status_code == 200, st.resp.text
    return st


def state(st: Stream) -> str:
    ev = st.next()
    assert ev.event == "state_change", ev
    return ev.data


def sub_json(device_id: str, word: str = "subscribed") -> str:
    return f'{{"state":"{word}","device_id":"{device_id}"}}'


def make_device(app, owner: str = "demo") -> Device:
    store = app.store
    with store.lock:
        acct = store.account_by_username(owner)
        dev = Device(id=store.new_device_id(), owner_id=acct.id, mac_address=store.new_mac(),
                     agent_id=store.new_agent_id(), imp_type="imp004m",
                     joined_seq=store.next_seq(), device_online=True)
        return store.add_device(dev)


def log(app, device: Device, msg: str, type_: str = "device.log") -> LogEntry:
    with app.store.lock:
        return life.append_log(app.store, device, type_, msg)


def set_ls(app, **values) -> None:
    with app.store.lock:
        app.store.config["logstream"].update(values)


def error_code(resp: requests.Response) -> str:
    return resp.json()["errors"][0]["code"]


@pytest.fixture
def devs(app):
    return [make_device(app) for _ in range(10)]


# -- creation and opening ----------------------------------------------------------------------


def test_create_shape_ignores_body_and_query(emu, app):
    resp = call(emu, "POST", "/logstream?format=json", data=b"\xff not json")
    assert resp.status_code == 201
    data = resp.json()["data"]
    url = f"{emu.base}/logstream/{data['id']}"
    demo_id = app.store.account_by_username("demo").id
    assert data == {"type": "logstream", "id": data["id"], "links": {"self": url},
                    "attributes": {"url": url},
                    "relationships": {"owner": {"type": "account", "id": demo_id}}}


def test_open_head_and_no_auth_needed(emu):
    ls = new_stream(emu)
    st = Stream(ls["attributes"]["url"], "json", headers={"Authorization": "Bearer nonsense"})
    with st:
        assert st.status_code == 200
        assert st.headers["Content-Type"] == "text/event-stream"
        assert st.headers["Cache-Control"] == "no-cache"
        assert st.headers["Connection"] == "close"
        assert "Content-Length" not in st.headers
        assert state(st) == OPENED_JSON


def test_bad_format_is_json_vx109_before_nf100(emu):
    ls = new_stream(emu)
    unknown = f"{emu.base}/logstream/{'0' * 8}-0000-0000-0000-{'0' * 12}"
    for url in (ls["attributes"]["url"], unknown):
        resp = requests.get(url, params={"format": "xml"}, timeout=5)
        assert resp.status_code == 400
        assert resp.headers["Content-Type"].startswith("application/vnd.api+json")
        assert resp.json()["errors"][0]["detail"] == "'format' must be one of text, json."
    resp = requests.get(f"{emu.base}/logstream/nope", params={"format": "json"}, timeout=5)
    assert (resp.status_code, error_code(resp)) == (404, "NF100")
    assert resp.json()["errors"][0]["detail"] == "The logstream 'nope' was not found."


def test_stream_id_case_insensitive(emu):
    ls = new_stream(emu)
    upper = {"attributes": {"url": f"{emu.base}/logstream/{ls['id'].upper()}"}}
    with open_(upper) as st:
        assert state(st) == OPENED_JSON


# -- wire format -------------------------------------------------------------------------------


def test_json_framing_exact(emu, app, devs):
    d = devs[0]
    ls = new_stream(emu)
    assert sub(emu, ls["id"], d.id) == 204
    with open_(ls, "json") as st:
        assert state(st) == OPENED_JSON
        assert state(st) == sub_json(d.id)
        e1 = log(app, d, 'line one\nline "two"\r\nthree é')
        e2 = log(app, d, "", "status")
        st.next()
        st.next()
        assert sub(emu, ls["id"], d.id, method="DELETE") == 204
        assert state(st) == sub_json(d.id, "unsubscribed")
        m1 = json.dumps({"device_id": d.id, "ts": iso(e1.ts), "log_type": "development",
                         "type": "device.log", "msg": e1.msg}, ensure_ascii=False,
                        separators=(",", ":"))
        m2 = (f'{{"device_id":"{d.id}","ts":"{iso(e2.ts)}","log_type":"development",'
              '"type":"status","msg":""}')
        assert st.parser.raw == (
            f"event: state_change\ndata: {OPENED_JSON}\n\n"
            f"event: state_change\ndata: {sub_json(d.id)}\n\n"
            f"event: message\ndata: {m1}\n\n"
            f"event: message\ndata: {m2}\n\n"
            f"event: state_change\ndata: {sub_json(d.id, 'unsubscribed')}\n\n"
        )


@pytest.mark.parametrize("fmt", [None, "text"])
def test_text_framing_exact(emu, app, devs, fmt):
    d = devs[0]
    ls = new_stream(emu)
    with open_(ls, fmt) as st:
        assert state(st) == "opened"
        assert sub(emu, ls["id"], d.id) == 204
        assert state(st) == f"{d.id} subscribed"
        e1 = log(app, d, "one\r\ntwo\rthree\nfour")
        e2 = log(app, d, "", "agent.log")
        assert st.next().data == f"{d.id} {iso(e1.ts)} development device.log one\ntwo\nthree\nfour"
        assert st.next().data == f"{d.id} {iso(e2.ts)} development agent.log "
        assert sub(emu, ls["id"], d.id, method="DELETE") == 204
        assert state(st) == f"{d.id} unsubscribed"
        assert st.parser.raw == (
            "event: state_change\ndata: opened\n\n"
            f"event: state_change\ndata: {d.id} subscribed\n\n"
            f"event: message\ndata: {d.id} {iso(e1.ts)} development device.log one\n"
            "data: two\ndata: three\ndata: four\n\n"
            f"event: message\ndata: {d.id} {iso(e2.ts)} development agent.log \n\n"
            f"event: state_change\ndata: {d.id} unsubscribed\n\n"
        )


def test_render_helpers():
    entry = LogEntry(1_700_000_000.5, "production", "agent.error", "a\r\nb")
    assert logstreams.message_event("text", "ab" * 8, entry) == (
        b"event: message\ndata: abababababababab 2023-11-14T22:13:20.500Z production "
        b"agent.error a\ndata: b\n\n")
    assert logstreams.state_event("json", "closed") == (
        b'event: state_change\ndata: {"state":"closed"}\n\n')
    assert logstreams.state_event("text", "closed") == b"event: state_change\ndata: closed\n\n"
    # an unencodable lone surrogate never breaks publishing
    odd = LogEntry(0.0, "development", "device.log", "\ud800")
    assert logstreams.message_event("json", "x", odd).endswith(b'"msg":"?"}\n\n')


# -- subscriptions -----------------------------------------------------------------------------


def test_subscriptions_announced_on_open_in_order(emu, devs):
    ls = new_stream(emu)
    for d in (devs[2], devs[0], devs[1]):
        assert sub(emu, ls["id"], d.id) == 204
    assert sub(emu, ls["id"], devs[2].mac_address.upper()) == 204  # already there: no change
    with open_(ls) as st:
        assert [state(st) for _ in range(4)] == [
            OPENED_JSON, sub_json(devs[2].id), sub_json(devs[0].id), sub_json(devs[1].id)]


def test_messages_only_between_subscribed_and_unsubscribed(emu, app, devs):
    a, b = devs[0], devs[1]
    ls = new_stream(emu)
    with open_(ls) as st:
        assert state(st) == OPENED_JSON
        log(app, a, "before")
        assert sub(emu, ls["id"], a.id) == 204
        log(app, a, "during")
        log(app, b, "other device")
        assert sub(emu, ls["id"], a.id, method="DELETE") == 204
        assert sub(emu, ls["id"], a.id, method="DELETE") == 204  # not subscribed: no event
        log(app, a, "after")
        assert sub(emu, ls["id"], b.id) == 204
        log(app, b, "sentinel")
        seen = [(ev.event, ev.data) for ev in (st.next() for _ in range(4))]
        assert seen[0] == ("state_change", sub_json(a.id))
        assert seen[1][0] == "message" and json.loads(seen[1][1])["msg"] == "during"
        assert seen[2] == ("state_change", sub_json(a.id, "unsubscribed"))
        assert seen[3] == ("state_change", sub_json(b.id))
        assert st.next_message()["msg"] == "sentinel"


def test_eviction_of_least_recently_added(emu, devs):
    ls = new_stream(emu)
    with open_(ls) as st:
        assert state(st) == OPENED_JSON
        for d in devs[:8]:
            assert sub(emu, ls["id"], d.id) == 204
            assert state(st) == sub_json(d.id)
        assert sub(emu, ls["id"], devs[0].id) == 204  # re-subscribe: place unchanged, no event
        assert sub(emu, ls["id"], devs[8].id) == 204
        assert state(st) == sub_json(devs[0].id, "unsubscribed")
        assert state(st) == sub_json(devs[8].id)
        assert sub(emu, ls["id"], devs[0].id) == 204  # back in as the most recent
        assert state(st) == sub_json(devs[1].id, "unsubscribed")
        assert state(st) == sub_json(devs[0].id)


def test_lowered_device_limit_evicts_several(emu, app, devs):
    ls = new_stream(emu)
    for d in devs[:4]:
        assert sub(emu, ls["id"], d.id) == 204
    set_ls(app, devices_per_stream=2)
    with open_(ls) as st:
        assert [state(st) for _ in range(5)][:2] == [OPENED_JSON, sub_json(devs[0].id)]
        assert sub(emu, ls["id"], devs[4].id) == 204
        assert [state(st) for _ in range(4)] == [
            sub_json(devs[0].id, "unsubscribed"), sub_json(devs[1].id, "unsubscribed"),
            sub_json(devs[2].id, "unsubscribed"), sub_json(devs[4].id)]


def test_subscribe_errors(emu, app, devs):
    ls = new_stream(emu)
    foreign = make_device(app, owner="demo-collab")
    assert call(emu, "PUT", f"/logstream/{ls['id']}/{devs[0].id}", user=None).status_code == 401
    for user, path in (("demo-collab", f"/logstream/{ls['id']}/{foreign.id}"),
                       ("demo", f"/logstream/{ls['id']}/{foreign.id}"),
                       ("demo", f"/logstream/{ls['id']}/0000000000000000"),
                       ("demo", f"/logstream/{'f' * 8}-0000-0000-0000-{'0' * 12}/{devs[0].id}")):
        for method in ("PUT", "DELETE"):
            resp = call(emu, method, path, user)
            assert (resp.status_code, error_code(resp)) == (404, "NF100"), (user, path)
    resp = call(emu, "PUT", f"/logstream/{ls['id']}/{devs[0].id}", json={"data": 1})
    assert resp.status_code == 204  # body ignored


def test_deleted_device_unsubscribed_everywhere(emu, app, devs):
    set_ls(app, streams_per_account=2)
    ls1, ls2 = new_stream(emu), new_stream(emu)
    with open_(ls1) as st1, open_(ls2, "text") as st2:
        for ls, st in ((ls1, st1), (ls2, st2)):
            state(st)
            assert sub(emu, ls["id"], devs[0].id) == 204
            state(st)
        with app.store.lock:
            app.store.remove_device(devs[0])
        assert state(st1) == sub_json(devs[0].id, "unsubscribed")
        assert state(st2) == f"{devs[0].id} unsubscribed"


# -- one stream per account, one reader per stream -------------------------------------------


def test_new_stream_closes_oldest(emu, app, devs):
    other = new_stream(emu, "demo-collab")
    ls1 = new_stream(emu)
    with open_(ls1, "text") as st1, open_(other) as st_other:
        assert state(st1) == "opened"
        assert state(st_other) == OPENED_JSON
        ls2 = new_stream(emu)
        assert state(st1) == "closed"
        st1.expect_eof()
        resp = requests.get(ls1["attributes"]["url"], timeout=5)
        assert (resp.status_code, error_code(resp)) == (404, "NF100")
        assert sub(emu, ls1["id"], devs[0].id) == 404
        assert sub(emu, ls2["id"], devs[0].id) == 204
        assert sub(emu, other["id"], devs[0].id, "demo-collab") == 404  # not visible to collab
        assert st_other.drain() == []


def test_streams_per_account_configurable(emu, app):
    set_ls(app, streams_per_account=3)
    ids = [new_stream(emu)["id"] for _ in range(4)]
    with app.store.lock:
        assert list(app.hub.streams) == ids[1:]


def test_one_reader_per_stream(emu, app, devs):
    ls = new_stream(emu)
    assert sub(emu, ls["id"], devs[0].id) == 204
    with open_(ls) as st1:
        assert [state(st1), state(st1)] == [OPENED_JSON, sub_json(devs[0].id)]
        with open_(ls, "text") as st2:
            assert [state(st2), state(st2)] == ["opened", f"{devs[0].id} subscribed"]
            ev = st1.next()
            assert ev.event == EOF, ev
            log(app, devs[0], "to the new reader")
            assert st2.next().data.endswith(" to the new reader")
            assert app.hub.open_connections() == 1
            assert "to the new reader" not in st1.parser.raw


def test_client_disconnect_noticed_and_resume(emu, app, devs):
    ls = new_stream(emu)
    assert sub(emu, ls["id"], devs[0].id) == 204
    st = open_(ls)
    state(st)
    assert app.hub.open_connections() == 1
    st.close()
    wait_for(lambda: app.hub.open_connections() == 0, timeout=3)
    log(app, devs[0], "missed")  # not replayed on resume
    with open_(ls) as st:
        assert [state(st), state(st)] == [OPENED_JSON, sub_json(devs[0].id)]
        log(app, devs[0], "live")
        assert st.next_message()["msg"] == "live"


# -- keep-alive and idle expiry ------------------------------------------------------------------


def test_keep_alive_counted_from_open(emu, app, devs):
    set_ls(app, keep_alive_s=0.4)
    ls = new_stream(emu)
    assert sub(emu, ls["id"], devs[0].id) == 204
    with open_(ls) as st:
        t0 = time.monotonic()
        stamps = []
        # keep the stream busy: keep-alives still come on their own schedule
        while len(stamps) < 3:
            log(app, devs[0], "busy")
            time.sleep(0.05)
            for ev in st.drain():
                if ev.event == ":":
                    assert ev.data == "keep-alive"
                    stamps.append(time.monotonic() - t0)
            assert time.monotonic() - t0 < 5
        assert 0.3 < stamps[0] < 1.2  # generous bounds: loaded CI machines
        assert 0.4 < stamps[2] - stamps[0] < 1.6
        assert "\n\n: keep-alive\n\nevent: " in st.parser.raw


def test_idle_expiry_by_emulator_clock(emu, app, devs):
    never_opened = new_stream(emu)
    app.clock.advance(59)
    assert sub(emu, never_opened["id"], devs[0].id) == 204  # PUT does not count as a connection
    app.clock.advance(2)
    assert sub(emu, never_opened["id"], devs[0].id) == 404


def test_idle_expiry_after_disconnect_and_open_stream_lives(emu, app, devs):
    set_ls(app, idle_lifetime_s=10)
    ls = new_stream(emu)
    with open_(ls) as st:
        state(st)
        app.clock.advance(600)  # an open connection never expires
        assert sub(emu, ls["id"], devs[0].id) == 204
        assert state(st) == sub_json(devs[0].id)
    wait_for(lambda: app.hub.open_connections() == 0, timeout=3)
    app.clock.advance(9)
    assert sub(emu, ls["id"], devs[1].id) == 204
    app.clock.advance(1.5)
    resp = requests.get(ls["attributes"]["url"], timeout=5)
    assert (resp.status_code, error_code(resp)) == (404, "NF100")


# -- drop (§8.7) and reset -------------------------------------------------------------------------


def test_drop_abort_keeps_stream(emu, app, devs):
    ls = new_stream(emu)
    assert sub(emu, ls["id"], devs[0].id) == 204
    with open_(ls) as st:
        state(st), state(st)
        assert app.hub.drop("abort") == 1
        assert app.hub.open_connections() == 0
        assert st.next().event == EOF
        assert "closed" not in st.parser.raw
    with open_(ls) as st:
        assert [state(st), state(st)] == [OPENED_JSON, sub_json(devs[0].id)]


def test_drop_close_destroys(emu, app):
    ls = new_stream(emu)
    with open_(ls, "text") as st:
        state(st)
        assert app.hub.drop("close") == 1
        assert state(st) == "closed"
        st.expect_eof()
    assert requests.get(ls["attributes"]["url"], timeout=5).status_code == 404


@pytest.mark.parametrize("mode", ["abort", "close"])
def test_drop_after_events(emu, app, devs, mode):
    ls = new_stream(emu)
    assert sub(emu, ls["id"], devs[0].id) == 204
    with open_(ls) as st:
        state(st), state(st)
        assert app.hub.drop(mode, after_events=2) == 1
        for i in range(4):
            log(app, devs[0], f"m{i}")
        assert [st.next_message()["msg"] for _ in range(2)] == ["m0", "m1"]
        if mode == "close":
            assert state(st) == '{"state":"closed"}'
        st.expect_eof()
        assert "m2" not in st.parser.raw
    with Stream(ls["attributes"]["url"], "json") as again:
        assert again.status_code == (404 if mode == "close" else 200)


def test_drop_for_one_account(emu, app):
    mine = new_stream(emu)
    theirs = new_stream(emu, "demo-collab")
    with open_(mine) as st1, open_(theirs) as st2:
        state(st1), state(st2)
        assert app.hub.drop("abort", account="demo-collab") == 1
        st2.expect_eof()
        assert app.hub.open_connections() == 1
        assert st1.drain() == []


def test_reset_cuts_without_event(emu, app):
    ls = new_stream(emu)
    with open_(ls) as st:
        state(st)
        emu.server.reset(seed="small", config={"rate_limit": {"limit": 0, "window_s": 1}})
        st.expect_eof()
        assert "closed" not in st.parser.raw
    assert app.hub.open_connections() == 0
    assert requests.get(ls["attributes"]["url"], timeout=5).status_code == 404


def test_stop_ends_streams():
    from impdesk.emulator import EmulatorServer

    server = EmulatorServer(seed="empty", rate_limit=0, simulation=False).start()
    try:
        tok = requests.post(server.base_url + "/auth", timeout=5,
                            json={"id": "demo", "password": DEMO_PASSWORD}).json()["access_token"]
        ls = requests.post(server.base_url + "/logstream", timeout=5,
                           headers={"Authorization": "Bearer " + tok}).json()["data"]
        st = open_(ls)
        state(st)
    finally:
        t0 = time.monotonic()
        server.stop()
    st.expect_eof(timeout=5)
    st.close()
    assert time.monotonic() - t0 < 5


# -- scale and slow readers ----------------------------------------------------------------------


def test_twenty_open_streams(emu, app, devs):
    set_ls(app, streams_per_account=20)
    streams = []
    try:
        for i in range(20):
            ls = new_stream(emu)
            assert sub(emu, ls["id"], devs[0].id) == 204
            st = open_(ls, "json" if i % 2 else "text")
            streams.append(st)
            state(st), state(st)
        assert app.hub.open_connections() == 20
        entries = [log(app, devs[0], f"fan-out {i}") for i in range(5)]
        for i, st in enumerate(streams):
            got = [st.next() for _ in range(5)]
            assert all(ev.event == "message" for ev in got)
            if i % 2:
                assert [ev.json()["ts"] for ev in got] == [iso(e.ts) for e in entries]
            else:
                assert [ev.data.split(" ", 4)[4] for ev in got] == [e.msg for e in entries]
    finally:
        for st in streams:
            st.close()


def test_each_format_rendered_once_per_entry(emu, app, devs, monkeypatch):
    set_ls(app, streams_per_account=5)
    calls = []
    real = logstreams.message_event
    monkeypatch.setattr(logstreams, "message_event",
                        lambda fmt, did, e: calls.append(fmt) or real(fmt, did, e))
    streams = []
    try:
        for fmt in ("json", "json", "json", "text", "text"):
            ls = new_stream(emu)
            assert sub(emu, ls["id"], devs[0].id) == 204
            streams.append(open_(ls, fmt))
        wait_for(lambda: app.hub.open_connections() == 5)
        log(app, devs[0], "once")
        assert sorted(calls) == ["json", "text"]
    finally:
        for st in streams:
            st.close()


def _raw_stream_socket(url: str, rcvbuf: int = 4096) -> socket.socket:
    """An SSE GET on a plain socket with a tiny receive buffer that we never read."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(f"GET {parts.path}?format=text HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    return sock


def test_slow_and_closed_readers_never_block_publish(emu, app, devs):
    set_ls(app, streams_per_account=3)
    stalled_ls, closed_ls, healthy_ls = new_stream(emu), new_stream(emu), new_stream(emu)
    for ls in (stalled_ls, closed_ls, healthy_ls):
        assert sub(emu, ls["id"], devs[0].id) == 204
    stalled = _raw_stream_socket(stalled_ls["attributes"]["url"])
    gone = _raw_stream_socket(closed_ls["attributes"]["url"])
    healthy = open_(healthy_ls, "json")
    try:
        wait_for(lambda: app.hub.open_connections() == 3)
        gone.close()
        big = "x" * 4000
        t0 = time.monotonic()
        for _ in range(3000):  # ~12 MB: far beyond what the stalled socket can take
            log(app, devs[0], big)
        elapsed = time.monotonic() - t0
        assert elapsed < 5, elapsed
        # the store lock is free and other requests are served meanwhile
        done = threading.Event()
        threading.Thread(target=lambda: (new_stream(emu, "demo-collab"), done.set()),
                         daemon=True).start()
        assert done.wait(5)
        state(healthy), state(healthy)
        assert healthy.next_message(timeout=10)["msg"] == big
        wait_for(lambda: app.hub.open_connections() == 2, timeout=5)  # the closed one noticed
    finally:
        healthy.close()
        stalled.close()
    t0 = time.monotonic()
    app.hub.reset()  # cuts the stalled writer although its socket is full
    assert time.monotonic() - t0 < 1


def test_messages_in_timestamp_order_under_load(emu, app, devs):
    ls = new_stream(emu)
    for d in devs[:3]:
        assert sub(emu, ls["id"], d.id) == 204
    with open_(ls) as st:
        for _ in range(4):
            state(st)

        def writer(d):
            for i in range(200):
                log(app, d, str(i))

        threads = [threading.Thread(target=writer, args=(d,)) for d in devs[:3]]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        got: dict[str, list] = {}
        for _ in range(600):
            m = st.next_message()
            got.setdefault(m["device_id"], []).append((m["ts"], int(m["msg"])))
        for seq in got.values():
            assert [n for _, n in seq] == list(range(200))
            assert [ts for ts, _ in seq] == sorted(ts for ts, _ in seq)


def test_open_stream_logged_once_while_open(emu, app):
    ls = new_stream(emu)
    with open_(ls) as st:
        state(st)
        logged = [r for r in list(app.request_log)
                  if r["method"] == "GET" and r["path"].endswith("/logstream/" + ls["id"])]
        assert [r["status"] for r in logged] == [200]
