"""Contract tests for /devices, historical logs and device life status lines (§3.4, §3.8)."""

from __future__ import annotations

import time

import pytest

from tests.emulator.helpers import (
    AGENT_ID_RE,
    DEVICE_ID_RE,
    DOWNLOADING_RE,
    MAC_RE,
    TS_RE,
    account_id,
    advance,
    alpha_dev,
    assert_error,
    assert_ok,
    assert_resource,
    assign,
    blinkup,
    create_group,
    create_product,
    deploy,
    devices,
    factory_setup,
    feed,
    get_device,
    group,
    group_devices,
    history,
    new_status_lines,
    offline_alpha_device,
    online_alpha_device,
    product,
    restart_delay,
    set_state,
    status_lines,
    unassign,
    unassigned,
    wait_for,
)

IMP_TYPES = {"imp001", "imp002", "imp003", "imp004m", "imp005", "imp006"}
DEVICE_ATTRS = {
    "name",
    "agent_id",
    "agent_url",
    "device_online",
    "device_state_changed_at",
    "agent_running",
    "agent_state_changed_at",
    "last_enrolled_at",
    "imp_type",
    "ip_address",
    "mac_address",
    "free_memory",
    "rssi",
    "swversion",
    "plan_id",
}


def check_device(d: dict, base: str) -> None:
    assert_resource(d, "device", base)
    assert DEVICE_ID_RE.match(d["id"])
    a = d["attributes"]
    assert set(a) == DEVICE_ATTRS
    assert MAC_RE.match(a["mac_address"])
    assert a["imp_type"] in IMP_TYPES
    assert TS_RE.match(a["device_state_changed_at"])
    assert isinstance(a["device_online"], bool)
    if a["device_online"]:
        assert isinstance(a["ip_address"], str)
    else:
        assert a["ip_address"] is None
    assigned = "devicegroup" in d["relationships"]
    assert ("product" in d["relationships"]) == assigned
    assert a["agent_running"] is assigned
    if assigned:
        assert AGENT_ID_RE.match(a["agent_id"])
        assert a["agent_url"] == f"https://agent.electricimp.com/{a['agent_id']}"
        assert d["relationships"]["devicegroup"]["type"].endswith("_devicegroup")
    else:
        assert a["agent_id"] is None and a["agent_url"] is None
        assert set(d["relationships"]) == {"owner"}
    for key in ("agent_state_changed_at", "last_enrolled_at"):
        assert a[key] is None or TS_RE.match(a[key])
    assert d["links"]["self"] == f"{base}/devices/{d['id']}"


def test_small_seed_devices_shape(emu):
    items = devices(emu)
    assert len(items) == 6
    for d in items:
        check_device(d, emu.base)
    alpha = [
        d
        for d in items
        if d["relationships"].get("devicegroup", {}).get("id") == alpha_dev(emu)["id"]
    ]
    assert len(alpha) == 3
    assert all(d["attributes"]["imp_type"] == "imp004m" for d in alpha)
    assert sorted(d["attributes"]["device_online"] for d in alpha) == [False, True, True]
    un = [d for d in items if "devicegroup" not in d["relationships"]]
    assert len(un) == 2
    assert sorted(d["attributes"]["device_online"] for d in un) == [False, True]
    assert any(
        d["attributes"]["imp_type"] == "imp001" and d["attributes"]["device_online"] for d in un
    )


@pytest.mark.parametrize("form", ["id", "ID", "mac", "MAC", "agent", "mac-pct"])
def test_get_device_by_any_identifier(emu, form):
    dev = online_alpha_device(emu)
    a = dev["attributes"]
    ident = {
        "id": dev["id"],
        "ID": dev["id"].upper(),
        "mac": a["mac_address"],
        "MAC": a["mac_address"].upper(),
        "agent": a["agent_id"],
        "mac-pct": a["mac_address"].replace(":", "%3A"),
    }[form]
    got = get_device(emu, ident)
    assert got["id"] == dev["id"]
    assert got == dev


