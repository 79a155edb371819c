"""Contract tests for the seeded data sets: small, demo, empty and fleet (§8.10)."""

from __future__ import annotations

import itertools
import math
import re

import pytest

from tests.emulator.helpers import by_name, devices, group_devices, history


def reset(emu, **body):
    body.setdefault("config", {"rate_limit": {"limit": 0, "window_s": 1}})
    res = emu.control("POST", "/reset", body)
    emu._tokens.clear()
    return res


@pytest.fixture
def demo(emu):
    reset(emu, seed="demo")
    return emu


# -- every seed -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["empty", "small", "demo"])
def test_three_accounts(emu, seed):
    reset(emu, seed=seed)
    accts = emu.accounts()
    assert set(accts) == {"demo", "demo-2fa", "demo-collab"}
    assert accts["demo"]["commercial"] is True and accts["demo"]["two_factor"] is False
    assert accts["demo-2fa"]["commercial"] is False and accts["demo-2fa"]["two_factor"] is True
    assert re.fullmatch(r"[A-Z2-7]{16,32}", accts["demo-2fa"]["totp_secret"])
    assert accts["demo-collab"]["commercial"] is False
    assert accts["demo-collab"]["two_factor"] is False
    for a in accts.values():
        assert a["email"] and a["password"] and a["unbond_key"]
    for user in accts:
        assert emu.login(user)


# -- small ----------------------------------------------------------------------------------------


def test_small_contents(emu):
    products = emu.list_all("/products")
    demo_id = emu.accounts()["demo"]["id"]
    collab_id = emu.accounts()["demo-collab"]["id"]
    owners = {p["attributes"]["name"]: p["relationships"]["owner"]["id"] for p in products}
    assert owners == {"Alpha": demo_id, "Bravo": demo_id, "Shared Product": collab_id}
    groups = emu.list_all("/devicegroups")
    assert {g["attributes"]["name"]: g["relationships"]["product"]["id"] for g in groups} == {
        "Alpha Dev": by_name(products, "Alpha")["id"],
        "Shared Dev": by_name(products, "Shared Product")["id"],
    }
    alpha_dev = by_name(groups, "Alpha Dev")
    shared_dev = by_name(groups, "Shared Dev")
    deps = emu.list_all("/deployments", params={"filter[devicegroup.id]": alpha_dev["id"]})
    assert len(deps) == 2
    assert alpha_dev["relationships"]["current_deployment"]["id"] == deps[0]["id"]
    assert (
        len(emu.list_all("/deployments", params={"filter[devicegroup.id]": shared_dev["id"]})) == 1
    )
    alpha_devs = group_devices(emu, alpha_dev["id"])
    assert len(alpha_devs) == 3
    assert {d["attributes"]["imp_type"] for d in alpha_devs} == {"imp004m"}
    assert sorted(d["attributes"]["device_online"] for d in alpha_devs) == [False, True, True]
    shared_devs = group_devices(emu, shared_dev["id"])
    assert len(shared_devs) == 1 and shared_devs[0]["attributes"]["device_online"] is True
    assert shared_devs[0]["relationships"]["owner"]["id"] == collab_id
    un = devices(emu, **{"devicegroup.owner.id": "null"})
    assert len(un) == 2
    online = [d for d in un if d["attributes"]["device_online"]]
    assert len(online) == 1 and online[0]["attributes"]["imp_type"] == "imp001"
    for d in devices(emu):
        assert len(history(emu, d["id"])) == 20
    assert emu.control("GET", "/config")["simulation"]["enabled"] is False
    assert emu.list_all("/products", as_user="demo-2fa") == []


# -- demo -----------------------------------------------------------------------------------------


def test_demo_counts(demo):
    emu = demo
    assert len(emu.list_all("/products")) == 5
    assert len(emu.list_all("/devicegroups")) == 12
    assert len(devices(emu)) == 29
    assert len(devices(emu, **{"owner.id": "me"})) == 27
    assert len(devices(emu, **{"devicegroup.owner.id": "null"})) == 4


def test_demo_first_device_online_in_ws_dev(demo):
    emu = demo
    first = emu.get("/devices", params={"page[size]": 1}).json()["data"][0]
    assert first["attributes"]["device_online"] is True
    ws_dev = by_name(emu.list_all("/devicegroups"), "WS Dev")
    assert first["relationships"]["devicegroup"] == {
        "type": "development_devicegroup",
        "id": ws_dev["id"],
    }


