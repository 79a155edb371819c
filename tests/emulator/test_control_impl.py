"""The /_emulator control surface (§8), the seeds (§8.10) and the simulation (§8.5)."""

from __future__ import annotations

import hashlib
import json
import re
import time

import pytest

import impdesk
from impdesk.emulator.squirrel import compile_errors
from tests.emulator.helpers import (
    DOWNLOADING_RE,
    TS_RE,
    advance,
    assert_ok,
    blinkup,
    by_name,
    create_group,
    create_product,
    deployment_body,
    devices,
    feed,
    get_device,
    group,
    group_devices,
    history,
    product,
    set_state,
    status_lines,
    unassigned,
    wait_for,
)

ERROR_AT_RE = re.compile(r"^ERROR:   at \S+ (device_code|agent_code):\d+$")


def raw(emu, method: str, path: str = "", body=None):
    """A control call whose failure is the point of the test."""
    return emu.http.request(method, emu.control_url + path, json=body, timeout=30)


def reset(emu, **body) -> dict:
    emu._tokens.clear()  # a reset forgets every token
    return emu.control("POST", "/reset", body)


def error_of(resp, status: int) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    doc = resp.json()
    assert set(doc) == {"error"} and isinstance(doc["error"], str) and doc["error"]
    return doc["error"]


# -- status and configuration ---------------------------------------------------------------


def test_status_document(emu):
    st = emu.control("GET")
    assert set(st) == {"version", "base_url", "seed", "now", "config", "counts"}
    assert st["version"] == impdesk.__version__
    assert st["base_url"] == emu.base
    assert st["seed"] == "small"
    assert TS_RE.match(st["now"])
    assert set(st["counts"]) == {"accounts", "products", "devicegroups", "devices",
                                 "deployments", "log_entries", "open_streams"}
    assert st["counts"]["devices"] == 6 and st["counts"]["log_entries"] == 120
    assert st["config"] == emu.control("GET", "/config")


def test_config_patch_merges_and_validates(emu):
    cfg = emu.config(access_token_lifetime_s=10, logstream={"devices_per_stream": 3})
    assert cfg["access_token_lifetime_s"] == 10
    assert cfg["logstream"]["devices_per_stream"] == 3
    assert cfg["logstream"]["keep_alive_s"] == 30  # sibling keys kept
    for bad in ({"nope": 1}, {"log_retention": "many"}, {"logstream": 5},
                {"simulation": {"enabled": "yes"}}, {"rate_limit": {"limit": -1}}):
        error_of(raw(emu, "PATCH", "/config", bad), 400)
    assert emu.control("GET", "/config")["access_token_lifetime_s"] == 10  # nothing half-applied
    error_of(emu.http.patch(emu.control_url + "/config", data=b"{oops", timeout=10), 400)


def test_log_retention_applies_to_existing_history(emu):
    dev = devices(emu)[0]["id"]
    emu.config(log_retention=5)
    assert len(history(emu, dev)) == 5
    feed(emu, dev, ("device.log", "newest"))
    entries = history(emu, dev)
    assert len(entries) == 5 and entries[0]["msg"] == "newest"


def test_unknown_control_path_404_and_method_405(emu):
    error_of(raw(emu, "GET", "/nope"), 404)
    assert raw(emu, "DELETE", "/clock").status_code == 405


# -- reset and seed -----------------------------------------------------------------------------


def test_reset_restores_start_config_and_applies_config(emu):
    emu.config(login_keys_per_account=2)
    out = reset(emu, seed="small", config={"webhook_timeout_s": 2})
    assert out["seed"] == "small" and out["counts"]["devices"] == 6
    cfg = emu.control("GET", "/config")
    assert cfg["login_keys_per_account"] == 10 and cfg["webhook_timeout_s"] == 2


def test_reset_rejects_bad_input(emu):
    error_of(raw(emu, "POST", "/reset", {"seed": "bogus"}), 400)
    error_of(raw(emu, "POST", "/reset", {"seed": "small", "config": {"x": 1}}), 400)
    error_of(raw(emu, "POST", "/reset", {"seed": "fleet", "devices": -1}), 400)
    error_of(raw(emu, "POST", "/reset", {"color": "red"}), 400)
    error_of(raw(emu, "POST", "/reset", [1]), 400)
    assert emu.control("GET")["counts"]["devices"] == 6  # nothing was wiped


