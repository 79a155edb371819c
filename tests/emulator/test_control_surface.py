"""Contract tests for the /_emulator control surface (§8)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.emulator.helpers import (
    TS_RE,
    advance,
    alpha_dev,
    assert_error,
    assert_ok,
    assign,
    blinkup,
    create_group,
    deploy,
    factory_setup,
    get_device,
    history,
    online_alpha_device,
    product,
    restart_delay,
    status_lines,
    wait_for,
)


def ctl(emu, method, path, json=None):
    return requests.request(method, emu.control_url + path, json=json, timeout=10)


def test_status_document(emu):
    doc = emu.control("GET", "")
    assert set(doc) >= {"version", "base_url", "seed", "now", "config", "counts"}
    assert doc["base_url"] == emu.base
    assert doc["seed"] == "small"
    assert TS_RE.match(doc["now"])
    assert doc["counts"] == {
        "accounts": 3,
        "products": 3,
        "devicegroups": 2,
        "devices": 6,
        "deployments": 3,
        "log_entries": 120,
        "open_streams": 0,
    }


def test_control_json_content_type(emu):
    resp = ctl(emu, "GET", "/config")
    assert resp.headers["Content-Type"].startswith("application/json")
    assert "X-RateLimit-Limit" not in resp.headers


def test_config_defaults_and_patch(emu):
    cfg = emu.control("GET", "/config")
    assert cfg["access_token_lifetime_s"] == 3600
    assert cfg["login_token_lifetime_s"] == 300
    assert cfg["refresh_tokens_per_account"] == 5
    assert cfg["login_keys_per_account"] == 10
    assert cfg["logstream"] == {
        "devices_per_stream": 8,
        "streams_per_account": 1,
        "keep_alive_s": 30,
        "idle_lifetime_s": 60,
    }
    assert cfg["log_retention"] == 1000
    assert cfg["webhook_timeout_s"] == 5
    assert cfg["simulation"]["enabled"] is False
    assert cfg["simulation"]["restart_delay_s"] == 1.0
    new = emu.config(access_token_lifetime_s=99)
    assert new["access_token_lifetime_s"] == 99
    assert new["login_keys_per_account"] == 10
    assert emu.control("GET", "/config")["access_token_lifetime_s"] == 99


def test_config_bad_input_400(emu):
    resp = ctl(emu, "PATCH", "/config", json={"access_token_lifetime_s": "soon"})
    assert resp.status_code == 400
    assert "error" in resp.json()
    resp = ctl(emu, "PATCH", "/config", json=[1, 2])
    assert resp.status_code == 400


def test_unknown_control_path_404(emu):
    resp = ctl(emu, "GET", "/nope")
    assert resp.status_code == 404
    assert isinstance(resp.json()["error"], str)


def test_control_not_recorded_in_request_log(emu):
    emu.control("DELETE", "/requests")
    emu.control("GET", "/config")
    assert emu.control("GET", "/requests")["requests"] == []


def test_reset_restores_config_and_data(emu):
    emu.config(access_token_lifetime_s=5)
    product_id = product(emu, "Bravo")["id"]
    assert_ok(emu.delete(f"/products/{product_id}"), 204)
    tok = emu.login()
    res = emu.control("POST", "/reset", {"seed": "small"})
    assert res["seed"] == "small"
    assert res["counts"]["products"] == 3
    assert emu.control("GET", "/config")["access_token_lifetime_s"] == 3600
    assert_error(emu.get("/products", token=tok), "PX100")
    emu._tokens.clear()
    assert product(emu, "Bravo")["id"] == product_id


def test_reset_is_deterministic(emu):
    a = {p["id"] for p in emu.list_all("/products")}
    emu.control("POST", "/reset", {"seed": "small"})
    emu._tokens.clear()
    b = {p["id"] for p in emu.list_all("/products")}
    assert a == b


def test_reset_with_config_and_empty_seed(emu):
    res = emu.control("POST", "/reset", {"seed": "empty", "config": {"login_keys_per_account": 3}})
    emu._tokens.clear()
    assert res["counts"]["products"] == 0
    assert res["counts"]["accounts"] == 3
    assert emu.control("GET", "/config")["login_keys_per_account"] == 3
    assert emu.list_all("/products") == []
    assert emu.list_all("/devices") == []


def test_reset_clears_faults_and_clock(emu):
    emu.control("PUT", "/faults", {"error_rate": 1.0, "error_statuses": [502]})
    advance(emu, 1000)
    emu.control("POST", "/reset", {})
    emu._tokens.clear()
    assert emu.control("GET", "/faults")["error_rate"] == 0.0
    assert emu.control("GET", "/clock")["offset_s"] == 0
    assert emu.get("/products").status_code == 200


def test_seed_adds_on_top(emu):
    before = emu.control("GET", "")["counts"]
    res = emu.control(
        "POST",
        "/seed",
        {"seed": "fleet", "devices": 30, "products": 2, "groups": 4, "owner": "demo"},
    )
    assert res["devices"] == 30 and res["products"] == 2 and res["devicegroups"] == 4
    after = emu.control("GET", "")["counts"]
    assert after["devices"] == before["devices"] + 30
    assert len(emu.list_all("/products")) == 5
    emu.control(
        "POST",
        "/seed",
        {"seed": "fleet", "devices": 5, "products": 2, "groups": 2, "owner": "demo"},
    )
    names = [p["attributes"]["name"] for p in emu.list_all("/products")]
    assert len(names) == len(set(names)) == 7


# -- devices --------------------------------------------------------------------------------------


def test_device_state_any_identifier(emu):
    dev = online_alpha_device(emu)
    got = emu.control(
        "POST", f"/devices/{dev['attributes']['agent_id']}/state", {"online": False, "flaky": True}
    )["data"]
    assert got["id"] == dev["id"]
    assert got["attributes"]["device_online"] is False
    resp = ctl(emu, "POST", "/devices/00000000000000aa/state", {"online": True})
    assert resp.status_code == 404


def test_device_logs_paced(emu):
    dev = online_alpha_device(emu)
    res = emu.control(
        "POST",
        f"/devices/{dev['id']}/logs",
        {"entries": [{"type": "device.log", "msg": "paced"}], "repeat": 4, "rate_per_s": 40},
    )
    assert res == {"scheduled": 4}
    wait_for(lambda: [e["msg"] for e in history(emu, dev["id"])[:4]] == ["paced"] * 4)


def test_device_logs_status_code(emu):
    dev = online_alpha_device(emu)
    resp = ctl(
        emu, "POST", f"/devices/{dev['id']}/logs", {"entries": [{"type": "device.log", "msg": "x"}]}
    )
    assert resp.status_code == 200 and resp.json() == {"written": 1}
    resp = ctl(
        emu,
        "POST",
        f"/devices/{dev['id']}/logs",
        {"entries": [{"type": "device.log", "msg": "x"}], "rate_per_s": 100},
    )
    assert resp.status_code == 202


def test_blinkup_status_201(emu):
    resp = ctl(emu, "POST", "/blinkup", {"owner": "demo", "imp_type": "imp003"})
    assert resp.status_code == 201
    dev = resp.json()["data"]
    assert dev["attributes"]["imp_type"] == "imp003"
    assert set(dev["relationships"]) == {"owner"}
    assert get_device(emu, dev["id"])["id"] == dev["id"]


def test_factory_flow(emu):
    f = factory_setup(emu, product(emu, "Alpha")["id"])
    dut = get_device(emu, f["dut_device"])
    assert dut["relationships"]["devicegroup"]["id"] == f["dut"]["id"]
    assert dut["relationships"]["owner"]["id"] == emu.accounts()["demo"]["id"]
    prod = get_device(emu, f["prod_device"])
    assert prod["relationships"]["devicegroup"] == {
        "type": "production_devicegroup",
        "id": f["production"]["id"],
    }


def test_factory_errors_409(emu):
    dev = online_alpha_device(emu)
    assert ctl(emu, "POST", "/factory/blinkup", {"fixture": dev["id"]}).status_code == 409
    assert ctl(emu, "POST", "/factory/bless", {"device": dev["id"]}).status_code == 409


def test_bless_restarts_when_load_code(emu):
    restart_delay(emu, 0)
    f = factory_setup(emu, product(emu, "Alpha")["id"])
    deploy(emu, f["production"], "prod();")
    dut2 = emu.control("POST", "/factory/blinkup", {"fixture": f["fixture_device"]})["data"]
    n = len(status_lines(emu, dut2["id"]))
    emu.control("POST", "/factory/bless", {"device": dut2["id"]})
    lines = wait_for(
        lambda: (x := status_lines(emu, dut2["id"])[n:]) and x[-1] == "Device connected" and x
    )
    assert lines[0] == "Device restarting"


def test_activate(emu):
    f = factory_setup(emu, product(emu, "Alpha")["id"])
    before = get_device(emu, f["prod_device"])
    advance(emu, 5)
    got = emu.control("POST", "/activate", {"device": f["prod_device"]})["data"]
    assert got["attributes"]["last_enrolled_at"] > (before["attributes"]["last_enrolled_at"] or "")
    assert got["attributes"]["plan_id"]


def test_accounts_patch_two_factor(emu):
    entry = emu.control("PATCH", "/accounts/demo-collab", {"two_factor": True})
    assert entry["two_factor"] is True
    assert entry["totp_secret"]
    resp = emu.post(
        "/auth", as_user=None, json={"id": "demo-collab", "password": entry["password"]}
    )
    assert_error(resp, "PX200", auth=True)
    assert emu.otp("demo-collab")


def test_otp_shape(emu):
    res = emu.control("GET", "/otp?account=demo-2fa")
    assert len(res["otp"]) == 6 and res["otp"].isdigit()
    assert 0 < res["valid_for_s"] <= 30


# -- faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "XX500"), (502, "XX502"), (503, "XX503"), (504, "XX504"), (401, "PX101")],
)
def test_fail_next_statuses(emu, status, code):
    emu.login()
    res = emu.control("POST", "/faults/fail_next", {"count": 1, "status": status})
    assert res == {"queued": 1}
    assert_error(emu.get("/products"), code)
    assert emu.get("/products").status_code == 200


def test_fail_next_method_and_path_filter(emu):
    emu.login()
    emu.control(
        "POST",
        "/faults/fail_next",
        {"count": 1, "status": 502, "method": "POST", "path": ".*/products"},
    )
    assert emu.get("/products").status_code == 200
    assert emu.get("/devices").status_code == 200
    resp = emu.post(
        "/products", json={"data": {"type": "product", "attributes": {"name": "failed"}}}
    )
    assert_error(resp, "XX502")
    assert "failed" not in [p["attributes"]["name"] for p in emu.list_all("/products")]


def test_fail_next_queue_order(emu):
    emu.login()
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": 500})
    emu.control("POST", "/faults/fail_next", {"count": 2, "status": 504})
    assert [emu.get("/accounts/me").status_code for _ in range(4)] == [500, 504, 504, 200]


def test_fail_next_drop(emu):
    emu.login()
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": "drop"})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(
            emu.base + "/products", timeout=5, headers={"Authorization": f"Bearer {emu.login()}"}
        )
    assert emu.get("/products").status_code == 200


def test_fail_next_after_processing(emu):
    g = alpha_dev(emu)
    emu.control(
        "POST",
        "/faults/fail_next",
        {
            "count": 1,
            "status": 503,
            "method": "POST",
            "path": ".*/deployments",
            "after_processing": True,
        },
    )
    body = {
        "data": {
            "type": "deployment",
            "attributes": {"device_code": "lost();", "agent_code": ""},
            "relationships": {"devicegroup": {"type": g["type"], "id": g["id"]}},
        }
    }
    assert_error(emu.post("/deployments", json=body), "XX503")
    deps = emu.list_all("/deployments", params={"filter[devicegroup.id]": g["id"]})
    assert deps[0]["attributes"]["device_code"] == "lost();"


def test_fail_next_retry_after_on_503(emu):
    emu.login()
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": 503, "retry_after_s": 4})
    resp = emu.get("/products")
    assert_error(resp, "XX503")
    assert resp.headers["Retry-After"] == "4"


def test_error_rate(emu):
    emu.login()
    emu.control(
        "PUT",
        "/faults",
        {"error_rate": 1.0, "error_statuses": [502, 504], "error_path": ".*/devices.*"},
    )
    for _ in range(5):
        assert emu.get("/devices").status_code in (502, 504)
    assert emu.get("/products").status_code == 200
    faults = emu.control("GET", "/faults")
    assert faults["error_rate"] == 1.0
    assert faults["latency_ms"] == 0
    emu.control("DELETE", "/faults")
    assert emu.get("/devices").status_code == 200


def test_latency_path(emu):
    emu.login()
    emu.control("PUT", "/faults", {"latency_ms": 500, "latency_path": ".*/devices"})
    t0 = time.monotonic()
    emu.get("/products")
    fast = time.monotonic() - t0
    t0 = time.monotonic()
    emu.get("/devices")
    slow = time.monotonic() - t0
    assert fast < 0.4
    assert slow >= 0.45


def test_faults_not_applied_to_control(emu):
    emu.control("PUT", "/faults", {"error_rate": 1.0, "error_statuses": [500]})
    for _ in range(5):
        assert ctl(emu, "GET", "/config").status_code == 200


def test_tokens_expire_counts(emu):
    emu.login()
    res = emu.control("POST", "/tokens/expire", {"kind": "all"})
    assert isinstance(res, dict)
    assert_error(emu.get("/products"), "PX101")


# -- clock ----------------------------------------------------------------------------------------


def test_clock(emu):
    c = emu.control("GET", "/clock")
    assert set(c) >= {"now", "offset_s", "speed"}
    assert c["speed"] == 1 and c["offset_s"] == 0
    c2 = emu.control("POST", "/clock", {"advance_s": 3600})
    assert c2["offset_s"] >= 3600
    assert c2["now"] > c["now"]
    p = emu.post("/products", json={"data": {"type": "product", "attributes": {"name": "late"}}})
    created = assert_ok(p, 201)["attributes"]["created_at"]
    assert created[:13] == c2["now"][:13]


def test_clock_never_back(emu):
    before = emu.control("GET", "/clock")["now"]
    resp = ctl(emu, "POST", "/clock", {"advance_s": -100})
    assert resp.status_code in (200, 400)
    assert emu.control("GET", "/clock")["now"] >= before


def test_clock_speed(emu):
    c = emu.control("POST", "/clock", {"speed": 100})
    assert c["speed"] == 100
    t1 = emu.control("GET", "/clock")["now"]
    time.sleep(0.1)
    t2 = emu.control("GET", "/clock")["now"]
    # 0.1 s real at speed 100 = about 10 s emulator time
    assert t2[:16] >= t1[:16]
    assert t2 > t1


# -- observation ----------------------------------------------------------------------------------


def test_request_log(emu):
    tok = emu.login()
    emu.control("DELETE", "/requests")
    emu.post(
        "/products",
        json={"data": {"type": "product", "attributes": {"name": "logged"}}},
        params={"x": "1"},
    )
    reqs = emu.control("GET", "/requests")["requests"]
    assert len(reqs) == 1
    r = reqs[0]
    assert set(r) >= {
        "seq",
        "ts",
        "method",
        "path",
        "query",
        "headers",
        "body",
        "status",
        "account",
        "duration_ms",
    }
    assert r["method"] == "POST" and r["path"].endswith("/products")
    assert r["status"] == 201
    assert "logged" in str(r["body"])
    assert tok in str(r["headers"])
    emu.get("/products")
    later = emu.control("GET", f"/requests?since={r['seq']}")["requests"]
    assert [x["method"] for x in later] == ["GET"]


def test_sink(emu):
    resp = requests.post(
        emu.control_url + "/sink/test",
        data=b"hello",
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )
    assert resp.status_code == 204
    items = emu.control("GET", "/sink")
    assert items[-1]["name"] == "test"
    assert items[-1]["content_type"].startswith("text/plain")
    assert "hello" in str(items[-1]["body"])
    emu.control("DELETE", "/sink")
    assert emu.control("GET", "/sink") == []


def test_no_control_server():
    from impdesk.emulator import EmulatorServer

    with EmulatorServer(seed="empty", control=False, rate_limit=0) as srv:
        resp = requests.get(srv.origin + "/_emulator/config", timeout=5)
        assert resp.status_code == 404
        assert resp.json()["errors"][0]["code"] == "NF102"


def test_server_object_api():
    from impdesk.emulator import EmulatorServer

    srv = EmulatorServer(seed="small", rate_limit=0, simulation=False)
    srv.start()
    try:
        assert srv.base_url.startswith("http://127.0.0.1:") and srv.base_url.endswith("/v5")
        assert srv.control_url == srv.origin + "/_emulator"
        res = srv.reset(seed="empty")
        assert res["counts"]["products"] == 0
    finally:
        srv.stop()


def test_assign_control_created_device_via_api(emu):
    dev = blinkup(emu, online=False)
    assert_ok(assign(emu, alpha_dev(emu)["id"], dev["id"]), 204)
    g = create_group(emu, product(emu, "Bravo")["id"])
    assert_ok(assign(emu, g["id"], dev["id"]), 204)
