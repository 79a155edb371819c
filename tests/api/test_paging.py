"""Pagination (§5): snapshot equality, concurrent pages via links.last, big lists, stop rules."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from impdesk.api import Client, InsecureEndpointError
from impdesk.api.client import PAGE_SIZE
from tests.api.conftest import clear_log, requests_log


def ids(items) -> list[str]:
    return [x.id for x in items]


def test_fetch_snapshot_equals_emulator_data(client, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 120, "products": 2, "groups": 4})
    progress: list[tuple] = []
    lock = threading.Lock()

    def on_progress(*args):
        with lock:
            progress.append(args)

    snap = client.fetch_snapshot(progress=on_progress)
    assert ids(snap.products) == [p["id"] for p in emu.list_all("/products")]
    assert ids(snap.device_groups) == [g["id"] for g in emu.list_all("/devicegroups")]
    assert ids(snap.devices) == [d["id"] for d in emu.list_all("/devices")]
    assert ids(snap.accounts) == [a["id"] for a in emu.list_all("/accounts")]
    assert snap.me is not None and snap.me.username == "demo"
    assert [a.username for a in snap.collaborators] == ["demo-collab"]
    raw = {d["id"]: d for d in emu.list_all("/devices")}
    for d in snap.devices:
        assert d.attributes == raw[d.id]["attributes"]
        assert d.devicegroup_id == (raw[d.id]["relationships"].get("devicegroup") or {}).get("id")
    assert {p[0] for p in progress} == {"products", "device groups", "devices", "accounts"}
    assert ("devices", 2, 2, 126) in progress
    assert snap.seconds > 0


def test_list_asks_for_100_and_sends_filters(client, emu):
    clear_log(emu)
    client.list_devices(unassigned=True)
    (r,) = requests_log(emu)
    query = dict(parse_qsl(r["query"]))
    assert query == {"filter[devicegroup.owner.id]": "null", "page[number]": "1",
                     "page[size]": "100"}


def test_concurrent_pages_when_last_is_known(make_client, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 594})  # 600 devices: 6 pages
    c = make_client()
    emu.control("PUT", "/faults", {"latency_ms": 250, "latency_path": "^/v5/devices$"})
    clear_log(emu)
    started = time.perf_counter()
    devices = c.list_devices()
    elapsed = time.perf_counter() - started
    assert len(devices) == 600 and len(set(ids(devices))) == 600
    pages = sorted(int(dict(parse_qsl(r["query"]))["page[number]"]) for r in requests_log(emu))
    assert pages == [1, 2, 3, 4, 5, 6]
    assert elapsed < 6 * 0.25  # pages 2-6 overlapped: about 2 x latency, not 6 x
    seq_started = time.perf_counter()
    assert ids(c.list_devices(concurrent=False)) == ids(devices)
    assert time.perf_counter() - seq_started >= 6 * 0.25


def test_list_of_300_devices(make_client, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 300})
    c = make_client()
    devices = c.list_devices()
    assert len(devices) == 306
    assert ids(devices) == [d["id"] for d in emu.list_all("/devices")]
    by_group = c.list_devices(group_type="development_devicegroup")
    assert all(d.devicegroup_type == "development_devicegroup" for d in by_group)
    assert len(by_group) + len(c.list_devices(unassigned=True)) == 306


def test_empty_collection(client):
    assert client.list_webhooks() == []


def test_history_pages_have_no_ids(client, emu):
    dev = client.list_devices()[0]
    emu.control("POST", f"/devices/{dev.id}/logs",
                {"entries": [{"type": "device.log", "msg": "x"}], "repeat": 230})
    raw = client.list_raw(f"/devices/{dev.id}/logs")
    assert len(raw) == 250  # anonymous entries are kept, not de-duplicated away


def test_iter_pages(client, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 194})
    docs = list(client.iter_pages("/devices"))
    assert [len(d["data"]) for d in docs] == [100, 100]


# -- stop rules against a scripted server (§5.3, §7.1 #3-7) ---------------------------------------
BASE = "https://api.example.test/v5"


class Script:
    """Serves page documents by page number; records every URL asked for."""

    def __init__(self, pages: dict[int, dict]) -> None:
        self.pages = pages
        self.asked: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, method: str, url: str, **kw) -> requests.Response:
        """Stands in for requests.Session.request: only what the client really sends arrives."""
        assert method == "GET" and url.startswith(BASE)
        assert kw["auth"] is not None  # a token is attached: so the origin must be ours
        with self.lock:
            self.asked.append(url)
        number = int(dict(parse_qsl(urlsplit(url).query)).get("page[number]", "1"))
        resp = requests.Response()
        resp.status_code = 200
        resp._content = json.dumps(self.pages.get(number, {"data": [], "links": {}})).encode()
        return resp


def page_url(n: int) -> str:
    return f"{BASE}/things?page[number]={n}&page[size]={PAGE_SIZE}"


def doc(items, **links) -> dict:
    return {"data": [{"type": "thing", "id": str(i), "attributes": {"v": v}} for i, v in items],
            "links": links}


@pytest.fixture
def offline() -> Client:
    client = Client(BASE)
    client._auth.access_token = "test-token"
    client._auth.deadline = client._auth.clock() + 3600
    return client


def run(client: Client, script: Script, **kw):
    client.http.request = script  # type: ignore[method-assign]
    return client.list_raw("/things", **kw)


def test_stops_when_next_is_absent(offline):
    s = Script({1: doc([(1, "a")], next=page_url(2)), 2: doc([(2, "b")])})
    assert [x["id"] for x in run(offline, s)] == ["1", "2"]
    assert len(s.asked) == 2


def test_stops_when_next_equals_current(offline):
    s = Script({1: doc([(1, "a")], next=page_url(2)), 2: doc([(2, "b")], next=page_url(2))})
    assert [x["id"] for x in run(offline, s)] == ["1", "2"] and len(s.asked) == 2


def test_stops_when_next_repeats_an_earlier_url(offline):
    s = Script({1: doc([(1, "a")], next=page_url(2)), 2: doc([(2, "b")], next=page_url(3)),
                3: doc([(3, "c")], next=page_url(2))})
    assert [x["id"] for x in run(offline, s)] == ["1", "2", "3"] and len(s.asked) == 3


def test_stops_on_an_empty_page(offline):
    s = Script({1: doc([(1, "a")], next=page_url(2)), 2: doc([], next=page_url(3)),
                3: doc([(3, "c")])})
    assert [x["id"] for x in run(offline, s)] == ["1"] and len(s.asked) == 2


def test_relative_next_links_resolve_against_the_request(offline):
    s = Script({1: doc([(1, "a")], next=f"things?page[number]=2&page[size]={PAGE_SIZE}"),
                2: doc([(2, "b")], next=f"/v5/things?page[number]=3&page[size]={PAGE_SIZE}"),
                3: doc([(3, "c")])})
    assert [x["id"] for x in run(offline, s)] == ["1", "2", "3"]


def test_scheme_relative_next_to_another_host_is_refused(offline):
    s = Script({1: doc([(1, "a")], next="//evil.example/v5/things?page[number]=2")})
    with pytest.raises(InsecureEndpointError):
        run(offline, s)
    assert len(s.asked) == 1


def test_duplicates_across_pages_last_copy_wins(offline):
    s = Script({1: doc([(1, "old"), (2, "x")], next=page_url(2)),
                2: doc([(1, "new"), (3, "y")])})
    out = run(offline, s, concurrent=False)
    assert sorted(x["id"] for x in out) == ["1", "2", "3"]
    assert {x["id"]: x["attributes"]["v"] for x in out}["1"] == "new"


def test_server_capping_lower_than_asked(offline):
    """Pages of 2 although 100 were asked: follow `next`, never derive a count from the size."""
    pages = {n: doc([(2 * n - 1, ""), (2 * n, "")], next=page_url(n + 1)) for n in range(1, 5)}
    pages[5] = doc([(9, "")])
    s = Script(pages)
    assert len(run(offline, s)) == 9 and len(s.asked) == 5


def test_concurrent_with_last_then_follows_growth(offline):
    pages = {n: doc([(n, "")], next=page_url(n + 1), last=page_url(3)) for n in range(1, 4)}
    pages[4] = doc([(4, "")])  # grew while we were fetching
    s = Script(pages)
    assert sorted(x["id"] for x in run(offline, s)) == ["1", "2", "3", "4"]
    assert sorted(s.asked) == sorted(page_url(n) for n in range(1, 5))


def test_no_last_link_is_fine(offline):
    s = Script({1: doc([(1, "")], next=page_url(2)), 2: doc([(2, "")], next=page_url(3)),
                3: doc([(3, "")])})
    assert len(run(offline, s)) == 3


def test_page_past_the_end_is_empty(offline):
    s = Script({1: doc([(1, "")], next=page_url(2), last=page_url(5)), 2: doc([(2, "")])})
    assert sorted(x["id"] for x in run(offline, s)) == ["1", "2"]  # pages 3-5 came back empty


# -- real-world list quirks injected by the emulator (impdesk's `pagination_quirks` fault) ---------
@pytest.mark.parametrize("quirks", [["next_on_last"], ["duplicates"], ["no_last"],
                                    ["relative_links"], ["duplicates", "no_last", "next_on_last"]])
def test_lists_survive_pagination_quirks(client, emu, quirks):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 250})
    expected = {d["id"] for d in emu.list_all("/devices")}
    emu.control("PUT", "/faults", {"pagination_quirks": quirks})
    devices = client.list_devices()
    emu.control("DELETE", "/faults")
    ids = [d.id for d in devices]
    assert len(ids) == len(set(ids)) and set(ids) == expected


def test_emulator_quirks_shape_the_links(emu):
    emu.control("PUT", "/faults", {"pagination_quirks": ["next_on_last", "relative_links"]})
    links = emu.get("/devices", params={"page[size]": 100}).json()["links"]
    assert links["next"] == links["self"] and links["self"].startswith("/v5/devices?")
    emu.control("PUT", "/faults", {"pagination_quirks": ["no_last"]})
    links = emu.get("/devices").json()["links"]
    assert "last" not in links and "next" not in links
    with pytest.raises(AssertionError, match="pagination_quirks"):
        emu.control("PUT", "/faults", {"pagination_quirks": ["bogus"]})


def test_log_stream_created_by_an_old_style_redirect(offline):
    """§7.1 #28: a 3xx whose Location is the stream URL; its last segment is the id."""

    def answer(method: str, url: str, **kw) -> requests.Response:
        assert method == "POST" and url == f"{BASE}/logstream"
        resp = requests.Response()
        resp.status_code = 302
        resp.url = url
        resp.headers["Location"] = "/v5/logstream/3f6d1b2a-8c4e-5a79-b0d2-e1f3a5c7e9b1"
        return resp

    offline.http.request = answer  # type: ignore[method-assign]
    assert offline.create_log_stream() == (
        "3f6d1b2a-8c4e-5a79-b0d2-e1f3a5c7e9b1",
        f"{BASE}/logstream/3f6d1b2a-8c4e-5a79-b0d2-e1f3a5c7e9b1")