def test_reset_is_deterministic(emu):
    first = {d["id"]: d["attributes"]["mac_address"] for d in devices(emu)}
    names = [p["attributes"]["name"] for p in emu.list_all("/products")]
    reset(emu, seed="small")
    assert {d["id"]: d["attributes"]["mac_address"] for d in devices(emu)} == first
    assert [p["attributes"]["name"] for p in emu.list_all("/products")] == names


def test_reset_wipes_tokens_faults_clock_and_request_log(emu):
    tok = emu.login()
    emu.control("PUT", "/faults", {"latency_ms": 5})
    emu.control("POST", "/clock", {"advance_s": 100, "speed": 2})
    reset(emu, seed="small")
    assert emu.control("GET", "/faults")["latency_ms"] == 0
    clock = emu.control("GET", "/clock")
    assert clock["offset_s"] == 0 and clock["speed"] == 1
    assert emu.control("GET", "/requests")["requests"] == []
    assert emu.get("/products", token=tok).status_code == 401


def test_small_seed_shape(emu):
    alpha_dev = group(emu, "Alpha Dev")
    assert alpha_dev["type"] == "development_devicegroup"
    deployments = emu.list_all("/deployments", params={"filter[devicegroup.id]": alpha_dev["id"]})
    assert len(deployments) == 2
    members = group_devices(emu, alpha_dev["id"])
    assert [d["attributes"]["imp_type"] for d in members] == ["imp004m"] * 3
    assert sorted(d["attributes"]["device_online"] for d in members) == [False, True, True]
    loose = unassigned(emu)
    assert len(loose) == 2
    assert {(d["attributes"]["imp_type"], d["attributes"]["device_online"]) for d in loose} \
        >= {("imp001", True)}
    assert sorted(d["attributes"]["device_online"] for d in loose) == [False, True]
    bravo = product(emu, "Bravo")
    assert emu.list_all("/devicegroups", params={"filter[product.id]": bravo["id"]}) == []
    shared = product(emu, "Shared Product")
    assert shared["relationships"]["owner"]["id"] == emu.accounts()["demo-collab"]["id"]
    shared_devs = group_devices(emu, group(emu, "Shared Dev")["id"])
    assert len(shared_devs) == 1 and shared_devs[0]["attributes"]["device_online"]
    for dev in devices(emu):
        assert len(history(emu, dev["id"])) == 20
    assert emu.control("GET", "/config")["simulation"]["enabled"] is False


def test_demo_seed_shape(emu):
    reset(emu, seed="demo")
    assert len(emu.list_all("/products")) == 5
    assert len(emu.list_all("/devicegroups")) == 12
    all_devices = devices(emu)
    demo_id = emu.accounts()["demo"]["id"]
    assert len(all_devices) == 29
    assert sum(d["relationships"]["owner"]["id"] == demo_id for d in all_devices) == 27
    first = all_devices[0]
    assert first["attributes"]["device_online"]
    assert first["relationships"]["devicegroup"]["id"] == group(emu, "WS Dev")["id"]
    ws_dev = group(emu, "WS Dev")
    deps = sorted(emu.list_all("/deployments", params={"filter[devicegroup.id]": ws_dev["id"]}),
                  key=lambda d: d["attributes"]["created_at"])
    assert len(deps) == 6
    assert deps[1]["attributes"]["flagged"] and deps[1]["attributes"]["tags"] == ["release", "v1.0"]
    assert deps[1]["relationships"]["flagger"]["id"] == demo_id
    assert ws_dev["relationships"]["min_supported_deployment"]["id"] == deps[3]["id"]
    assert ws_dev["relationships"]["current_deployment"]["id"] == deps[5]["id"]
    assert "current_deployment" not in group(emu, "Tracker Field Test")["relationships"]
    assert group(emu, "Thermo Dev")["attributes"]["env_vars"]
    fixture = group(emu, "Thermo Fixture")
    production = group(emu, "Thermo Production")
    assert fixture["relationships"]["production_target"]["id"] == production["id"]
    assert fixture["relationships"]["dut_target"]["id"] == group(emu, "Thermo DUT")["id"]
    assert group(emu, "Thermo Production")["attributes"]["load_code_after_blessing"] is True
    hooks = emu.list_all("/webhooks")
    sink = emu.control_url + "/sink/"
    assert {(h["attributes"]["event"], h["attributes"]["url"]) for h in hooks} == {
        ("deployment", sink + "deployment"), ("blessing", sink + "blessing"),
        ("blinkup", sink + "blinkup")}
    for dep in emu.list_all("/deployments"):
        attrs = dep["attributes"]
        assert compile_errors(attrs["agent_code"], attrs["device_code"]) == []
        assert attrs["sha"] == hashlib.sha256(
            (attrs["agent_code"] + attrs["device_code"]).encode()).hexdigest()


