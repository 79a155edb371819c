"""Contract tests for /webhooks and webhook delivery (§3.7, §8.9)."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import re
import threading
import time
from urllib.parse import parse_qs

import pytest

from tests.emulator.helpers import (
    TS_RE,
    UUID_RE,
    alpha_dev,
    assert_error,
    assert_ok,
    assert_resource,
    create_group,
    create_product,
    deploy,
    factory_setup,
    ident,
    product,
    wait_for,
)


def hook_body(group_res, url="https://example.com/hook", event="deployment", **attrs):
    a = {"url": url, "event": event, **attrs}
    return {
        "data": {
            "type": "webhook",
            "attributes": a,
            "relationships": {"devicegroup": ident(group_res)},
        }
    }


def create_hook(emu, group_res, **kw):
    return assert_ok(emu.post("/webhooks", json=hook_body(group_res, **kw)), 201)


def sink_url(emu, name):
    return f"{emu.server.origin}/_emulator/sink/{name}"


@pytest.fixture
def grp(emu):
    return create_group(emu, create_product(emu)["id"])


@pytest.fixture
def prod_grp(emu):
    return create_group(emu, create_product(emu)["id"], "production_devicegroup")


def test_create_webhook_shape(emu, grp):
    h = create_hook(emu, grp)
    assert_resource(h, "webhook", emu.base)
    assert UUID_RE.match(h["id"])
    a = h["attributes"]
    assert set(a) == {"url", "event", "content_type", "created_at", "updated_at"}
    assert a["url"] == "https://example.com/hook"
    assert a["event"] == "deployment"
    assert a["content_type"] == "application/json"
    assert TS_RE.match(a["created_at"])
    assert h["relationships"] == {"devicegroup": ident(grp)}
    assert h["links"]["self"] == f"{emu.base}/webhooks/{h['id']}"
    assert assert_ok(emu.get(f"/webhooks/{h['id']}")) == h


@pytest.mark.parametrize("event", ["deployment", "blessing", "blinkup"])
@pytest.mark.parametrize("gtype", ["production_devicegroup", "pre_production_devicegroup"])
def test_production_types_offer_all_events(emu, event, gtype):
    g = create_group(emu, create_product(emu)["id"], gtype)
    h = create_hook(emu, g, event=event, content_type="application/x-www-form-urlencoded")
    assert h["attributes"]["event"] == event
    assert h["attributes"]["content_type"] == "application/x-www-form-urlencoded"
    assert h["relationships"]["devicegroup"]["type"] == gtype


@pytest.mark.parametrize("event", ["blessing", "blinkup"])
@pytest.mark.parametrize(
    "gtype", ["development_devicegroup", "dut_devicegroup", "pre_dut_devicegroup"]
)
def test_event_not_offered_vx113(emu, event, gtype):
    g = create_group(emu, create_product(emu)["id"], gtype)
    assert_error(emu.post("/webhooks", json=hook_body(g, event=event)), "VX113")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x",
        "https://example.com",
        "http://127.0.0.1:9/h?a=1&b=2",
        "https://example.com/" + "p" * (2048 - len("https://example.com/")),
    ],
)
def test_valid_urls(emu, grp, url):
    assert create_hook(emu, grp, url=url)["attributes"]["url"] == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/hook",
        "https://",
        "http:///path",
        "https://exa mple.com/",
        "https://example.com/a b",
        " https://example.com/",
        "",
        "https://example.com/" + "p" * (2049 - len("https://example.com/")),
        "/relative/path",
    ],
)
def test_invalid_urls_vx110(emu, grp, url):
    assert_error(emu.post("/webhooks", json=hook_body(grp, url=url)), "VX110")


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d["data"]["attributes"].pop("url"), "VX103"),
        (lambda d: d["data"]["attributes"].pop("event"), "VX103"),
        (lambda d: d["data"]["attributes"].update(event="push"), "VX104"),
        (lambda d: d["data"]["attributes"].update(content_type="text/plain"), "VX104"),
        (lambda d: d["data"]["attributes"].update(secret="x"), "VX104"),
        (lambda d: d["data"]["attributes"].update(url=5), "VX104"),
        (lambda d: d["data"]["relationships"].pop("devicegroup"), "VX107"),
        (lambda d: d["data"].pop("relationships"), "VX107"),
        (lambda d: d["data"]["relationships"].update(devicegroup="x"), "VX107"),
        (lambda d: d["data"]["relationships"]["devicegroup"].update(type="product"), "VX102"),
        (
            lambda d: d["data"]["relationships"]["devicegroup"].update(
                id="00000000-0000-0000-0000-000000000000"
            ),
            "NF101",
        ),
        (lambda d: d["data"].update(type="hook"), "VX102"),
    ],
)
def test_create_validation(emu, grp, mutate, code):
    doc = hook_body(grp)
    mutate(doc)
    assert_error(emu.post("/webhooks", json=doc), code)
    assert emu.list_all("/webhooks", params={"filter[devicegroup.id]": grp["id"]}) == []


def test_generic_devicegroup_type_accepted(emu, grp):
    doc = hook_body(grp)
    doc["data"]["relationships"]["devicegroup"]["type"] = "devicegroup"
    h = assert_ok(emu.post("/webhooks", json=doc), 201)
    assert h["relationships"]["devicegroup"] == ident(grp)


def test_invisible_group_nf101(emu, grp):
    assert_error(emu.post("/webhooks", json=hook_body(grp), as_user="demo-2fa"), "NF101")


def test_list_and_filter(emu, grp):
    g2 = create_group(emu, product(emu, "Alpha")["id"])
    a = create_hook(emu, grp)
    b = create_hook(emu, g2, url="https://example.com/2")
    c = create_hook(emu, grp, url="https://example.com/3")
    listed = emu.list_all("/webhooks")
    assert [h["id"] for h in listed][-3:] == [a["id"], b["id"], c["id"]]
    only = emu.list_all("/webhooks", params={"filter[devicegroup.id]": grp["id"]})
    assert [h["id"] for h in only] == [a["id"], c["id"]]
    assert emu.list_all("/webhooks", as_user="demo-2fa") == []
    assert_error(emu.get("/webhooks", params={"filter[product.id]": "x"}), "VX108")
    assert_error(emu.get("/webhooks", params={"filter[event]": "deployment"}), "VX108")


def test_patch_webhook(emu, grp):
    h = create_hook(emu, grp)
    doc = {
        "data": {
            "type": "webhook",
            "id": h["id"],
            "attributes": {
                "url": "http://example.org/new",
                "content_type": "application/x-www-form-urlencoded",
            },
        }
    }
    got = assert_ok(emu.patch(f"/webhooks/{h['id']}", json=doc))
    assert got["attributes"]["url"] == "http://example.org/new"
    assert got["attributes"]["content_type"] == "application/x-www-form-urlencoded"
    assert got["attributes"]["event"] == "deployment"
    assert assert_ok(emu.get(f"/webhooks/{h['id']}")) == got


@pytest.mark.parametrize(
    ("attrs", "rels", "code"),
    [
        ({"event": "deployment"}, None, "VX104"),
        ({"url": "nope"}, None, "VX110"),
        ({"content_type": "text/xml"}, None, "VX104"),
        ({}, {"devicegroup": {"type": "development_devicegroup", "id": "x"}}, "VX107"),
    ],
)
def test_patch_invalid(emu, grp, attrs, rels, code):
    h = create_hook(emu, grp)
    data = {"type": "webhook", "id": h["id"], "attributes": attrs}
    if rels:
        data["relationships"] = rels
    assert_error(emu.patch(f"/webhooks/{h['id']}", json={"data": data}), code)
    assert assert_ok(emu.get(f"/webhooks/{h['id']}")) == h


def test_delete_webhook(emu, grp):
    h = create_hook(emu, grp)
    assert_ok(emu.delete(f"/webhooks/{h['id']}"), 204)
    assert_error(emu.get(f"/webhooks/{h['id']}"), "NF100")
    assert_error(emu.delete(f"/webhooks/{h['id']}"), "NF100")


def test_unknown_webhook_nf100(emu):
    assert_error(emu.get("/webhooks/00000000-0000-0000-0000-000000000000"), "NF100")


# -- delivery -------------------------------------------------------------------------------------


def deliveries(emu):
    return emu.control("GET", "/webhook_deliveries")


def sink(emu):
    return emu.control("GET", "/sink")


def test_deployment_webhook_delivery_json(emu, grp):
    h = create_hook(emu, grp, url=sink_url(emu, "deployment"))
    d = deploy(emu, grp, "dev();", "agent();")
    (rec,) = wait_for(
        lambda: [
            x for x in deliveries(emu) if x["webhook_id"] == h["id"] and x["result"] is not None
        ]
    )
    assert rec["event"] == "deployment"
    assert rec["url"] == sink_url(emu, "deployment")
    assert rec["content_type"] == "application/json"
    assert rec["payload"] == {
        "deployment_id": d["id"],
        "devicegroup_id": grp["id"],
        "sha": d["attributes"]["sha"],
        "created_at": d["attributes"]["created_at"],
    }
    assert rec["result"] in (204, "204")
    (got,) = wait_for(lambda: [s for s in sink(emu) if s["name"] == "deployment"])
    assert got["content_type"].startswith("application/json")
    body = got["body"]
    if isinstance(body, str):
        body = json.loads(body)
    assert body == rec["payload"]


def test_deployment_webhook_delivery_form(emu, grp):
    create_hook(
        emu, grp, url=sink_url(emu, "form"), content_type="application/x-www-form-urlencoded"
    )
    d = deploy(emu, grp)
    (got,) = wait_for(lambda: [s for s in sink(emu) if s["name"] == "form"])
    assert got["content_type"].startswith("application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs(got["body"]).items()}
    assert form["deployment_id"] == d["id"]
    assert form["devicegroup_id"] == grp["id"]
    assert form["sha"] == d["attributes"]["sha"]


def test_no_delivery_for_other_group(emu, grp):
    create_hook(emu, grp, url=sink_url(emu, "mine"))
    deploy(emu, alpha_dev(emu))
    deploy(emu, grp)
    wait_for(lambda: [s for s in sink(emu) if s["name"] == "mine"])
    assert len([s for s in sink(emu) if s["name"] == "mine"]) == 1
    assert len(deliveries(emu)) == 1


def test_failed_delivery_is_recorded_once(emu, grp):
    h = create_hook(emu, grp, url="http://127.0.0.1:9/unreachable")
    deploy(emu, grp)
    recs = wait_for(
        lambda: [
            x for x in deliveries(emu) if x["webhook_id"] == h["id"] and x["result"] is not None
        ]
    )
    assert len(recs) == 1
    assert recs[0]["result"] not in (200, 204, "200", "204")


def test_blessing_and_blinkup_webhooks(emu):
    alpha = product(emu, "Alpha")
    f = factory_setup(emu, alpha["id"])
    prod = f["production"]
    create_hook(emu, prod, url=sink_url(emu, "blessing"), event="blessing")
    create_hook(emu, prod, url=sink_url(emu, "blinkup"), event="blinkup")
    dut2 = emu.control(
        "POST", "/factory/blinkup", {"fixture": f["fixture_device"], "imp_type": "imp004m"}
    )["data"]
    blessed = emu.control("POST", "/factory/bless", {"device": dut2["id"]})["data"]
    assert blessed["relationships"]["devicegroup"] == ident(prod)
    rec = wait_for(lambda: [x for x in deliveries(emu) if x["event"] == "blessing"])[0]
    mac = blessed["attributes"]["mac_address"]
    assert rec["payload"] == {
        "device_id": blessed["id"],
        "imp_id": hashlib.sha1(mac.encode()).hexdigest()[:16],
    }
    activated = emu.control("POST", "/activate", {"device": blessed["id"]})["data"]
    rec = wait_for(lambda: [x for x in deliveries(emu) if x["event"] == "blinkup"])[0]
    assert rec["payload"]["device_id"] == blessed["id"]
    assert rec["payload"]["plan_id"] == activated["attributes"]["plan_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rec["payload"]["token"])
    assert TS_RE.match(activated["attributes"]["last_enrolled_at"])


def test_deliveries_and_sink_clear(emu, grp):
    create_hook(emu, grp, url=sink_url(emu, "c"))
    deploy(emu, grp)
    wait_for(lambda: sink(emu))
    wait_for(lambda: deliveries(emu))
    emu.control("DELETE", "/webhook_deliveries")
    emu.control("DELETE", "/sink")
    assert deliveries(emu) == []
    assert sink(emu) == []


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    delay = 2.0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.delay)
        with contextlib.suppress(OSError):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_receiver():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}/hook"
    srv.shutdown()
    srv.server_close()


def test_delivery_is_asynchronous(emu, grp, slow_receiver):
    h = create_hook(emu, grp, url=slow_receiver)
    t0 = time.monotonic()
    deploy(emu, grp)
    assert time.monotonic() - t0 < 1.0
    rec = wait_for(
        lambda: [
            x for x in deliveries(emu) if x["webhook_id"] == h["id"] and x["result"] is not None
        ],
        timeout=5,
    )
    assert rec[0]["result"] in (200, "200")


def test_delivery_timeout_configurable(emu, grp, slow_receiver):
    emu.config(webhook_timeout_s=0.5)
    h = create_hook(emu, grp, url=slow_receiver)
    deploy(emu, grp)
    rec = wait_for(
        lambda: [
            x for x in deliveries(emu) if x["webhook_id"] == h["id"] and x["result"] is not None
        ],
        timeout=4,
    )
    assert len(rec) == 1
    assert rec[0]["result"] not in (200, "200")