def test_demo_products_and_groups(demo):
    emu = demo
    products = {p["attributes"]["name"]: p for p in emu.list_all("/products")}
    assert set(products) == {
        "Weather Station",
        "Smart Thermostat",
        "Asset Tracker",
        "Sandbox",
        "Greenhouse Monitor",
    }
    collab = emu.accounts()["demo-collab"]["id"]
    assert products["Greenhouse Monitor"]["relationships"]["owner"]["id"] == collab
    groups = {g["attributes"]["name"]: g for g in emu.list_all("/devicegroups")}
    expected = {
        "WS Dev": ("development_devicegroup", "Weather Station", 6),
        "WS Beta": ("development_devicegroup", "Weather Station", 4),
        "Thermo Dev": ("development_devicegroup", "Smart Thermostat", 3),
        "Thermo Test Fixture": ("pre_factoryfixture_devicegroup", "Smart Thermostat", 1),
        "Thermo Test DUT": ("pre_dut_devicegroup", "Smart Thermostat", 1),
        "Thermo Test Production": ("pre_production_devicegroup", "Smart Thermostat", 1),
        "Thermo Fixture": ("factoryfixture_devicegroup", "Smart Thermostat", 1),
        "Thermo DUT": ("dut_devicegroup", "Smart Thermostat", 1),
        "Thermo Production": ("production_devicegroup", "Smart Thermostat", 2),
        "Tracker Dev": ("development_devicegroup", "Asset Tracker", 3),
        "Tracker Field Test": ("development_devicegroup", "Asset Tracker", 0),
        "GH Dev": ("development_devicegroup", "Greenhouse Monitor", 2),
    }
    assert set(groups) == set(expected)
    for name, (gtype, pname, ndev) in expected.items():
        g = groups[name]
        assert g["type"] == gtype, name
        assert g["relationships"]["product"]["id"] == products[pname]["id"], name
        assert len(group_devices(emu, g["id"])) == ndev, name
    fx = groups["Thermo Fixture"]["relationships"]
    assert fx["production_target"]["id"] == groups["Thermo Production"]["id"]
    assert fx["dut_target"]["id"] == groups["Thermo DUT"]["id"]
    tfx = groups["Thermo Test Fixture"]["relationships"]
    assert tfx["production_target"]["id"] == groups["Thermo Test Production"]["id"]
    assert tfx["dut_target"]["id"] == groups["Thermo Test DUT"]["id"]
    assert groups["Thermo Production"]["attributes"]["load_code_after_blessing"] is True
    assert groups["Thermo Dev"]["attributes"]["env_vars"]
    assert groups["Tracker Dev"]["attributes"]["env_vars"]
    assert "current_deployment" not in groups["Tracker Field Test"]["relationships"]
    ws = group_devices(emu, groups["WS Dev"]["id"])
    assert sorted(d["attributes"]["device_online"] for d in ws) == [False] + [True] * 5
    thermo = group_devices(emu, groups["Thermo Dev"]["id"])
    assert "imp001" in [d["attributes"]["imp_type"] for d in thermo]
    prod = group_devices(emu, groups["Thermo Production"]["id"])
    assert sorted(d["attributes"]["device_online"] for d in prod) == [False, True]


def test_demo_ws_dev_deployments(demo):
    emu = demo
    ws = by_name(emu.list_all("/devicegroups"), "WS Dev")
    deps = emu.list_all("/deployments", params={"filter[devicegroup.id]": ws["id"]})
    assert len(deps) == 6
    oldest_first = list(reversed(deps))
    second = oldest_first[1]
    assert second["attributes"]["flagged"] is True
    assert set(second["attributes"]["tags"]) >= {"release", "v1.0"}
    assert ws["relationships"]["min_supported_deployment"]["id"] == oldest_first[3]["id"]
    assert ws["relationships"]["current_deployment"]["id"] == oldest_first[5]["id"]
    hooks = emu.list_all("/webhooks", params={"filter[devicegroup.id]": ws["id"]})
    assert [h["attributes"]["event"] for h in hooks] == ["deployment"]
    assert "/_emulator/sink/" in hooks[0]["attributes"]["url"]


def test_demo_deployment_counts(demo):
    emu = demo
    groups = {g["attributes"]["name"]: g for g in emu.list_all("/devicegroups")}
    expected = {
        "WS Dev": 6,
        "WS Beta": 2,
        "Thermo Dev": 3,
        "Thermo Test Fixture": 1,
        "Thermo Test DUT": 1,
        "Thermo Test Production": 1,
        "Thermo Fixture": 2,
        "Thermo DUT": 1,
        "Thermo Production": 2,
        "Tracker Dev": 3,
        "Tracker Field Test": 0,
        "GH Dev": 2,
    }
    for name, n in expected.items():
        deps = emu.list_all("/deployments", params={"filter[devicegroup.id]": groups[name]["id"]})
        assert len(deps) == n, name


def test_demo_production_webhooks(demo):
    emu = demo
    prod = by_name(emu.list_all("/devicegroups"), "Thermo Production")
    hooks = emu.list_all("/webhooks", params={"filter[devicegroup.id]": prod["id"]})
    assert sorted(h["attributes"]["event"] for h in hooks) == ["blessing", "blinkup"]