def test_demo_history(emu):
    reset(emu, seed="demo", config={"simulation": {"enabled": False}})
    now = time.time()
    loose = {d["id"] for d in unassigned(emu)}
    assert len(loose) == 4
    for dev in devices(emu):
        entries = history(emu, dev["id"])
        if dev["id"] in loose:
            assert 10 <= len(entries) <= 20
            assert {e["type"] for e in entries} == {"status"}
        else:
            assert 150 <= len(entries) <= 250
        stamps = [e["ts"] for e in reversed(entries)]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        last_state = next(e["msg"] for e in entries
                          if e["msg"] in ("Device connected", "Device disconnected"))
        online = dev["attributes"]["device_online"]
        assert last_state == ("Device connected" if online else "Device disconnected")
    roof = history(emu, devices(emu)[0]["id"])
    types = {e["type"] for e in roof}
    assert {"device.log", "agent.log", "status"} <= types
    everything = [e for d in devices(emu) if d["id"] not in loose for e in history(emu, d["id"])]
    assert {e["type"] for e in everything} >= {"device.log", "agent.log", "device.error",
                                               "agent.error", "status", "server.sleep",
                                               "powerstate", "lastexitcode"}
    assert any(DOWNLOADING_RE.match(e["msg"]) for e in everything)
    errors = [e for e in everything if e["type"] in ("device.error", "agent.error")]
    assert any(e["msg"].startswith("ERROR: ") and not ERROR_AT_RE.match(e["msg"])
               for e in errors)
    assert any(ERROR_AT_RE.match(e["msg"]) for e in errors)
    oldest = min(e["ts"] for e in everything)
    assert oldest >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 86400 - 60))
    production = group_devices(emu, group(emu, "Thermo Production")["id"])
    assert {e["log_type"] for e in history(emu, production[0]["id"])} == {"production"}


def test_demo_extras(emu):
    reset(emu, seed="demo", config={"simulation": {"enabled": False}})
    beta = group(emu, "WS Beta")
    # WS Beta devices run an older deployment: a conditional restart makes them download.
    online = next(d for d in group_devices(emu, beta["id"]) if d["attributes"]["device_online"])
    before = len(status_lines(emu, online["id"]))
    emu.config(simulation={"restart_delay_s": 0})
    assert emu.post(f"/devicegroups/{beta['id']}/conditional_restart").status_code == 204
    new = status_lines(emu, online["id"])[before:]
    assert any(DOWNLOADING_RE.match(line) for line in new)
    loose = unassigned(emu)
    assert sum(d["attributes"]["device_online"] for d in loose) == 2
    assert sum(d["attributes"]["name"] is None for d in loose) == 1
    assert sum(d["attributes"]["agent_state_changed_at"] is None for d in loose) == 1
    imp001 = [d for d in group_devices(emu, group(emu, "Thermo Dev")["id"])
              if d["attributes"]["imp_type"] == "imp001"]
    assert len(imp001) == 1


def test_fleet_seed(emu):
    out = reset(emu, seed="fleet", devices=2000, random_seed=7)
    assert out["seed"] == "fleet"
    counts = out["counts"]
    assert counts["products"] == 2 and counts["devicegroups"] == 10
    assert counts["devices"] == 2000 and counts["deployments"] == 10
    assert counts["log_entries"] == 0
    store = emu.server.emulator.store
    with store.lock:
        devs = list(store.devices.values())
        loose = sum(d.group_id is None for d in devs)
        online = sum(d.device_online for d in devs)
        imp_types = {d.imp_type for d in devs}
        per_group = {}
        for d in devs:
            if d.group_id:
                per_group[d.group_id] = per_group.get(d.group_id, 0) + 1
        per_product = {}
        for g in store.groups.values():
            per_product[g.product_id] = per_product.get(g.product_id, 0) + 1
        running = all(d.running_deployment_id == store.groups[d.group_id].current_deployment_id
                      for d in devs if d.group_id)
    assert 20 <= loose <= 60
    assert 1700 <= online <= 1900
    assert len(imp_types) >= 4
    assert max(per_group.values()) - min(per_group.values()) <= 1
    assert sorted(per_product.values()) == [5, 5]
    assert running
    assert emu.control("GET", "/config")["simulation"]["enabled"] is False
    assert reset(emu, seed="fleet:300", products=3, groups=4)["counts"]["devicegroups"] == 4