def test_agent_id_is_case_sensitive(emu):
    dev = online_alpha_device(emu)
    aid = dev["attributes"]["agent_id"]
    if aid.swapcase() == aid:
        pytest.skip("agent id without letters")
    assert_error(emu.get(f"/devices/{aid.swapcase()}"), "NF100")


def test_mac_without_colons_not_accepted(emu):
    dev = online_alpha_device(emu)
    assert_error(emu.get(f"/devices/{dev['attributes']['mac_address'].replace(':', '')}"), "NF100")


def test_unassigned_device_not_found_by_agent_id(emu):
    dev = online_alpha_device(emu)
    aid = dev["attributes"]["agent_id"]
    assert_ok(unassign(emu, alpha_dev(emu)["id"], dev["id"]), 204)
    assert_error(emu.get(f"/devices/{aid}"), "NF100")


def test_get_device_unknown_and_invisible(emu):
    assert_error(emu.get("/devices/00000000000000aa"), "NF100")
    dev = online_alpha_device(emu)
    assert_error(emu.get(f"/devices/{dev['id']}", as_user="demo-2fa"), "NF100")
    assert_error(emu.get(f"/devices/{dev['id']}", as_user="demo-collab"), "NF100")


def test_owner_sees_own_device_in_foreign_group_and_collaborator_sees_it(emu):
    shared_dev = group_devices(emu, group(emu, "Shared Dev")["id"])[0]
    assert shared_dev["relationships"]["owner"]["id"] == account_id(emu, "demo-collab")
    assert_ok(emu.get(f"/devices/{shared_dev['id']}", as_user="demo-collab"))


# -- filters --------------------------------------------------------------------------------------


def ids(items):
    return sorted(d["id"] for d in items)


def test_device_filters(emu):
    all_devs = devices(emu)
    demo, collab = account_id(emu, "demo"), account_id(emu, "demo-collab")
    alpha = product(emu, "Alpha")
    g = alpha_dev(emu)
    own = [d for d in all_devs if d["relationships"]["owner"]["id"] == demo]
    assert len(own) == 5
    assert ids(devices(emu, **{"owner.id": "me"})) == ids(own)
    assert ids(devices(emu, **{"owner.id": demo.upper()})) == ids(own)
    assert len(devices(emu, **{"owner.id": collab})) == 1
    in_alpha = [
        d for d in all_devs if d["relationships"].get("product", {}).get("id") == alpha["id"]
    ]
    assert ids(devices(emu, **{"product.id": alpha["id"]})) == ids(in_alpha)
    assert ids(devices(emu, **{"devicegroup.id": g["id"]})) == ids(in_alpha)
    un = devices(emu, **{"devicegroup.owner.id": "null"})
    assert ids(un) == ids([d for d in all_devs if "devicegroup" not in d["relationships"]])
    assert len(devices(emu, **{"devicegroup.owner.id": demo})) == 3
    assert len(devices(emu, **{"devicegroup.owner.id": "me"})) == 3
    assert len(devices(emu, **{"devicegroup.owner.id": collab})) == 1
    assert len(devices(emu, **{"devicegroup.type": "development_devicegroup"})) == 4
    assert devices(emu, **{"devicegroup.type": "production_devicegroup"}) == []
    assert devices(emu, **{"devicegroup.id": "00000000-0000-0000-0000-000000000000"}) == []
    both = devices(emu, **{"owner.id": "me", "devicegroup.owner.id": "null"})
    assert len(both) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"filter[devicegroup.type]": "devicegroup"},
        {"filter[devicegroup.type]": "nope"},
        {"filter[device_online]": "true"},
        {"filter[type]": "development_devicegroup"},
        {"filter[owner.id]": ""},
    ],
)
def test_device_bad_filters(emu, params):
    assert_error(emu.get("/devices", params=params), "VX108")