def test_demo_history_sizes(demo):
    emu = demo
    ws = by_name(emu.list_all("/devicegroups"), "WS Dev")
    dev = group_devices(emu, ws["id"])[0]
    n = len(history(emu, dev["id"]))
    assert 150 <= n <= 250
    un = devices(emu, **{"devicegroup.owner.id": "null"})
    assert len(un) == 4
    assert sorted(d["attributes"]["device_online"] for d in un) == [False, False, True, True]
    assert any(d["attributes"]["name"] is None for d in un)
    for d in un:
        entries = history(emu, d["id"])
        assert 10 <= len(entries) <= 20
        assert {e["type"] for e in entries} == {"status"}


def test_demo_2fa_account_data(demo):
    emu = demo
    products = emu.list_all("/products", as_user="demo-2fa")
    assert [p["attributes"]["name"] for p in products] == ["Home Lab"]
    groups = emu.list_all("/devicegroups", as_user="demo-2fa")
    assert [g["attributes"]["name"] for g in groups] == ["Lab Dev"]
    assert len(devices(emu, as_user="demo-2fa")) == 2
    assert "Home Lab" not in [p["attributes"]["name"] for p in emu.list_all("/products")]


def test_demo_collab_view(demo):
    emu = demo
    names = [p["attributes"]["name"] for p in emu.list_all("/products", as_user="demo-collab")]
    assert names == ["Greenhouse Monitor"]
    assert len(devices(emu, as_user="demo-collab")) == 2


def test_demo_simulation_config(demo):
    status = demo.control("GET", "")
    assert status["seed"] == "demo"
    assert status["counts"]["accounts"] == 3
    assert status["counts"]["products"] == 6
    assert status["counts"]["devicegroups"] == 13


# -- fleet ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [10, 1500])
def test_fleet_shape(emu, n):
    res = reset(emu, seed="fleet", devices=n)
    p = max(1, math.ceil(n / 1000))
    assert res["counts"]["devices"] == n
    products = emu.list_all("/products")
    assert len(products) == p
    groups = emu.list_all("/devicegroups")
    assert len(groups) == 5 * p
    assert {g["type"] for g in groups} == {"development_devicegroup"}
    assert len(emu.list_all("/deployments")) == 5 * p
    devs = devices(emu)
    assert len(devs) == n
    un = [d for d in devs if "devicegroup" not in d["relationships"]]
    assert len(un) <= max(1, math.ceil(n * 0.05))
    online = sum(d["attributes"]["device_online"] for d in devs)
    if n >= 1000:
        assert 0.8 * n <= online <= 0.97 * n
        assert len({d["attributes"]["imp_type"] for d in devs}) > 1
    assert emu.list_all("/products", as_user="demo-collab") == []


def test_fleet_overrides_and_determinism(emu):
    a = reset(emu, seed="fleet", devices=40, products=2, groups=4, random_seed=7)
    ids_a = [d["id"] for d in devices(emu)]
    assert a["counts"]["products"] == 2 and a["counts"]["devicegroups"] == 4
    reset(emu, seed="fleet", devices=40, products=2, groups=4, random_seed=7)
    assert [d["id"] for d in devices(emu)] == ids_a
    reset(emu, seed="fleet", devices=40, products=2, groups=4, random_seed=8)
    assert [d["id"] for d in devices(emu)] != ids_a


def test_fleet_has_no_history(emu):
    reset(emu, seed="fleet", devices=5)
    assert emu.control("GET", "")["counts"]["log_entries"] == 0


def test_demo_history_content(demo):
    emu = demo
    ws = by_name(emu.list_all("/devicegroups"), "WS Dev")
    types: set[str] = set()
    error_seq = False
    for dev in group_devices(emu, ws["id"]):
        entries = list(reversed(history(emu, dev["id"])))
        types |= {e["type"] for e in entries}
        for a, b in itertools.pairwise(entries):
            if a["msg"].startswith("ERROR: ") and re.match(
                r"^ERROR:   at \S+ (device_code|agent_code):\d+$", b["msg"]
            ):
                error_seq = True
        ts = [e["ts"] for e in entries]
        assert ts == sorted(ts)
    assert {"device.log", "agent.log", "status"} <= types
    assert error_seq


def test_demo_deployment_code_compiles(demo):
    emu = demo
    target = emu.post(
        "/devicegroups",
        json={
            "data": {
                "type": "development_devicegroup",
                "attributes": {"name": "compile check"},
                "relationships": {
                    "product": {
                        "type": "product",
                        "id": by_name(emu.list_all("/products"), "Sandbox")["id"],
                    }
                },
            }
        },
    ).json()["data"]
    for d in emu.list_all("/deployments")[:10]:
        resp = emu.post(
            "/deployments",
            json={
                "data": {
                    "type": "deployment",
                    "attributes": {
                        "device_code": d["attributes"]["device_code"],
                        "agent_code": d["attributes"]["agent_code"],
                    },
                    "relationships": {"devicegroup": {"type": target["type"], "id": target["id"]}},
                }
            },
        )
        assert resp.status_code == 201, resp.text