def test_fleet_ids_follow_random_seed(emu):
    def ids(seed: int) -> list[str]:
        reset(emu, seed="fleet:50", random_seed=seed)
        with emu.server.emulator.store.lock:
            return sorted(emu.server.emulator.store.devices)

    assert ids(1) == ids(1)
    assert ids(1) != ids(2)


def test_seed_adds_on_top_with_unique_names(emu):
    added = emu.control("POST", "/seed", {"seed": "fleet", "devices": 120, "products": 1,
                                          "groups": 2})
    assert added["devices"] == 120 and added["products"] == 1 and added["devicegroups"] == 2
    added = emu.control("POST", "/seed", {"seed": "fleet", "devices": 10, "products": 1,
                                          "groups": 1})
    names = [p["attributes"]["name"] for p in emu.list_all("/products")]
    assert len(names) == len(set(names)) == 5
    assert emu.control("GET")["counts"]["devices"] == 6 + 130
    added = emu.control("POST", "/seed", {"seed": "small"})
    assert added["devices"] == 6 and added["accounts"] == 0
    names = [p["attributes"]["name"] for p in emu.list_all("/products")]
    assert len(names) == len(set(names))
    error_of(raw(emu, "POST", "/seed", {"seed": "fleet", "owner": "nobody"}), 404)
    error_of(raw(emu, "POST", "/seed", {"seed": "fleet", "devices": "many"}), 400)


def test_seed_owner(emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 5, "owner": "demo-collab"})
    collab = emu.accounts()["demo-collab"]["id"]
    mine = devices(emu, as_user="demo-collab", **{"owner.id": "me"})
    assert len(mine) == 6 and all(d["relationships"]["owner"]["id"] == collab for d in mine)


# -- device state and logs --------------------------------------------------------------------


def test_device_state_by_any_identifier(emu):
    dev = next(d for d in devices(emu) if d["attributes"]["device_online"]
               and "devicegroup" in d["relationships"])
    before = len(status_lines(emu, dev["id"]))
    got = set_state(emu, dev["attributes"]["mac_address"].upper(), online=False, rssi=-70,
                    free_memory=80000, swversion="custom", flaky=True)
    assert got["id"] == dev["id"]
    attrs = got["attributes"]
    assert attrs["device_online"] is False and attrs["ip_address"] is None
    assert (attrs["rssi"], attrs["free_memory"], attrs["swversion"]) == (-70, 80000, "custom")
    assert status_lines(emu, dev["id"])[before:] == ["Device disconnected"]
    got = set_state(emu, dev["attributes"]["agent_id"], online=True)
    assert got["attributes"]["device_online"] and got["attributes"]["ip_address"]
    assert status_lines(emu, dev["id"])[before + 1:] == ["Device connected"]
    set_state(emu, dev["id"], online=True)  # no change, no line
    assert len(status_lines(emu, dev["id"])) == before + 2
    with emu.server.emulator.store.lock:
        assert emu.server.emulator.store.devices[dev["id"]].flaky


def test_device_state_errors(emu):
    dev = devices(emu)[0]["id"]
    error_of(raw(emu, "POST", "/devices/0000000000000000/state", {"online": True}), 404)
    error_of(raw(emu, "POST", f"/devices/{dev}/state", {"online": "yes"}), 400)
    error_of(raw(emu, "POST", f"/devices/{dev}/state", {"rssi": "loud"}), 400)
    error_of(raw(emu, "POST", f"/devices/{dev}/state", {"colour": "red"}), 400)