def test_device_order_join_time(emu):
    before = [d["id"] for d in devices(emu)]
    new = blinkup(emu, online=False)
    after = [d["id"] for d in devices(emu)]
    assert after == [*before, new["id"]]


# -- PATCH ----------------------------------------------------------------------------------------


def patch_dev(emu, dev_id, attrs=None, rels=None, type_="device", with_id=True):
    data = {"type": type_, "attributes": attrs or {}}
    if with_id:
        data["id"] = dev_id
    if rels is not None:
        data["relationships"] = rels
    return emu.patch(f"/devices/{dev_id}", json={"data": data})


def test_rename_device(emu):
    dev = online_alpha_device(emu)
    got = assert_ok(patch_dev(emu, dev["id"], {"name": "Kitchen"}))
    assert got["attributes"]["name"] == "Kitchen"
    assert get_device(emu, dev["id"])["attributes"]["name"] == "Kitchen"
    got = assert_ok(patch_dev(emu, dev["id"], {"name": "n" * 80}))
    assert got["attributes"]["name"] == "n" * 80


@pytest.mark.parametrize("value", ["", None])
def test_rename_device_clear(emu, value):
    dev = online_alpha_device(emu)
    assert_ok(patch_dev(emu, dev["id"], {"name": "x"}))
    got = assert_ok(patch_dev(emu, dev["id"], {"name": value}))
    assert got["attributes"]["name"] is None


def test_rename_by_mac_with_mac_in_body_id(emu):
    dev = online_alpha_device(emu)
    mac = dev["attributes"]["mac_address"]
    doc = {"data": {"type": "device", "id": mac, "attributes": {"name": "ByMac"}}}
    got = assert_ok(emu.patch(f"/devices/{mac}", json=doc))
    assert got["id"] == dev["id"] and got["attributes"]["name"] == "ByMac"


@pytest.mark.parametrize(
    ("attrs", "rels", "type_", "code"),
    [
        ({"name": "n" * 81}, None, "device", "VX105"),
        ({"imp_type": "imp001"}, None, "device", "VX104"),
        ({"agent_id": "x"}, None, "device", "VX104"),
        ({"name": 5}, None, "device", "VX104"),
        ({}, {"devicegroup": {"type": "development_devicegroup", "id": "x"}}, "device", "VX107"),
        ({"name": "x"}, None, "product", "VX102"),
    ],
)
def test_patch_device_invalid(emu, attrs, rels, type_, code):
    dev = online_alpha_device(emu)
    assert_error(patch_dev(emu, dev["id"], attrs, rels, type_), code)
    assert get_device(emu, dev["id"]) == dev


def test_patch_device_id_mismatch(emu):
    devs = devices(emu)
    doc = {"data": {"type": "device", "id": devs[1]["id"], "attributes": {"name": "x"}}}
    assert_error(emu.patch(f"/devices/{devs[0]['id']}", json=doc), "VX101")


# -- DELETE ---------------------------------------------------------------------------------------


def test_delete_unassigned_device(emu):
    dev = unassigned(emu)[0]
    assert_ok(emu.delete(f"/devices/{dev['id']}"), 204)
    assert_error(emu.get(f"/devices/{dev['id']}"), "NF100")
    assert_error(emu.get(f"/devices/{dev['id']}/logs"), "NF100")
    assert dev["id"] not in ids(devices(emu))


def test_delete_assigned_device_cx108(emu):
    dev = online_alpha_device(emu)
    assert_error(emu.delete(f"/devices/{dev['id']}"), "CX108")


@pytest.mark.parametrize("pre", [False, True])
def test_delete_production_device_cx109(emu, pre):
    f = factory_setup(emu, product(emu, "Alpha")["id"], pre=pre)
    assert_error(emu.delete(f"/devices/{f['prod_device']}"), "CX109")
    # DUT and fixture devices are assigned to other types: CX108
    assert_error(emu.delete(f"/devices/{f['dut_device']}"), "CX108")
    assert_error(emu.delete(f"/devices/{f['fixture_device']}"), "CX108")


