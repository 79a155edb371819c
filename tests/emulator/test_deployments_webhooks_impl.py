"""Implementation tests for /deployments and /webhooks (§3.5, §3.7) and webhook delivery (§8.9)."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from impdesk.emulator.model import Device, DeviceGroup
from impdesk.emulator.v5.webhooks import valid_url

PASSWORD = "impdesk-demo"
JSONAPI = "application/vnd.api+json"


# -- helpers ----------------------------------------------------------------------------------
class Api:
    """Thin authenticated access for one account (logs in through POST /auth)."""

    def __init__(self, emu: Any, username: str = "demo") -> None:
        self.emu = emu
        resp = emu.http.post(emu.base + "/auth", json={"id": username, "password": PASSWORD},
                             timeout=30)
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]
        store = emu.server.emulator.store
        with store.lock:
            self.account_id = store.account_by_username(username).id

    def call(self, method: str, path: str, **kw: Any):
        return self.emu.request(method, path, token=self.token, as_user=None, **kw)

    def get(self, path: str, **kw: Any):
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any):
        return self.call("POST", path, **kw)

    def patch(self, path: str, **kw: Any):
        return self.call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any):
        return self.call("DELETE", path, **kw)


def code_of(resp) -> str:
    doc = resp.json()
    assert len(doc["errors"]) == 1, doc
    err = doc["errors"][0]
    assert err["status"] == str(resp.status_code)
    return err["code"]


def expect(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert code_of(resp) == code, resp.text
    return resp.json()["errors"][0]


def data(resp, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith(JSONAPI)
    return resp.json()["data"]


def store_of(emu):
    return emu.server.emulator.store


def new_product(api: Api) -> dict:
    body = {"data": {"type": "product", "attributes": {"name": "P-" + uuid.uuid4().hex[:8]}}}
    return data(api.post("/products", json=body), 201)


def new_group(api: Api, product_id: str, gtype: str = "development_devicegroup") -> dict:
    """A group through POST /devicegroups, or straight in the store while that is not ready."""
    body = {"data": {"type": gtype, "attributes": {"name": "G-" + uuid.uuid4().hex[:8]},
                     "relationships": {"product": {"type": "product", "id": product_id}}}}
    resp = api.post("/devicegroups", json=body)
    if resp.status_code == 201:
        g = resp.json()["data"]
        return {"type": g["type"], "id": g["id"]}
    store = store_of(api.emu)
    with store.lock:
        now = store.clock.now()
        group = DeviceGroup(
            id=store.new_uuid(), type=gtype, name=body["data"]["attributes"]["name"],
            description=None, product_id=product_id, creator_id=api.account_id,
            created_at=now, updated_at=now,
            load_code_after_blessing=True if "production" in gtype else None,
        )
        store.groups[group.id] = group
        store.touch()
    return {"type": gtype, "id": group.id}


def group_record(emu, gid: str) -> DeviceGroup:
    store = store_of(emu)
    with store.lock:
        return store.groups[gid]


def dep_body(group: dict, device_code: str = "", agent_code: str = "", rels: Any = None,
             **attrs: Any) -> dict:
    return {"data": {"type": "deployment",
                     "attributes": {"device_code": device_code, "agent_code": agent_code, **attrs},
                     "relationships": rels if rels is not None else {"devicegroup": group}}}


def deploy(api: Api, group: dict, device_code: str = "", agent_code: str = "", **attrs) -> dict:
    return data(api.post("/deployments", json=dep_body(group, device_code, agent_code, **attrs)),
                201)


def hook_body(group: dict | None, url: str = "https://example.com/hook", event: str = "deployment",
              rels: Any = None, **attrs: Any) -> dict:
    a = {"url": url, "event": event, **attrs}
    r = rels if rels is not None else {"devicegroup": group}
    return {"data": {"type": "webhook", "attributes": a, "relationships": r}}


def wait_for(pred, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last {value!r})")
        time.sleep(0.02)


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture
def api(emu) -> Api:
    return Api(emu, "demo")


@pytest.fixture
def other(emu) -> Api:
    return Api(emu, "demo-collab")


@pytest.fixture
def product(api) -> dict:
    return new_product(api)


@pytest.fixture
def group(api, product) -> dict:
    return new_group(api, product["id"])


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        server: Any = self.server
        if server.delay:
            time.sleep(server.delay)
        server.received.append({"path": self.path, "content_type": self.headers["Content-Type"],
                                "body": body.decode()})
        try:
            self.send_response(server.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Any]:
    server: Any = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    server.status = 200
    server.delay = 0.0
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# -- POST /deployments -------------------------------------------------------------------------
def test_create_deployment_resource_and_group_effects(emu, api, product, group):
    before = group_record(emu, group["id"]).updated_at
    time.sleep(0.005)
    dep = deploy(api, group, 'server.log("d");', 'server.log("a");', description="first",
                 origin="impdesk", tags=["release", "v1.0"])
    assert dep["type"] == "deployment"
    assert dep["links"]["self"] == f"{emu.base}/deployments/{dep['id']}"
    a = dep["attributes"]
    assert a["device_code"] == 'server.log("d");' and a["agent_code"] == 'server.log("a");'
    assert a["description"] == "first" and a["origin"] == "impdesk"
    assert a["tags"] == ["release", "v1.0"] and a["flagged"] is False
    expected = hashlib.sha256(b'server.log("a");server.log("d");').hexdigest()
    assert a["sha"] == expected
    assert a["created_at"] == a["updated_at"]
    rels = dep["relationships"]
    assert rels["devicegroup"] == group
    assert rels["product"] == {"type": "product", "id": product["id"]}
    assert rels["owner"] == {"type": "account", "id": api.account_id}
    assert rels["creator"] == {"type": "account", "id": api.account_id}
    assert "flagger" not in rels
    g = group_record(emu, group["id"])
    assert g.current_deployment_id == dep["id"]
    assert g.min_supported_deployment_id == dep["id"]
    assert g.updated_at > before

    second = deploy(api, group)
    g = group_record(emu, group["id"])
    assert g.current_deployment_id == second["id"]
    assert g.min_supported_deployment_id == dep["id"]
    assert second["attributes"]["tags"] == [] and second["attributes"]["description"] is None
    assert second["attributes"]["origin"] is None


def test_create_defaults_sha_of_empty_code(api, group):
    dep = deploy(api, group)
    assert dep["attributes"]["sha"] == hashlib.sha256(b"").hexdigest()


def test_create_flagged_sets_flagger_and_generic_group_type(api, group):
    dep = deploy(api, {"type": "devicegroup", "id": group["id"].upper()}, flagged=True)
    assert dep["attributes"]["flagged"] is True
    assert dep["relationships"]["flagger"] == {"type": "account", "id": api.account_id}
    assert dep["relationships"]["devicegroup"] == group


def test_create_accepts_wrapped_relationship_and_ignores_data_id(api, group):
    body = dep_body(group, rels={"devicegroup": {"data": group}})
    body["data"]["id"] = "ignored"
    dep = data(api.post("/deployments", json=body), 201)
    assert dep["id"] != "ignored"


def test_owner_is_product_owner_for_a_collaborator(emu, api, other, product, group):
    store = store_of(emu)
    with store.lock:
        store.products[product["id"]].collaborators.add(other.account_id)
    dep = deploy(other, group)
    assert dep["relationships"]["owner"]["id"] == api.account_id
    assert dep["relationships"]["creator"]["id"] == other.account_id


def test_create_does_not_restart_devices(emu, api, group):
    store = store_of(emu)
    with store.lock:
        device = Device(id=store.new_device_id(), owner_id=api.account_id,
                        mac_address=store.new_mac(), agent_id=store.new_agent_id(),
                        imp_type="imp004m", joined_seq=store.next_seq(), device_online=True,
                        group_id=group["id"])
        store.add_device(device)
        logs_before = len(device.logs)
    deploy(api, group, "x();")
    time.sleep(0.05)
    with store.lock:
        assert len(device.logs) == logs_before
        assert device.running_deployment_id is None
        assert not device.restart_pending


@pytest.mark.parametrize(("rels", "code"), [
    ({}, "VX107"),
    ({"devicegroup": None}, "VX107"),
    ({"devicegroup": {"type": "development_devicegroup"}}, "VX107"),
    ({"devicegroup": "abc"}, "VX107"),
    ({"product": {"type": "product", "id": "x"}}, "VX107"),
])
def test_create_relationship_errors(api, group, rels, code):
    expect(api.post("/deployments", json=dep_body(group, rels=rels)), 400, code)


def test_create_other_relationship_besides_group(api, product, group):
    rels = {"devicegroup": group, "product": {"type": "product", "id": product["id"]}}
    expect(api.post("/deployments", json=dep_body(group, rels=rels)), 400, "VX107")


def test_create_missing_relationships_member(api, group):
    body = {"data": {"type": "deployment", "attributes": {"device_code": "", "agent_code": ""}}}
    expect(api.post("/deployments", json=body), 400, "VX107")


def test_create_group_type_errors(api, product, group):
    wrong = {"type": "production_devicegroup", "id": group["id"]}
    expect(api.post("/deployments", json=dep_body(wrong)), 400, "VX102")
    bogus = {"type": "product", "id": group["id"]}
    expect(api.post("/deployments", json=dep_body(bogus)), 400, "VX102")


def test_create_unknown_or_invisible_group(api, other, group):
    unknown = {"type": "development_devicegroup", "id": str(uuid.uuid4())}
    expect(api.post("/deployments", json=dep_body(unknown)), 404, "NF101")
    expect(other.post("/deployments", json=dep_body(group)), 404, "NF101")


def test_create_table_order(api, group):
    # An unknown group (NF101) waits for every attribute check (§4.2) ...
    unknown = {"type": "development_devicegroup", "id": str(uuid.uuid4())}
    body = {"data": {"type": "deployment", "attributes": {"bogus": 1},
                     "relationships": {"devicegroup": unknown}}}
    expect(api.post("/deployments", json=body), 400, "VX103")
    body = dep_body(unknown, tags=["bad tag"])
    expect(api.post("/deployments", json=body), 400, "VX111")
    expect(api.post("/deployments", json=dep_body(unknown, "{")), 404, "NF101")
    # ... while a visible group of another concrete type is VX102 before VX103 ...
    wrong = {"type": "production_devicegroup", "id": group["id"]}
    body = {"data": {"type": "deployment", "attributes": {},
                     "relationships": {"devicegroup": wrong}}}
    expect(api.post("/deployments", json=body), 400, "VX102")
    # ... VX103 before VX104 ...
    body = {"data": {"type": "deployment", "attributes": {"device_code": "", "bogus": 1},
                     "relationships": {"devicegroup": group}}}
    expect(api.post("/deployments", json=body), 400, "VX103")
    # ... VX104 before VX106 before VX111 before CX005.
    body = dep_body(group, "{", description="x" * 300, tags=["bad tag"], origin="o" * 256)
    expect(api.post("/deployments", json=body), 400, "VX104")
    body = dep_body(group, "{", description="x" * 300, tags=["bad tag"])
    expect(api.post("/deployments", json=body), 400, "VX106")
    body = dep_body(group, "{", tags=["bad tag"])
    expect(api.post("/deployments", json=body), 400, "VX111")


@pytest.mark.parametrize("attrs", [
    {"device_code": 1}, {"agent_code": None}, {"description": 5}, {"origin": ["x"]},
    {"tags": "a"}, {"tags": [1]}, {"tags": None}, {"flagged": "true"}, {"flagged": None},
    {"sha": "0" * 64}, {"created_at": "2020-01-01T00:00:00.000Z"}, {"origin": "o" * 256},
])
def test_create_vx104(api, group, attrs):
    expect(api.post("/deployments", json=dep_body(group, **attrs)), 400, "VX104")


@pytest.mark.parametrize("missing", ["device_code", "agent_code"])
def test_create_vx103(api, group, missing):
    body = dep_body(group)
    del body["data"]["attributes"][missing]
    err = expect(api.post("/deployments", json=body), 400, "VX103")
    assert missing in err["detail"]


def test_create_description_and_origin_limits(api, group):
    dep = deploy(api, group, description="d" * 255, origin="o" * 255)
    assert len(dep["attributes"]["origin"]) == 255
    expect(api.post("/deployments", json=dep_body(group, description="d" * 256)), 400, "VX106")
    dep = deploy(api, group, description=None, origin=None)
    assert dep["attributes"]["description"] is None


@pytest.mark.parametrize("tags", [[""], ["a b"], ["ä"], ["a,b"], ["x" * 501], ["a" * 250] * 1 +
                                  ["b" * 251]])
def test_create_bad_tags(api, group, tags):
    expect(api.post("/deployments", json=dep_body(group, tags=tags)), 400, "VX111")


def test_create_tags_dedup_and_limit(api, group):
    dep = deploy(api, group, tags=["b", "a-_*.Z9", "b", "a-_*.Z9", "c"])
    assert dep["attributes"]["tags"] == ["b", "a-_*.Z9", "c"]
    # Duplicates are dropped before the 500-character total is measured.
    dep = deploy(api, group, tags=["x" * 500, "x" * 500])
    assert dep["attributes"]["tags"] == ["x" * 500]


def test_create_compile_error(emu, api, group):
    store = store_of(emu)
    body = dep_body(group, device_code="function f() {\n", agent_code="x = [1, 2);")
    err = expect(api.post("/deployments", json=body), 400, "CX005")
    assert err["title"] == "Compilation Error"
    assert err["meta"] == [
        {"file": "agent_code", "type": "error", "row": 1, "column": 10, "text": "expected ']'"},
        {"file": "device_code", "type": "error", "row": 2, "column": 1, "text": "expected '}'"},
    ]
    with store.lock:
        assert not any(d.group_id == group["id"] for d in store.deployments.values())
        assert store.groups[group["id"]].current_deployment_id is None


def test_create_document_errors(api, group):
    expect(api.post("/deployments", data=b"{"), 400, "VX100")
    expect(api.post("/deployments", json={"data": []}), 400, "VX101")
    body = dep_body(group)
    body["data"]["type"] = "webhook"
    expect(api.post("/deployments", json=body), 400, "VX102")


def iso_ts(ts: float) -> str:
    from impdesk.emulator.clock import iso

    return iso(ts)


def test_created_at_never_goes_backwards_and_ties_order_by_creation(emu, api, group):
    first = deploy(api, group)
    store = store_of(emu)
    future = time.time() + 3600
    with store.lock:
        store.deployments[first["id"]].created_at = future
    a = deploy(api, group)
    b = deploy(api, group)
    stamps = [d["attributes"]["created_at"] for d in (first, a, b)]
    future_iso = iso_ts(future)
    assert future_iso < stamps[1] < stamps[2]  # after the one placed in the future, in order
    listed = data(api.get("/deployments", params={"filter[devicegroup.id]": group["id"]}))
    assert [d["id"] for d in listed] == [b["id"], a["id"], first["id"]]
    assert group_record(emu, group["id"]).current_deployment_id == b["id"]


# -- GET /deployments ---------------------------------------------------------------------------
def test_list_newest_first_with_pagination(emu, api, group):
    made = [deploy(api, group, description=str(i))["id"] for i in range(5)]
    mine = {"filter[devicegroup.id]": group["id"]}
    resp = api.get("/deployments", params={"page[size]": "2", **mine})
    doc = resp.json()
    assert [d["id"] for d in doc["data"]] == made[::-1][:2]
    assert doc["links"]["next"].endswith("page[number]=2&page[size]=2")
    every = data(api.get("/deployments", params={"page[size]": "100", **mine}))
    assert [d["id"] for d in every] == made[::-1]
    assert every[0]["attributes"]["device_code"] == ""


def test_list_filters(emu, api, other, product, group):
    second_group = new_group(api, product["id"])
    other_product = new_product(api)
    third_group = new_group(api, other_product["id"])
    d1 = deploy(api, group, "a", tags=["x", "y"], flagged=True)
    d2 = deploy(api, second_group, "b", tags=["y"])
    d3 = deploy(api, third_group, "a", tags=["x", "y", "z"])

    def ids(**filters: str) -> list[str]:
        params = {f"filter[{k}]": v for k, v in filters.items()}
        params["page[size]"] = "100"
        mine = {d1["id"], d2["id"], d3["id"]}  # the seed may hold deployments too
        return [d["id"] for d in data(api.get("/deployments", params=params)) if d["id"] in mine]

    assert ids() == [d3["id"], d2["id"], d1["id"]]
    assert ids(**{"product.id": product["id"].upper()}) == [d2["id"], d1["id"]]
    assert ids(**{"devicegroup.id": group["id"]}) == [d1["id"]]
    assert ids(sha=d1["attributes"]["sha"]) == [d3["id"], d1["id"]]
    assert ids(sha="0" * 64) == []
    assert ids(flagged="true") == [d1["id"]]
    assert ids(flagged="false") == [d3["id"], d2["id"]]
    assert ids(flagged="any") == [d3["id"], d2["id"], d1["id"]]
    assert ids(tags="x") == [d3["id"], d1["id"]]
    assert ids(tags="y,,z,") == [d3["id"]]
    assert ids(tags="x,y") == [d3["id"], d1["id"]]
    assert ids(tags="nope") == []
    for key in ("owner.id", "creator.id", "flagger.id"):
        assert ids(**{key: "me"}) == ([d1["id"]] if key == "flagger.id"
                                      else [d3["id"], d2["id"], d1["id"]])
        assert ids(**{key: other.account_id}) == []
    assert ids(**{"owner.id": api.account_id.upper()}) == [d3["id"], d2["id"], d1["id"]]
    assert ids(**{"devicegroup.id": group["id"], "tags": "y"}) == [d1["id"]]
    # Invisible to another account.
    assert not {d["id"] for d in data(other.get("/deployments", params={"page[size]": "100"}))} \
        & {d1["id"], d2["id"], d3["id"]}


@pytest.mark.parametrize("params", [
    {"filter[flagged]": "yes"}, {"filter[flagged]": "TRUE"}, {"filter[flagged]": ""},
    {"filter[type]": "x"}, {"filter[devicegroup.type]": "development_devicegroup"},
])
def test_list_bad_filters(api, params):
    expect(api.get("/deployments", params=params), 400, "VX108")


def test_list_repeated_filter(api):
    expect(api.get("/deployments?filter[sha]=a&filter[sha]=b"), 400, "VX108")


def test_list_links_carry_filters(emu, api, group):
    doc = api.get("/deployments", params={"filter[tags]": "a,b", "filter[flagged]": "any"}).json()
    assert doc["links"]["self"] == (f"{emu.base}/deployments?filter[flagged]=any&"
                                    "filter[tags]=a,b&page[number]=1&page[size]=20")


# -- GET/PATCH/DELETE /deployments/{id} ----------------------------------------------------------
def test_get_single_and_invisible(api, other, group):
    dep = deploy(api, group)
    assert data(api.get(f"/deployments/{dep['id']}")) == dep
    assert data(api.get(f"/deployments/{dep['id'].upper()}"))["id"] == dep["id"]
    expect(other.get(f"/deployments/{dep['id']}"), 404, "NF100")
    expect(api.get(f"/deployments/{uuid.uuid4()}"), 404, "NF100")


def test_patch_attributes(emu, api, other, product, group):
    store = store_of(emu)
    with store.lock:
        store.products[product["id"]].collaborators.add(other.account_id)
    dep = deploy(api, group, description="old", tags=["a"])
    path = f"/deployments/{dep['id']}"
    time.sleep(0.005)
    body = {"data": {"type": "deployment", "id": dep["id"],
                     "attributes": {"description": None, "tags": ["b", "b", "c"], "flagged": True}}}
    out = data(api.patch(path, json=body))
    assert out["attributes"]["description"] is None
    assert out["attributes"]["tags"] == ["b", "c"]
    assert out["attributes"]["flagged"] is True
    assert out["relationships"]["flagger"]["id"] == api.account_id
    assert out["attributes"]["updated_at"] > dep["attributes"]["updated_at"]
    assert out["attributes"]["created_at"] == dep["attributes"]["created_at"]
    # No change: updated_at stays.
    same = data(api.patch(path, json=body))
    assert same["attributes"]["updated_at"] == out["attributes"]["updated_at"]
    # Another account flagging again becomes the flagger.
    flag = {"data": {"type": "deployment", "attributes": {"flagged": True}}}
    assert data(other.patch(path, json=flag))["relationships"]["flagger"]["id"] == \
        other.account_id
    unflag = {"data": {"type": "deployment", "attributes": {"flagged": False}}}
    out = data(api.patch(path, json=unflag))
    assert out["attributes"]["flagged"] is False and "flagger" not in out["relationships"]
    # Filtered lists see the change.
    params = {"filter[flagged]": "false", "filter[devicegroup.id]": group["id"]}
    assert [d["id"] for d in data(api.get("/deployments", params=params))] == [dep["id"]]
    params["filter[flagged]"] = "true"
    assert data(api.get("/deployments", params=params)) == []


@pytest.mark.parametrize(("attrs", "rels", "code"), [
    ({"device_code": ""}, None, "VX104"),
    ({"agent_code": ""}, None, "VX104"),
    ({"origin": "x"}, None, "VX104"),
    ({"sha": "x"}, None, "VX104"),
    ({"flagged": 1}, None, "VX104"),
    ({"tags": "a"}, None, "VX104"),
    ({"description": "x" * 256}, None, "VX106"),
    ({"tags": ["a b"]}, None, "VX111"),
    ({}, {"devicegroup": {"type": "devicegroup", "id": "x"}}, "VX107"),
])
def test_patch_errors(api, group, attrs, rels, code):
    dep = deploy(api, group)
    body: dict = {"data": {"type": "deployment", "attributes": attrs}}
    if rels is not None:
        body["data"]["relationships"] = rels
    expect(api.patch(f"/deployments/{dep['id']}", json=body), 400, code)


def test_patch_document_errors(api, group):
    dep = deploy(api, group)
    path = f"/deployments/{dep['id']}"
    body = {"data": {"type": "deployment", "id": str(uuid.uuid4()), "attributes": {}}}
    expect(api.patch(path, json=body), 400, "VX101")
    expect(api.patch(path, json={"data": {"type": "webhook"}}), 400, "VX102")
    missing = {"data": {"type": "deployment", "attributes": {"flagged": True}}}
    expect(api.patch(f"/deployments/{uuid.uuid4()}", json=missing), 404, "NF100")


def test_delete_rules(emu, api, group):
    d1, d2, d3 = (deploy(api, group)["id"] for _ in range(3))
    # d1 is the minimum: it and everything newer are protected.
    for dep_id in (d1, d2, d3):
        expect(api.delete(f"/deployments/{dep_id}"), 409, "CX106")
    store = store_of(emu)
    with store.lock:
        store.groups[group["id"]].min_supported_deployment_id = d2
    flag = {"data": {"type": "deployment", "attributes": {"flagged": True}}}
    data(api.patch(f"/deployments/{d1}", json=flag))
    expect(api.delete(f"/deployments/{d1}"), 409, "CX105")
    unflag = {"data": {"type": "deployment", "attributes": {"flagged": False}}}
    data(api.patch(f"/deployments/{d1}", json=unflag))
    resp = api.delete(f"/deployments/{d1}")
    assert resp.status_code == 204 and resp.content == b""
    expect(api.delete(f"/deployments/{d1}"), 404, "NF100")
    expect(api.get(f"/deployments/{d1}"), 404, "NF100")
    listed = data(api.get("/deployments", params={"filter[devicegroup.id]": group["id"]}))
    assert [d["id"] for d in listed] == [d3, d2]
    g = group_record(emu, group["id"])
    assert g.current_deployment_id == d3 and g.min_supported_deployment_id == d2


def test_delete_invisible(api, other, group):
    dep = deploy(api, group)
    expect(other.delete(f"/deployments/{dep['id']}"), 404, "NF100")


def test_methods_and_auth(emu, api):
    resp = api.call("PUT", "/deployments")
    expect(resp, 405, "VX120")
    assert resp.headers["Allow"] == "GET, POST"
    resp = emu.request("GET", "/deployments", as_user=None)
    expect(resp, 401, "PX100")


# -- /webhooks ------------------------------------------------------------------------------
def test_webhook_crud(emu, api, other, group):
    created = data(api.post("/webhooks", json=hook_body(group)), 201)
    assert created["type"] == "webhook"
    a = created["attributes"]
    assert a["url"] == "https://example.com/hook" and a["event"] == "deployment"
    assert a["content_type"] == "application/json"
    assert a["created_at"] == a["updated_at"]
    assert created["relationships"] == {"devicegroup": group}
    assert created["links"]["self"] == f"{emu.base}/webhooks/{created['id']}"
    path = f"/webhooks/{created['id']}"
    assert data(api.get(path)) == created
    expect(other.get(path), 404, "NF100")
    time.sleep(0.005)
    body = {"data": {"type": "webhook", "id": created["id"],
                     "attributes": {"url": "http://h.example:8080/x?y=1",
                                    "content_type": "application/x-www-form-urlencoded"}}}
    out = data(api.patch(path, json=body))
    assert out["attributes"]["url"] == "http://h.example:8080/x?y=1"
    assert out["attributes"]["content_type"] == "application/x-www-form-urlencoded"
    assert out["attributes"]["updated_at"] > a["updated_at"]
    assert data(api.patch(path, json=body))["attributes"]["updated_at"] == \
        out["attributes"]["updated_at"]
    resp = api.delete(path)
    assert resp.status_code == 204
    expect(api.get(path), 404, "NF100")
    expect(api.delete(path), 404, "NF100")


def test_webhook_list_filter_and_order(api, other, product, group):
    g2 = new_group(api, product["id"])
    h1 = data(api.post("/webhooks", json=hook_body(group)), 201)
    h2 = data(api.post("/webhooks", json=hook_body(g2)), 201)
    h3 = data(api.post("/webhooks", json=hook_body(group, url="http://x.example/2")), 201)
    # §5.5: created_at, then id (hooks made within one millisecond tie on created_at).
    def order(*hooks):
        return [h["id"] for h in sorted(hooks, key=lambda h: (h["attributes"]["created_at"],
                                                               h["id"]))]

    mine = order(h1, h2, h3)
    listed = data(api.get("/webhooks", params={"page[size]": "100"}))
    assert [h["id"] for h in listed if h["id"] in mine] == mine
    stamps = [(h["attributes"]["created_at"], h["id"]) for h in listed]
    assert stamps == sorted(stamps)
    listed = data(api.get("/webhooks", params={"filter[devicegroup.id]": group["id"].upper()}))
    assert [h["id"] for h in listed] == order(h1, h3)
    assert not {h["id"] for h in data(other.get("/webhooks"))} & set(mine)
    expect(api.get("/webhooks", params={"filter[event]": "deployment"}), 400, "VX108")


@pytest.mark.parametrize("event", ["blessing", "blinkup", "deployment"])
@pytest.mark.parametrize("gtype", ["production_devicegroup", "pre_production_devicegroup"])
def test_webhook_production_events(api, product, gtype, event):
    g = new_group(api, product["id"], gtype)
    hook = data(api.post("/webhooks", json=hook_body(g, event=event)), 201)
    assert hook["relationships"]["devicegroup"] == g


@pytest.mark.parametrize("event", ["blessing", "blinkup"])
def test_webhook_vx113(api, group, event):
    err = expect(api.post("/webhooks", json=hook_body(group, event=event)), 400, "VX113")
    assert group["type"] in err["detail"]


@pytest.mark.parametrize("url", [
    "", "example.com/hook", "ftp://example.com/x", "http://", "http:///path", "https:// x.com",
    "https://exa mple.com", "https://example.com/\t", "http://[::1", "http://host:port/",
    "https://example.com/" + "a" * 2030, "mailto:a@example.com", "//example.com/x",
    "https://example.com/a\nb",
])
def test_webhook_bad_url(api, group, url):
    expect(api.post("/webhooks", json=hook_body(group, url=url)), 400, "VX110")


def test_webhook_url_rules_unit():
    assert valid_url("https://example.com")
    assert valid_url("HTTP://EXAMPLE.com:8080/path?q=1#f")
    assert valid_url("http://[::1]:9000/sink")
    assert valid_url("http://127.0.0.1/" + "a" * (2048 - 17))
    assert not valid_url("http://127.0.0.1/" + "a" * (2049 - 17))


@pytest.mark.parametrize(("attrs", "rels", "code"), [
    ({"url": None}, None, "VX104"),
    ({"event": "deploy"}, None, "VX104"),
    ({"content_type": "text/plain"}, None, "VX104"),
    ({"content_type": None}, None, "VX104"),
    ({"secret": "x"}, None, "VX104"),
    ({}, {}, "VX107"),
    ({}, {"devicegroup": {"id": "x"}}, "VX107"),
    ({}, {"product": {"type": "product", "id": "x"}}, "VX107"),
    ({}, {"devicegroup": {"type": "device", "id": "x"}}, "VX102"),
    ({}, {"devicegroup": {"type": "devicegroup", "id": str(uuid.uuid4())}}, "NF101"),
])
def test_webhook_create_errors(api, group, attrs, rels, code):
    body = hook_body(group, rels=rels)
    body["data"]["attributes"].update(attrs)
    expect(api.post("/webhooks", json=body), 400 if code != "NF101" else 404, code)


def test_webhook_create_missing_and_order(api, other, group):
    for missing in ("url", "event"):
        body = hook_body(group)
        del body["data"]["attributes"][missing]
        err = expect(api.post("/webhooks", json=body), 400, "VX103")
        assert missing in err["detail"]
    # VX110 before VX104 before VX113 before the relationship rows.
    body = hook_body(group, url="nope", event="blessing", extra=1)
    expect(api.post("/webhooks", json=body), 400, "VX110")
    body = hook_body(group, event="blessing", extra=1)
    expect(api.post("/webhooks", json=body), 400, "VX104")
    body = hook_body(group, event="blessing",
                     rels={"devicegroup": {"type": "production_devicegroup", "id": group["id"]}})
    expect(api.post("/webhooks", json=body), 400, "VX113")
    wrong = {"type": "production_devicegroup", "id": group["id"]}
    expect(api.post("/webhooks", json=hook_body(wrong)), 400, "VX102")
    expect(other.post("/webhooks", json=hook_body(group)), 404, "NF101")
    generic = {"type": "devicegroup", "id": group["id"]}
    hook = data(api.post("/webhooks", json=hook_body(generic)), 201)
    assert hook["relationships"]["devicegroup"] == group


@pytest.mark.parametrize(("attrs", "rels", "code"), [
    ({"event": "deployment"}, None, "VX104"),
    ({"created_at": "x"}, None, "VX104"),
    ({"content_type": "application/xml"}, None, "VX104"),
    ({"url": "not a url"}, None, "VX110"),
    ({"url": 7}, None, "VX104"),
    ({}, {"devicegroup": {"type": "devicegroup", "id": "x"}}, "VX107"),
])
def test_webhook_patch_errors(api, group, attrs, rels, code):
    hook = data(api.post("/webhooks", json=hook_body(group)), 201)
    body: dict = {"data": {"type": "webhook", "attributes": attrs}}
    if rels is not None:
        body["data"]["relationships"] = rels
    expect(api.patch(f"/webhooks/{hook['id']}", json=body), 400, code)


def test_webhook_patch_document_errors(api, group):
    hook = data(api.post("/webhooks", json=hook_body(group)), 201)
    body = {"data": {"type": "webhook", "id": str(uuid.uuid4()), "attributes": {}}}
    expect(api.patch(f"/webhooks/{hook['id']}", json=body), 400, "VX101")
    expect(api.patch(f"/webhooks/{hook['id']}", json={"data": {"type": "deployment"}}), 400,
           "VX102")


# -- delivery -----------------------------------------------------------------------------------
def test_deployment_webhook_delivery_json_and_form(emu, api, group, receiver):
    app = emu.server.emulator
    app.webhooks.clear_deliveries()
    j = data(api.post("/webhooks", json=hook_body(group, url=receiver.url + "/json")), 201)
    f = data(api.post("/webhooks", json=hook_body(
        group, url=receiver.url + "/form", content_type="application/x-www-form-urlencoded")), 201)
    dep = deploy(api, group, "x();")
    records = wait_for(lambda: len(app.webhooks.deliveries()) == 2 and app.webhooks.deliveries())
    payload = {"deployment_id": dep["id"], "devicegroup_id": group["id"],
               "sha": dep["attributes"]["sha"], "created_at": dep["attributes"]["created_at"]}
    by_hook = {r["webhook_id"]: r for r in records}
    assert set(by_hook) == {j["id"], f["id"]}
    for hook, ctype in ((j, "application/json"), (f, "application/x-www-form-urlencoded")):
        r = by_hook[hook["id"]]
        assert r["event"] == "deployment" and r["result"] == 200
        assert r["url"] == hook["attributes"]["url"] and r["content_type"] == ctype
        assert r["payload"] == payload
        assert isinstance(r["seq"], int) and isinstance(r["ts"], float)
    got = {r["path"]: r for r in receiver.received}
    assert json.loads(got["/json"]["body"]) == payload
    assert got["/json"]["content_type"] == "application/json"
    assert got["/form"]["content_type"] == "application/x-www-form-urlencoded"
    assert {k: v[0] for k, v in parse_qs(got["/form"]["body"]).items()} == payload


def test_delivery_records_status_errors_and_is_async(emu, api, product, group, receiver):
    app = emu.server.emulator
    app.webhooks.clear_deliveries()
    receiver.status = 500
    receiver.delay = 0.6
    data(api.post("/webhooks", json=hook_body(group, url=receiver.url + "/a")), 201)
    # Nobody listens here: a connection error becomes the result text.
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    data(api.post("/webhooks", json=hook_body(group, url=f"http://127.0.0.1:{dead}/x")), 201)
    # Other events and groups do not fire.
    g2 = new_group(api, product["id"], "production_devicegroup")
    data(api.post("/webhooks", json=hook_body(g2, url=receiver.url + "/other")), 201)
    started = time.monotonic()
    deploy(api, group)
    assert time.monotonic() - started < 0.5  # the slow receiver never delays the answer
    records = wait_for(lambda: len(app.webhooks.deliveries()) == 2 and app.webhooks.deliveries())
    results = sorted((r["result"] for r in records), key=str)
    assert 500 in results
    assert any(isinstance(r, str) and r for r in results)
    time.sleep(0.1)
    assert [r["path"] for r in receiver.received] == ["/a"]


def test_delivery_timeout(emu, api, group, receiver):
    app = emu.server.emulator
    app.webhooks.clear_deliveries()
    store = store_of(emu)
    with store.lock:
        store.config["webhook_timeout_s"] = 0.2
    receiver.delay = 1.0
    data(api.post("/webhooks", json=hook_body(group, url=receiver.url + "/slow")), 201)
    deploy(api, group)
    records = wait_for(lambda: app.webhooks.deliveries(), timeout=3)
    assert isinstance(records[0]["result"], str) and "timed out" in records[0]["result"].lower()


def test_blessing_fired_by_store_hook(emu, api, product, receiver):
    app = emu.server.emulator
    app.webhooks.clear_deliveries()
    g = new_group(api, product["id"], "production_devicegroup")
    hook = data(api.post("/webhooks", json=hook_body(g, url=receiver.url + "/b",
                                                     event="blessing")), 201)
    data(api.post("/webhooks", json=hook_body(g, url=receiver.url + "/d")), 201)
    store = store_of(emu)
    with store.lock:
        store.on_webhook_event(g["id"], "blessing", {"device_id": "0123456789abcdef",
                                                     "imp_id": "fedcba9876543210"})
    records = wait_for(lambda: app.webhooks.deliveries())
    assert len(records) == 1 and records[0]["webhook_id"] == hook["id"]
    assert records[0]["event"] == "blessing"
    assert json.loads(receiver.received[0]["body"]) == {"device_id": "0123456789abcdef",
                                                        "imp_id": "fedcba9876543210"}


def test_reset_clears_deliveries_and_sink(emu, api, group, receiver):
    app = emu.server.emulator
    data(api.post("/webhooks", json=hook_body(group, url=receiver.url + "/r")), 201)
    deploy(api, group)
    wait_for(lambda: app.webhooks.deliveries())
    app.webhooks.sink_record("deployment", "application/json", '{"a":1}')
    emu.server.reset(seed="small", config={"rate_limit": {"limit": 0, "window_s": 1}})
    assert app.webhooks.deliveries() == []
    assert app.webhooks.sink_list() == []


def test_sink_api(emu):
    hooks = emu.server.emulator.webhooks
    hooks.sink_clear()
    first = hooks.sink_record("deployment", "application/json", '{"x": 1}')
    hooks.sink_record("blessing", None, "a=b")
    entries = hooks.sink_list()
    assert [e["name"] for e in entries] == ["deployment", "blessing"]
    assert entries[0] == first
    assert set(first) == {"seq", "ts", "name", "content_type", "body"}
    assert entries[1]["seq"] > entries[0]["seq"]
    assert entries[1]["content_type"] is None and entries[1]["body"] == "a=b"
    hooks.sink_clear()
    assert hooks.sink_list() == []


def test_delivery_to_the_control_surface_sink(emu, api, group):
    hooks = emu.server.emulator.webhooks
    hooks.sink_clear()
    url = emu.server.control_url + "/sink/deployment"
    data(api.post("/webhooks", json=hook_body(
        group, url=url, content_type="application/x-www-form-urlencoded")), 201)
    dep = deploy(api, group)
    entries = wait_for(lambda: hooks.sink_list())
    assert entries[0]["name"] == "deployment"
    assert entries[0]["content_type"] == "application/x-www-form-urlencoded"
    assert parse_qs(entries[0]["body"])["deployment_id"] == [dep["id"]]
    record = wait_for(lambda: hooks.deliveries())[0]
    assert record["result"] == 204