def test_device_logs_written_at_once(emu):
    dev = devices(emu)[0]["id"]
    out = emu.control("POST", f"/devices/{dev}/logs", {
        "entries": [{"type": "server.log", "msg": "a"}, {"type": "mystery", "msg": "b\nc"}],
        "repeat": 3})
    assert out == {"written": 6}
    newest = history(emu, dev)[:6]
    assert [e["msg"] for e in reversed(newest)] == ["a", "b\nc"] * 3
    assert newest[0]["type"] == "mystery"


def test_device_logs_paced(emu):
    dev = devices(emu)[0]["id"]
    before = len(history(emu, dev))
    resp = raw(emu, "POST", f"/devices/{dev}/logs",
               {"entries": [{"type": "device.log", "msg": "tick"}], "repeat": 10,
                "rate_per_s": 40})
    assert resp.status_code == 202 and resp.json() == {"scheduled": 10}
    wait_for(lambda: len(history(emu, dev)) == before + 10, timeout=5)
    error_of(raw(emu, "POST", f"/devices/{dev}/logs", {"entries": "x"}), 400)
    error_of(raw(emu, "POST", f"/devices/{dev}/logs", {"entries": [], "repeat": 0}), 400)


def test_paced_logs_stop_at_reset(emu):
    dev = devices(emu)[0]["id"]
    raw(emu, "POST", f"/devices/{dev}/logs",
        {"entries": [{"type": "device.log", "msg": "slow"}], "repeat": 1000, "rate_per_s": 20})
    time.sleep(0.3)
    reset(emu, seed="small")
    time.sleep(0.3)
    assert not any(e["msg"] == "slow" for e in history(emu, dev))


# -- BlinkUp, factory, activation ----------------------------------------------------------------


def test_blinkup_new_device(emu):
    got = emu.http.post(emu.control_url + "/blinkup",
                        json={"owner": "demo-collab", "imp_type": "imp006", "name": "New"},
                        timeout=10)
    assert got.status_code == 201
    dev = got.json()["data"]
    attrs = dev["attributes"]
    assert attrs["imp_type"] == "imp006" and attrs["name"] == "New"
    assert attrs["device_online"] and attrs["plan_id"] and TS_RE.match(attrs["last_enrolled_at"])
    assert set(dev["relationships"]) == {"owner"}
    assert dev["relationships"]["owner"]["id"] == emu.accounts()["demo-collab"]["id"]
    entries = history(emu, dev["id"], as_user="demo-collab")
    assert [e["msg"] for e in entries] == ["Device connected"]
    offline = blinkup(emu, online=False)
    assert not offline["attributes"]["device_online"] and history(emu, offline["id"]) == []
    error_of(raw(emu, "POST", "/blinkup", {"imp_type": "imp999"}), 400)
    error_of(raw(emu, "POST", "/blinkup", {"owner": "ghost"}), 404)


def test_factory_flow_with_webhooks(emu):
    reset(emu, seed="demo", config={"simulation": {"enabled": False, "restart_delay_s": 0}})
    emu.control("DELETE", "/sink")
    fixture_dev = group_devices(emu, group(emu, "Thermo Fixture")["id"])[0]
    resp = raw(emu, "POST", "/factory/blinkup", {"fixture": fixture_dev["id"]})
    assert resp.status_code == 201
    dut_dev = resp.json()["data"]
    assert dut_dev["relationships"]["devicegroup"]["id"] == group(emu, "Thermo DUT")["id"]
    assert dut_dev["relationships"]["owner"]["id"] == emu.accounts()["demo"]["id"]
    lines = status_lines(emu, dut_dev["id"])
    assert DOWNLOADING_RE.match(lines[0]) and lines[-1] == "Device connected"

    blessed = emu.control("POST", "/factory/bless", {"device": dut_dev["id"]})["data"]
    production = group(emu, "Thermo Production")
    assert blessed["relationships"]["devicegroup"]["id"] == production["id"]
    sink = wait_for(lambda: [s for s in emu.control("GET", "/sink") if s["name"] == "blessing"])
    payload = json.loads(sink[0]["body"])
    mac = dut_dev["attributes"]["mac_address"]
    assert payload == {"device_id": dut_dev["id"],
                       "imp_id": hashlib.sha1(mac.encode()).hexdigest()[:16]}
    assert any(DOWNLOADING_RE.match(line) for line in status_lines(emu, dut_dev["id"])[2:])

    activated = emu.control("POST", "/activate", {"device": dut_dev["id"]})["data"]
    assert activated["attributes"]["plan_id"] != blessed["attributes"]["plan_id"]
    sink = wait_for(lambda: [s for s in emu.control("GET", "/sink") if s["name"] == "blinkup"])
    payload = json.loads(sink[0]["body"])
    assert payload["device_id"] == dut_dev["id"]
    assert payload["plan_id"] == activated["attributes"]["plan_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", payload["token"])
    deliveries = wait_for(lambda: len(emu.control("GET", "/webhook_deliveries")) >= 2
                          and emu.control("GET", "/webhook_deliveries"))
    assert {d["event"] for d in deliveries} == {"blessing", "blinkup"}
    assert all(d["result"] == 204 for d in deliveries)