# -- restart --------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["restart", "conditional_restart"])
def test_restart_unassigned_cx107(emu, action):
    dev = unassigned(emu)[0]
    assert_error(emu.post(f"/devices/{dev['id']}/{action}"), "CX107")


@pytest.mark.parametrize("action", ["restart", "conditional_restart"])
def test_restart_unknown_nf100(emu, action):
    assert_error(emu.post(f"/devices/00000000000000aa/{action}"), "NF100")


def test_restart_ignores_any_body(emu):
    dev = online_alpha_device(emu)
    resp = emu.post(f"/devices/{dev['id']}/restart", data=b"\xff not json at all")
    assert_ok(resp, 204)


def test_restart_online_device_status_lines(emu):
    restart_delay(emu, 0)
    dev = online_alpha_device(emu)
    before_state = dev["attributes"]["agent_state_changed_at"]
    advance(emu, 1)
    # a new deployment so that the device's running code differs from the current one
    deploy(emu, alpha_dev(emu), "server.log(1);")
    n = len(status_lines(emu, dev["id"]))
    assert_ok(emu.post(f"/devices/{dev['id']}/restart"), 204)
    lines = new_status_lines(emu, dev["id"], n, 4)
    assert lines[:2] == ["Device restarting", "Agent restarted: reload."]
    assert DOWNLOADING_RE.match(lines[2]), lines
    assert lines[3] == "Device connected"
    got = get_device(emu, dev["id"])
    assert got["attributes"]["device_online"] is True
    assert got["attributes"]["agent_state_changed_at"] != before_state
    # now running the current deployment: a second restart downloads nothing
    n = len(status_lines(emu, dev["id"]))
    assert_ok(emu.post(f"/devices/{dev['id']}/restart"), 204)
    lines = new_status_lines(emu, dev["id"], n, 3)
    assert lines == ["Device restarting", "Agent restarted: reload.", "Device connected"]


def test_restart_delay_driven_by_emulator_clock(emu):
    restart_delay(emu, 5)
    dev = online_alpha_device(emu)
    n = len(status_lines(emu, dev["id"]))
    assert_ok(emu.post(f"/devices/{dev['id']}/restart"), 204)
    lines = new_status_lines(emu, dev["id"], n, 2)
    assert lines[:2] == ["Device restarting", "Agent restarted: reload."]
    time.sleep(0.3)
    assert status_lines(emu, dev["id"])[n:] == ["Device restarting", "Agent restarted: reload."]
    advance(emu, 6)
    lines = new_status_lines(emu, dev["id"], n, 3)
    assert lines[-1] == "Device connected"


def test_conditional_restart_leaves_current_devices_alone(emu):
    restart_delay(emu, 0)
    g = alpha_dev(emu)
    dev = online_alpha_device(emu)
    assert_ok(emu.post(f"/devices/{dev['id']}/restart"), 204)
    n0 = len(status_lines(emu, dev["id"]))
    wait_for(lambda: status_lines(emu, dev["id"])[-1:] == ["Device connected"])
    n = len(status_lines(emu, dev["id"]))
    assert n >= n0
    assert_ok(emu.post(f"/devices/{dev['id']}/conditional_restart"), 204)
    assert_ok(emu.post(f"/devicegroups/{g['id']}/conditional_restart"), 204)
    # sentinel: a fed log entry must be the next thing after no new status lines
    feed(emu, dev["id"], ("device.log", "sentinel"))
    entries = history(emu, dev["id"])
    assert entries[0]["msg"] == "sentinel"
    assert len(status_lines(emu, dev["id"])) == n
    # a new deployment makes it restart
    deploy(emu, g, "x();")
    assert_ok(emu.post(f"/devices/{dev['id']}/conditional_restart"), 204)
    lines = new_status_lines(emu, dev["id"], n, 4)
    assert lines[0] == "Device restarting"
    assert DOWNLOADING_RE.match(lines[2])