def test_seeded_dut_device_blessed_by_its_fixture(emu):
    reset(emu, seed="demo", config={"simulation": {"enabled": False}})
    dut = group_devices(emu, group(emu, "Thermo Test DUT")["id"])[0]
    blessed = emu.control("POST", "/factory/bless", {"device": dut["id"]})["data"]
    target = group(emu, "Thermo Test Production")
    assert blessed["relationships"]["devicegroup"]["id"] == target["id"]


def test_factory_errors(emu):
    dev = devices(emu)[0]["id"]
    error_of(raw(emu, "POST", "/factory/blinkup", {"fixture": dev}), 409)
    error_of(raw(emu, "POST", "/factory/blinkup", {"fixture": "0000000000000000"}), 404)
    error_of(raw(emu, "POST", "/factory/blinkup", {}), 400)
    error_of(raw(emu, "POST", "/factory/bless", {"device": dev}), 409)
    error_of(raw(emu, "POST", "/activate", {"device": dev}), 409)


def test_activate_restarts_only_outdated_devices(emu):
    reset(emu, seed="demo", config={"simulation": {"enabled": False, "restart_delay_s": 0}})
    prod = next(d for d in group_devices(emu, group(emu, "Thermo Production")["id"])
                if d["attributes"]["device_online"])
    before = len(status_lines(emu, prod["id"]))
    emu.control("POST", "/activate", {"device": prod["id"]})
    assert len(status_lines(emu, prod["id"])) == before  # already runs the current deployment


# -- accounts, OTP ----------------------------------------------------------------------------


def test_accounts_and_patch(emu):
    accounts = emu.accounts()
    assert set(accounts) == {"demo", "demo-2fa", "demo-collab"}
    for entry in accounts.values():
        assert set(entry) == {"id", "username", "email", "password", "commercial", "two_factor",
                              "totp_secret", "unbond_key"}
    assert accounts["demo"]["commercial"] and not accounts["demo-collab"]["commercial"]
    assert accounts["demo-2fa"]["two_factor"] and accounts["demo-2fa"]["totp_secret"]
    got = emu.control("PATCH", "/accounts/demo-collab", {"two_factor": True, "commercial": True})
    assert got["two_factor"] and got["commercial"]
    assert re.fullmatch(r"[A-Z2-7]{16,32}", got["totp_secret"])
    otp = emu.control("GET", "/otp?account=demo-collab")
    assert re.fullmatch(r"\d{6}", otp["otp"]) and 1 <= otp["valid_for_s"] <= 30
    error_of(raw(emu, "PATCH", "/accounts/ghost", {"commercial": True}), 404)
    error_of(raw(emu, "PATCH", "/accounts/demo", {"commercial": "yes"}), 400)
    error_of(raw(emu, "GET", "/otp?account=demo"), 404)
    error_of(raw(emu, "GET", "/otp"), 400)


# -- faults, tokens, streams --------------------------------------------------------------------


def test_faults_roundtrip(emu):
    got = emu.control("PUT", "/faults", {"latency_ms": 1, "error_statuses": [502]})
    assert got["latency_ms"] == 1 and got["error_statuses"] == [502] and got["error_rate"] == 0
    assert emu.control("GET", "/faults") == got
    error_of(raw(emu, "PUT", "/faults", {"error_rate": 2}), 400)
    cleared = emu.control("DELETE", "/faults")
    assert cleared["latency_ms"] == 0