def test_group_restart_restarts_online_members(emu):
    restart_delay(emu, 0)
    g = alpha_dev(emu)
    online = [d for d in group_devices(emu, g["id"]) if d["attributes"]["device_online"]]
    counts = {d["id"]: len(status_lines(emu, d["id"])) for d in online}
    assert_ok(emu.post(f"/devicegroups/{g['id']}/restart"), 204)
    for d in online:
        lines = new_status_lines(emu, d["id"], counts[d["id"]], 3)
        assert lines[0] == "Device restarting"
        assert lines[-1] == "Device connected"


def test_offline_restart_pending_until_connect(emu):
    restart_delay(emu, 0)
    dev = offline_alpha_device(emu)
    deploy(emu, alpha_dev(emu), "pending();")
    n = len(status_lines(emu, dev["id"]))
    assert_ok(emu.post(f"/devices/{dev['id']}/restart"), 204)
    time.sleep(0.2)
    assert len(status_lines(emu, dev["id"])) == n
    set_state(emu, dev["id"], online=True)
    lines = new_status_lines(emu, dev["id"], n, 2)
    assert DOWNLOADING_RE.match(lines[0]), lines
    assert lines[1] == "Device connected"
    got = get_device(emu, dev["id"])
    assert got["attributes"]["device_online"] is True
    assert got["attributes"]["ip_address"]


def test_online_offline_flips(emu):
    dev = online_alpha_device(emu)
    n = len(status_lines(emu, dev["id"]))
    advance(emu, 3)
    got = set_state(emu, dev["id"], online=False)
    assert got["attributes"]["device_online"] is False
    assert got["attributes"]["ip_address"] is None
    assert (
        got["attributes"]["device_state_changed_at"] > dev["attributes"]["device_state_changed_at"]
    )
    assert status_lines(emu, dev["id"])[n:] == ["Device disconnected"]
    set_state(emu, dev["id"], online=True)
    assert status_lines(emu, dev["id"])[n:] == ["Device disconnected", "Device connected"]
    assert get_device(emu, dev["id"])["attributes"]["ip_address"]


def test_state_call_sets_telemetry(emu):
    dev = online_alpha_device(emu)
    got = set_state(
        emu,
        dev["attributes"]["mac_address"],
        rssi=-70,
        free_memory=80000,
        swversion="abc - release-1.0",
    )
    assert got["id"] == dev["id"]
    a = get_device(emu, dev["id"])["attributes"]
    assert (a["rssi"], a["free_memory"], a["swversion"]) == (-70, 80000, "abc - release-1.0")


def test_assignment_restarts_and_runs_group_code(emu):
    restart_delay(emu, 0)
    dev = next(d for d in unassigned(emu) if d["attributes"]["device_online"])
    n = len(status_lines(emu, dev["id"]))
    assert_ok(assign(emu, alpha_dev(emu)["id"], dev["id"]), 204)
    lines = new_status_lines(emu, dev["id"], n, 4)
    assert lines[:2] == ["Device restarting", "Agent restarted: reload."]
    assert DOWNLOADING_RE.match(lines[2])
    assert lines[3] == "Device connected"


def test_unassignment_writes_no_line(emu):
    dev = online_alpha_device(emu)
    n = len(history(emu, dev["id"]))
    assert_ok(unassign(emu, alpha_dev(emu)["id"], dev["id"]), 204)
    assert len(history(emu, dev["id"])) == n


def test_deployment_does_not_restart(emu):
    restart_delay(emu, 0)
    dev = online_alpha_device(emu)
    n = len(history(emu, dev["id"]))
    d = deploy(emu, alpha_dev(emu), "new();")
    g = alpha_dev(emu)
    body = {"data": {"type": "deployment", "id": d["id"]}}
    assert_ok(emu.put(f"/devicegroups/{g['id']}/relationships/min_supported_deployment", json=body))
    time.sleep(0.2)
    assert len(history(emu, dev["id"])) == n