def test_compile_warnings_fault_adds_data_meta_on_create_only(emu):
    """impdesk's `compile_warnings` fault: the real service's warnings on success (§3.5.2)."""
    warning = {"file": "device_code", "row": 2, "column": 5, "text": "unused local 'x'"}
    got = emu.control("PUT", "/faults", {"compile_warnings": [warning]})
    assert got["compile_warnings"] == [warning]
    grp = create_group(emu, create_product(emu)["id"])
    resp = emu.post("/deployments", json=deployment_body(grp, "local x = 1;\nlocal y;", ""))
    assert resp.status_code == 201
    doc = resp.json()
    assert doc["data"]["meta"] == [{
        "status": "201", "title": "Compiler Warning", "detail": "The code compiled with warnings.",
        "meta": [{**warning, "type": "warning"}]}]
    assert "meta" not in emu.get(f"/deployments/{doc['data']['id']}").json()["data"]
    for bad in ([{"file": "x.nut", "row": 1, "column": 1, "text": "t"}],
                [{"file": "agent_code", "row": 0, "column": 1, "text": "t"}],
                [{"file": "agent_code", "row": 1, "column": 1}], {"file": "agent_code"}):
        error_of(raw(emu, "PUT", "/faults", {"compile_warnings": bad}), 400)
    emu.control("DELETE", "/faults")
    resp = emu.post("/deployments", json=deployment_body(grp, "local z;", ""))
    assert "meta" not in resp.json()["data"]


def test_fail_next(emu):
    assert emu.control("POST", "/faults/fail_next",
                       {"count": 2, "status": 503, "path": "/products"}) == {"queued": 2}
    assert emu.get("/products").status_code == 503
    assert emu.get("/accounts/me").status_code == 200
    assert emu.get("/products").status_code == 503
    assert emu.get("/products").status_code == 200
    error_of(raw(emu, "POST", "/faults/fail_next", {"status": 418}), 400)
    error_of(raw(emu, "POST", "/faults/fail_next", {"count": 0}), 400)


def test_tokens_expire_counts(emu):
    emu.login()
    counts = emu.control("POST", "/tokens/expire", {"kind": "all"})
    assert counts["access"] >= 1 and counts["refresh"] >= 1
    error_of(raw(emu, "POST", "/tokens/expire", {"kind": "some"}), 400)
    error_of(raw(emu, "POST", "/tokens/expire", {"kind": "access", "account": "ghost"}), 404)


def test_logstreams_drop_validates(emu):
    assert emu.control("POST", "/logstreams/drop", {"mode": "abort"}) == {"connections": 0}
    error_of(raw(emu, "POST", "/logstreams/drop", {"mode": "explode"}), 400)
    error_of(raw(emu, "POST", "/logstreams/drop", {"after_events": 0}), 400)


# -- clock -------------------------------------------------------------------------------------


def test_clock(emu):
    before = emu.control("GET", "/clock")
    assert set(before) == {"now", "offset_s", "speed"}
    after = emu.control("POST", "/clock", {"advance_s": 3600})
    assert after["offset_s"] == 3600 and after["now"] > before["now"]
    fast = emu.control("POST", "/clock", {"speed": 10})
    assert fast["speed"] == 10
    error_of(raw(emu, "POST", "/clock", {"advance_s": -1}), 400)
    error_of(raw(emu, "POST", "/clock", {"speed": 0}), 400)


def test_clock_drives_restart_delay(emu):
    dev = next(d for d in group_devices(emu, group(emu, "Alpha Dev")["id"])
               if d["attributes"]["device_online"])
    emu.config(simulation={"restart_delay_s": 600})
    before = len(status_lines(emu, dev["id"]))
    assert emu.post(f"/devices/{dev['id']}/restart").status_code == 204
    assert len(status_lines(emu, dev["id"])) == before + 2
    advance(emu, 601)
    wait_for(lambda: status_lines(emu, dev["id"])[-1:] == ["Device connected"]
             and len(status_lines(emu, dev["id"])) > before + 2)


# -- observation ---------------------------------------------------------------------------------


def test_request_log(emu):
    emu.control("DELETE", "/requests")
    emu.get("/products", params={"page[size]": 5})
    log = emu.control("GET", "/requests")["requests"]
    entry = next(e for e in log if e["path"] == "/v5/products")
    assert set(entry) >= {"seq", "ts", "method", "path", "query", "headers", "body", "status",
                          "account", "duration_ms"}
    assert entry["status"] == 200 and entry["account"] == "demo"
    assert emu.control("GET", f"/requests?since={entry['seq']}")["requests"] == \
        [e for e in log if e["seq"] > entry["seq"]]
    assert all("/_emulator" not in e["path"] for e in log)
    error_of(raw(emu, "GET", "/requests?since=abc"), 400)