# -- historical logs ------------------------------------------------------------------------------


def test_history_small_seed(emu):
    for d in devices(emu):
        entries = history(emu, d["id"])
        assert len(entries) == 20
        for e in entries:
            assert set(e) == {"ts", "log_type", "type", "msg"}
            assert TS_RE.match(e["ts"])
            assert e["log_type"] in ("development", "production")
            assert isinstance(e["msg"], str)
        ts = [e["ts"] for e in entries]
        assert ts == sorted(ts, reverse=True)
        assert len(set(ts)) == len(ts)


def test_history_fed_entries_newest_first_strictly_increasing(emu):
    dev = online_alpha_device(emu)
    entries = [{"type": "device.log", "msg": f"m{i}"} for i in range(5)]
    entries.append({"type": "server.log", "msg": "alias"})
    entries.append({"type": "weird.type", "msg": "line one\nline two"})
    entries.append({"type": "agent.error", "msg": ""})
    res = emu.control("POST", f"/devices/{dev['id']}/logs", {"entries": entries})
    assert res == {"written": 8}
    got = history(emu, dev["id"])[:8]
    assert [(e["type"], e["msg"]) for e in reversed(got)] == [
        (e["type"], e["msg"]) for e in entries
    ]
    ts = [e["ts"] for e in got]
    assert ts == sorted(ts, reverse=True) and len(set(ts)) == 8
    assert all(e["log_type"] == "development" for e in got)


def test_history_repeat(emu):
    dev = online_alpha_device(emu)
    res = emu.control(
        "POST",
        f"/devices/{dev['id']}/logs",
        {"entries": [{"type": "device.log", "msg": "r"}], "repeat": 3},
    )
    assert res == {"written": 3}
    assert [e["msg"] for e in history(emu, dev["id"])[:4]].count("r") == 3


def test_history_log_type_production(emu):
    f = factory_setup(emu, product(emu, "Alpha")["id"])
    feed(emu, f["prod_device"], ("device.log", "in production"))
    top = history(emu, f["prod_device"])[0]
    assert (top["msg"], top["log_type"]) == ("in production", "production")
    feed(emu, f["dut_device"], ("device.log", "in dut"))
    assert history(emu, f["dut_device"])[0]["log_type"] == "production"


def test_history_unassigned_is_development(emu):
    dev = unassigned(emu)[0]
    feed(emu, dev["id"], ("device.log", "x"))
    assert history(emu, dev["id"])[0]["log_type"] == "development"


def test_history_retention(emu):
    emu.config(log_retention=5)
    dev = online_alpha_device(emu)
    feed(emu, dev["id"], *[("device.log", f"k{i}") for i in range(8)])
    entries = history(emu, dev["id"])
    assert [e["msg"] for e in entries] == [f"k{i}" for i in range(7, 2, -1)]


def test_history_pagination_and_links(emu):
    dev = online_alpha_device(emu)
    resp = emu.get(f"/devices/{dev['id']}/logs", params={"page[size]": 7, "page[number]": 2})
    doc = resp.json()
    assert len(doc["data"]) == 7
    base = f"{emu.base}/devices/{dev['id']}/logs"
    assert doc["links"] == {
        "self": f"{base}?page[number]=2&page[size]=7",
        "first": f"{base}?page[number]=1&page[size]=7",
        "last": f"{base}?page[number]=3&page[size]=7",
        "prev": f"{base}?page[number]=1&page[size]=7",
        "next": f"{base}?page[number]=3&page[size]=7",
    }
    full = history(emu, dev["id"])
    assert doc["data"] == full[7:14]


def test_history_default_page_size(emu):
    dev = online_alpha_device(emu)
    feed(emu, dev["id"], ("device.log", "one more"))
    doc = emu.get(f"/devices/{dev['id']}/logs").json()
    assert len(doc["data"]) == 20
    assert doc["links"]["last"].endswith("page[number]=2&page[size]=20")


def test_history_by_mac_and_agent(emu):
    dev = online_alpha_device(emu)
    a = assert_ok(emu.get(f"/devices/{dev['attributes']['mac_address']}/logs"))
    b = assert_ok(emu.get(f"/devices/{dev['attributes']['agent_id']}/logs"))
    assert a == b == history(emu, dev["id"])[:20]


def test_history_filters_refused(emu):
    dev = online_alpha_device(emu)
    assert_error(emu.get(f"/devices/{dev['id']}/logs", params={"filter[type]": "status"}), "VX108")


def test_history_query_checked_before_device(emu):
    assert_error(emu.get("/devices/00000000000000aa/logs", params={"filter[x]": "1"}), "VX108")
    assert_error(emu.get("/devices/00000000000000aa/logs", params={"page[size]": "0"}), "VX109")
    assert_error(emu.get("/devices/00000000000000aa/logs"), "NF100")


def test_device_history_endpoint_not_served(emu):
    dev = online_alpha_device(emu)
    assert_error(emu.get(f"/devices/{dev['id']}/history"), "NF102")


def test_blinkup_device_shape(emu):
    new = blinkup(emu, imp_type="imp006", name="Fresh", online=True)
    check_device(new, emu.base)
    a = new["attributes"]
    assert a["imp_type"] == "imp006"
    assert a["name"] == "Fresh"
    assert a["device_online"] is True
    assert TS_RE.match(a["last_enrolled_at"])
    assert a["plan_id"]
    assert a["agent_state_changed_at"] is None
    assert status_lines(emu, new["id"]) == ["Device connected"]
    assert get_device(emu, new["id"]) == new


def test_blinkup_for_collab_invisible_to_demo(emu):
    new = blinkup(emu, owner="demo-collab", online=False)
    assert_error(emu.get(f"/devices/{new['id']}"), "NF100")
    assert_ok(emu.get(f"/devices/{new['id']}", as_user="demo-collab"))


def test_moved_device_in_other_product_group(emu):
    p = create_product(emu)
    g = create_group(emu, p["id"])
    dev = online_alpha_device(emu)
    assert_ok(assign(emu, g["id"], dev["id"]), 204)
    assert get_device(emu, dev["id"])["relationships"]["product"]["id"] == p["id"]


def test_history_default_retention_1000(emu):
    dev = online_alpha_device(emu)
    res = emu.control(
        "POST",
        f"/devices/{dev['id']}/logs",
        {"entries": [{"type": "device.log", "msg": "bulk"}], "repeat": 990},
    )
    assert res == {"written": 990}
    entries = history(emu, dev["id"])
    assert len(entries) == 1000
    doc = emu.get(f"/devices/{dev['id']}/logs", params={"page[size]": 100}).json()
    assert doc["links"]["last"].endswith("page[number]=10&page[size]=100")


def test_move_runs_new_group_code_at_once(emu):
    restart_delay(emu, 0)
    dev = online_alpha_device(emu)
    assert_ok(emu.post(f"/devices/{dev['id']}/restart"), 204)
    wait_for(lambda: status_lines(emu, dev["id"])[-1:] == ["Device connected"])
    target = create_group(emu, product(emu, "Alpha")["id"])
    deploy(emu, target, "other();")
    n = len(status_lines(emu, dev["id"]))
    assert_ok(assign(emu, target["id"], dev["id"]), 204)
    lines = new_status_lines(emu, dev["id"], n, 4)
    assert lines[:2] == ["Device restarting", "Agent restarted: reload."]
    assert DOWNLOADING_RE.match(lines[2])
    assert lines[3] == "Device connected"