def test_sink(emu):
    emu.control("DELETE", "/sink")
    resp = emu.http.post(emu.control_url + "/sink/custom", data="a=1&b=2",
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         timeout=10)
    assert resp.status_code == 204 and resp.content == b""
    (entry,) = emu.control("GET", "/sink")
    assert entry["name"] == "custom" and entry["body"] == "a=1&b=2"
    assert entry["content_type"] == "application/x-www-form-urlencoded"
    emu.control("DELETE", "/sink")
    assert emu.control("GET", "/sink") == []
    assert emu.control("GET", "/webhook_deliveries") == []


# -- simulation ---------------------------------------------------------------------------------


def test_simulation_writes_logs_and_stops_at_reset(emu):
    reset(emu, seed="small", config={"simulation": {"enabled": True, "log_rate_per_min": 60,
                                                    "flip_interval_s": 0}})
    emulator = emu.server.emulator
    start = emulator.counts()["log_entries"]
    emu.control("POST", "/clock", {"speed": 20})
    wait_for(lambda: emulator.counts()["log_entries"] > start + 20, timeout=5)
    offline = [d for d in devices(emu) if not d["attributes"]["device_online"]]
    loose = [d for d in unassigned(emu) if d["attributes"]["device_online"]]
    for dev in offline + loose:
        assert len(history(emu, dev["id"])) == 20  # only online assigned devices talk
    reset(emu, seed="small")
    count = emulator.counts()["log_entries"]
    time.sleep(0.5)
    assert emulator.counts()["log_entries"] == count


def test_simulation_switch_via_config(emu):
    emulator = emu.server.emulator
    emu.config(simulation={"enabled": True, "log_rate_per_min": 600, "flip_interval_s": 0})
    start = emulator.counts()["log_entries"]
    wait_for(lambda: emulator.counts()["log_entries"] > start, timeout=5)
    emu.config(simulation={"enabled": False})
    time.sleep(0.3)  # entries already scheduled for this tick are dropped by the epoch
    count = emulator.counts()["log_entries"]
    time.sleep(1.2)
    assert emulator.counts()["log_entries"] == count


def test_simulation_flips_flaky_devices(emu):
    reset(emu, seed="small", config={"simulation": {"enabled": True, "log_rate_per_min": 0,
                                                    "flip_interval_s": 60}})
    dev = next(d for d in group_devices(emu, group(emu, "Alpha Dev")["id"])
               if d["attributes"]["device_online"])
    set_state(emu, dev["id"], flaky=True)
    before = len(status_lines(emu, dev["id"]))
    advance(emu, 61)
    wait_for(lambda: not get_device(emu, dev["id"])["attributes"]["device_online"])
    assert status_lines(emu, dev["id"])[before:] == ["Device disconnected"]
    advance(emu, 60)
    wait_for(lambda: get_device(emu, dev["id"])["attributes"]["device_online"])
    assert status_lines(emu, dev["id"])[before:] == ["Device disconnected", "Device connected"]


def test_simulation_on_by_default_for_demo_only():
    from impdesk.emulator.service import Emulator

    for seed, enabled in (("demo", True), ("small", False), ("fleet:10", False)):
        emulator = Emulator(seed=seed)
        try:
            assert emulator.store.config["simulation"]["enabled"] is enabled
            assert emulator.simulation.running is enabled
        finally:
            emulator.stop()


@pytest.mark.parametrize("path", ["/devices/abc/state", "/devices/abc/logs"])
def test_unknown_device_404(emu, path):
    error_of(raw(emu, "POST", path, {}), 404)


def test_product_names_in_demo_are_unique(emu):
    reset(emu, seed="demo", config={"simulation": {"enabled": False}})
    names = [p["attributes"]["name"] for p in emu.list_all("/products")]
    assert sorted(names) == sorted(["Weather Station", "Smart Thermostat", "Asset Tracker",
                                    "Sandbox", "Greenhouse Monitor"])
    assert by_name(emu.list_all("/products", as_user="demo-2fa"), "Home Lab")
    assert_ok(emu.get("/accounts/me", as_user="demo-2fa"))
