"""Implementation tests for /devicegroups and /devices (§3.3, §3.4) on a state built here.

Independent of the seeds and the control surface: the state starts from the `empty` seed, groups
and products are created through the API, devices are enrolled directly in the store.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

import pytest

from impdesk.emulator import life
from impdesk.emulator.model import Device, Webhook
from impdesk.emulator.seeds import DEMO_PASSWORD
from impdesk.emulator.totp import totp

PAIRS = {
    "factoryfixture_devicegroup": ("production_devicegroup", "dut_devicegroup"),
    "pre_factoryfixture_devicegroup": ("pre_production_devicegroup", "pre_dut_devicegroup"),
}
GROUP_TYPES = [
    "development_devicegroup", "pre_factoryfixture_devicegroup", "pre_dut_devicegroup",
    "pre_production_devicegroup", "factoryfixture_devicegroup", "dut_devicegroup",
    "production_devicegroup",
]
UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"
UNKNOWN_DEV = "00000000000000aa"


class World:
    """The emulator reset to `empty`, with helpers that talk HTTP as one of the seed accounts."""

    def __init__(self, emu) -> None:
        self.emu = emu
        self.app = emu.server.emulator
        self.store = self.app.store
        emu.server.reset(seed="empty", config={"rate_limit": {"limit": 0, "window_s": 1},
                                               "simulation": {"restart_delay_s": 0}})
        self.tokens: dict[str, str] = {}
        self.counter = 0

    # -- HTTP --------------------------------------------------------------------------------
    def token(self, user: str) -> str:
        if user not in self.tokens:
            resp = self.emu.http.post(self.emu.base + "/auth",
                                      json={"id": user, "password": DEMO_PASSWORD}, timeout=30)
            if resp.status_code == 403:  # demo-2fa: second step with a one-time password
                acct = self.account(user)
                otp = totp(acct.totp_secret, for_time=self.store.clock.now())
                resp = self.emu.http.post(
                    self.emu.base + "/auth", headers={"X-Electricimp-OTP-Token": otp},
                    json={"login_token": resp.json()["errors"][0]["meta"]["login_token"]},
                    timeout=30)
            assert resp.status_code == 200, resp.text
            self.tokens[user] = resp.json()["access_token"]
        return self.tokens[user]

    def call(self, method: str, path: str, user: str = "demo", **kw: Any):
        return self.emu.request(method, path, token=self.token(user), **kw)

    def ok(self, resp, status: int = 200) -> Any:
        assert resp.status_code == status, resp.text
        return resp.json()["data"] if status != 204 else None

    def error(self, resp, code: str, status: int | None = None) -> dict:
        doc = resp.json()
        assert len(doc["errors"]) == 1, doc
        err = doc["errors"][0]
        assert err["code"] == code, doc
        assert resp.status_code == int(err["status"]), doc
        if status is not None:
            assert resp.status_code == status
        return err

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def product(self, user: str = "demo") -> dict:
        body = {"data": {"type": "product", "attributes": {"name": self.name("P")}}}
        return self.ok(self.call("POST", "/products", user, json=body), 201)

    def group_body(self, product_id: str, gtype: str = "development_devicegroup",
                   rels: dict | None = None, **attrs: Any) -> dict:
        attrs.setdefault("name", self.name("G"))
        relationships = {"product": {"type": "product", "id": product_id}, **(rels or {})}
        return {"data": {"type": gtype, "attributes": attrs, "relationships": relationships}}

    def group(self, product_id: str, gtype: str = "development_devicegroup",
              user: str = "demo", **attrs: Any) -> dict:
        rels = None
        if gtype in PAIRS:
            rels = self.targets(product_id, gtype, user)
        body = self.group_body(product_id, gtype, rels, **attrs)
        return self.ok(self.call("POST", "/devicegroups", user, json=body), 201)

    def targets(self, product_id: str, fixture_type: str, user: str = "demo") -> dict:
        prod_t, dut_t = PAIRS[fixture_type]
        prod = self.group(product_id, prod_t, user)
        dut = self.group(product_id, dut_t, user)
        return {"production_target": ident(prod), "dut_target": ident(dut)}

    def deploy(self, group: dict, code: str = "", **attrs: Any) -> dict:
        body = {"data": {"type": "deployment",
                         "attributes": {"device_code": code, "agent_code": "", **attrs},
                         "relationships": {"devicegroup": ident(group)}}}
        return self.ok(self.call("POST", "/deployments", json=body), 201)

    def assign(self, gid: str, *ids: str, user: str = "demo", headers: dict | None = None):
        body = {"data": [{"type": "device", "id": i} for i in ids]}
        return self.call("POST", f"/devicegroups/{gid}/relationships/devices", user, json=body,
                         headers=headers)

    def unassign(self, gid: str, *ids: str, user: str = "demo", headers: dict | None = None):
        body = {"data": [{"type": "device", "id": i} for i in ids]}
        return self.call("DELETE", f"/devicegroups/{gid}/relationships/devices", user, json=body,
                         headers=headers)

    def get_device(self, ident_: str, user: str = "demo") -> dict:
        return self.ok(self.call("GET", f"/devices/{ident_}", user))

    # -- direct store access (no control surface needed) ---------------------------------------
    def account(self, user: str):
        return self.store.account_by_username(user)

    def device(self, owner: str = "demo", imp_type: str = "imp004m", online: bool = True,
               group: dict | None = None) -> Device:
        """Enrol a device (and, for factory types, put it straight into `group`)."""
        s = self.store
        with s.lock:
            now = s.clock.now()
            dev = Device(id=s.new_device_id(), owner_id=self.account(owner).id,
                         mac_address=s.new_mac(), agent_id=s.new_agent_id(), imp_type=imp_type,
                         joined_seq=s.next_seq(), device_online=online,
                         device_state_changed_at=now, last_enrolled_at=now,
                         ip_address=s.new_ip() if online else None)
            s.add_device(dev)
            if group is not None:
                dev.group_id = group["id"]
                dev.agent_state_changed_at = now
                s.touch()
        return dev

    def log(self, dev: Device, msg: str, type_: str = "device.log") -> None:
        with self.store.lock:
            life.append_log(self.store, dev, type_, msg)

    def status_lines(self, dev: Device) -> list[str]:
        with self.store.lock:
            return [e.msg for e in dev.logs if e.type == "status"]

    def advance(self, seconds: float) -> None:
        self.store.clock.advance(seconds)


def ident(res: dict) -> dict:
    return {"type": res["type"], "id": res["id"]}


@pytest.fixture
def w(emu) -> World:
    return World(emu)


@pytest.fixture
def pid(w) -> str:
    return w.product()["id"]


# == device groups: create ===================================================================


@pytest.mark.parametrize("gtype", GROUP_TYPES)
def test_create_every_type(w, pid, gtype):
    g = w.group(pid, gtype, description="d")
    assert g["type"] == gtype
    attrs = g["attributes"]
    expected = {"name", "description", "region", "env_vars", "created_at", "updated_at"}
    if gtype in ("production_devicegroup", "pre_production_devicegroup"):
        expected.add("load_code_after_blessing")
        assert attrs["load_code_after_blessing"] is True
    assert set(attrs) == expected
    assert attrs["region"] is None and attrs["env_vars"] == {} and attrs["description"] == "d"
    rels = g["relationships"]
    demo = w.account("demo").id
    assert rels["product"] == {"type": "product", "id": pid}
    assert rels["owner"] == rels["creator"] == {"type": "account", "id": demo}
    assert ("production_target" in rels) == (gtype in PAIRS)
    if gtype in PAIRS:
        assert rels["production_target"]["type"] == PAIRS[gtype][0]
        assert rels["dut_target"]["type"] == PAIRS[gtype][1]
    assert w.ok(w.call("GET", f"/devicegroups/{g['id']}")) == g


def test_region_and_load_code(w, pid):
    g = w.group(pid, "production_devicegroup", region="eu", load_code_after_blessing=False)
    assert (g["attributes"]["region"], g["attributes"]["load_code_after_blessing"]) == ("eu",
                                                                                      False)
    for bad in ("", "r" * 65, 5):
        body = w.group_body(pid, "pre_production_devicegroup", region=bad)
        w.error(w.call("POST", "/devicegroups", json=body), "VX104")
    body = w.group_body(pid, "production_devicegroup", load_code_after_blessing="yes")
    w.error(w.call("POST", "/devicegroups", json=body), "VX104")
    for attr in ({"region": "eu"}, {"load_code_after_blessing": True}):
        body = w.group_body(pid, "dut_devicegroup", **attr)
        w.error(w.call("POST", "/devicegroups", json=body), "VX104")
    # null region is the value every group has: accepted on any type at creation
    assert w.group(pid, region=None)["attributes"]["region"] is None


@pytest.mark.parametrize("env", [
    {"A": "1", "dataSourceAPIVersion": 1, "f": 1.5, "neg": -3, "e": "", "u": "h\u00e9llo"},
    {"K" + "a" * 63: "x"},
    {},
])
def test_env_vars_round_trip(w, pid, env):
    g = w.group(pid, env_vars=env)
    got = w.ok(w.call("GET", f"/devicegroups/{g['id']}"))
    assert json.dumps(got["attributes"]["env_vars"]) == json.dumps(env)


@pytest.mark.parametrize("env", [
    {"1a": "x"}, {"_a": "x"}, {"a-b": "x"}, {"": "x"}, {"K" + "a" * 64: "x"}, {"a\n": "x"},
    {"a": True}, {"a": None}, {"a": [1]}, {"a": {}}, ["a"], "a=1", 5,
    {"big": "x" * (16 * 1024)},
])
def test_env_vars_invalid(w, pid, env):
    w.error(w.call("POST", "/devicegroups", json=w.group_body(pid, env_vars=env)), "VX112")


def test_env_vars_size_boundary_and_nan(w, pid):
    env = {"a": "x" * (16 * 1024 - len('{"a":""}'))}
    assert w.group(pid, env_vars=env)["attributes"]["env_vars"] == env
    raw = json.dumps(w.group_body(pid)).replace('"attributes": {', '"attributes": '
                                                '{"env_vars": {"a": NaN}, ')
    resp = w.call("POST", "/devicegroups", data=raw)
    w.error(resp, "VX112")
    assert w.group(pid, env_vars=None)["attributes"]["env_vars"] == {}


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda d: d["data"].update(type="devicegroup"), "VX102"),
    (lambda d: d["data"].pop("type"), "VX101"),
    (lambda d: d["data"]["relationships"].pop("product"), "VX107"),
    (lambda d: d["data"]["relationships"].update(product={"type": "account", "id": "x"}),
     "VX107"),
    (lambda d: d["data"]["attributes"].pop("name"), "VX103"),
    (lambda d: d["data"]["attributes"].update(name=" "), "VX105"),
    (lambda d: d["data"]["attributes"].update(name="n" * 81), "VX105"),
    (lambda d: d["data"]["attributes"].update(description="d" * 256), "VX106"),
    (lambda d: d["data"]["attributes"].update(created_at="x"), "VX104"),
    (lambda d: d["data"]["relationships"].update(owner={"type": "account", "id": "x"}),
     "VX107"),
    (lambda d: d["data"]["relationships"].update(
        production_target={"type": "production_devicegroup", "id": "x"}), "VX107"),
])
def test_create_validation(w, pid, mutate, code):
    doc = w.group_body(pid)
    mutate(doc)
    w.error(w.call("POST", "/devicegroups", json=doc), code)
    assert w.store.groups == {}


def test_create_precedence(w, pid):
    # validation (VX103) before the unknown product (NF101)
    doc = w.group_body(UNKNOWN_UUID)
    del doc["data"]["attributes"]["name"]
    w.error(w.call("POST", "/devicegroups", json=doc), "VX103")
    w.error(w.call("POST", "/devicegroups", json=w.group_body(UNKNOWN_UUID)), "NF101")
    # a product of another account is invisible
    w.error(w.call("POST", "/devicegroups", "demo-2fa", json=w.group_body(pid)), "NF101")
    # env_vars (VX112) before targets (VX107)
    doc = w.group_body(pid, "factoryfixture_devicegroup", env_vars={"1": 1})
    w.error(w.call("POST", "/devicegroups", json=doc), "VX112")
    # PX300 (non-commercial owner) before CX101 (duplicate name)
    other = w.product("demo-2fa")["id"]
    dev = w.group(other, user="demo-2fa")
    doc = w.group_body(other, "production_devicegroup", name=dev["attributes"]["name"])
    w.error(w.call("POST", "/devicegroups", "demo-2fa", json=doc), "PX300")
    doc = w.group_body(other, name=dev["attributes"]["name"])
    w.error(w.call("POST", "/devicegroups", "demo-2fa", json=doc), "CX101")


def test_targets_in_other_product_before_px300(w, pid):
    other = w.product("demo-2fa")["id"]
    prod = w.group(pid, "production_devicegroup")
    dut = w.group(pid, "dut_devicegroup")
    # demo-2fa cannot see demo's groups at all: NF101 (its own product is non-commercial)
    rels = {"production_target": ident(prod), "dut_target": ident(dut)}
    doc = w.group_body(other, "factoryfixture_devicegroup", rels)
    w.error(w.call("POST", "/devicegroups", "demo-2fa", json=doc), "NF101")
    # a commercial account's fixture whose targets are in another product: VX107
    second = w.product()["id"]
    doc = w.group_body(second, "factoryfixture_devicegroup", rels)
    w.error(w.call("POST", "/devicegroups", json=doc), "VX107")


@pytest.mark.parametrize("fixture", list(PAIRS))
def test_fixture_target_pairing(w, pid, fixture):
    good = w.targets(pid, fixture)
    other = w.targets(pid, next(f for f in PAIRS if f != fixture))
    dev = ident(w.group(pid))
    cases = [
        {},
        {"production_target": good["production_target"]},
        {"production_target": good["dut_target"], "dut_target": good["production_target"]},
        {"production_target": other["production_target"], "dut_target": good["dut_target"]},
        {"production_target": good["production_target"], "dut_target": other["dut_target"]},
        {"production_target": dev, "dut_target": good["dut_target"]},
        {"production_target": {"type": "devicegroup", "id": dev["id"]},
         "dut_target": good["dut_target"]},
        {"production_target": "x", "dut_target": good["dut_target"]},
    ]
    for rels in cases:
        resp = w.call("POST", "/devicegroups", json=w.group_body(pid, fixture, rels))
        w.error(resp, "VX107")
    unknown = {"type": PAIRS[fixture][0], "id": UNKNOWN_UUID}
    resp = w.call("POST", "/devicegroups", json=w.group_body(
        pid, fixture, {"production_target": unknown, "dut_target": good["dut_target"]}))
    w.error(resp, "NF101")
    # not a group type at all: VX102 (§1.5.3)
    product_ident = {"type": "product", "id": good["dut_target"]["id"]}
    resp = w.call("POST", "/devicegroups", json=w.group_body(
        pid, fixture, {"production_target": good["production_target"],
                       "dut_target": product_ident}))
    w.error(resp, "VX102")
    generic = {k: {"data": {"type": "devicegroup", "id": v["id"]}} for k, v in good.items()}
    g = w.ok(w.call("POST", "/devicegroups", json=w.group_body(pid, fixture, generic)), 201)
    assert g["relationships"]["production_target"] == good["production_target"]
    assert g["relationships"]["dut_target"] == good["dut_target"]


def test_non_commercial_owner_px300_and_wrapped_product(w):
    other = w.product("demo-2fa")["id"]
    for gtype in GROUP_TYPES[1:]:
        if gtype in PAIRS:
            continue
        doc = w.group_body(other, gtype)
        w.error(w.call("POST", "/devicegroups", "demo-2fa", json=doc), "PX300", 403)
    doc = w.group_body(other)
    doc["data"]["relationships"]["product"] = {"data": {"type": "product", "id": other}}
    w.ok(w.call("POST", "/devicegroups", "demo-2fa", json=doc), 201)


# == device groups: list, get, patch ===========================================================


def test_list_filters_and_order(w, pid):
    other = w.product()["id"]
    groups = [w.group(pid), w.group(other, "production_devicegroup"),
              w.group(pid, "dut_devicegroup")]
    groups_by_type = {"prod": groups[1]["id"]}
    w.group(w.product("demo-2fa")["id"], user="demo-2fa")

    def listed(**flt: str) -> list[str]:
        params = {f"filter[{k}]": v for k, v in flt.items()}
        return [g["id"] for g in w.emu.list_all("/devicegroups", params=params,
                                                 token=w.token("demo"))]

    # §5.5: created_at, then id (groups made within one millisecond tie on created_at).
    groups.sort(key=lambda g: (g["attributes"]["created_at"], g["id"]))
    assert listed() == [g["id"] for g in groups]
    assert listed(**{"product.id": pid.upper()}) == [g["id"] for g in groups
                                                      if g["id"] != groups_by_type["prod"]]
    assert listed(type="production_devicegroup") == [groups_by_type["prod"]]
    assert listed(**{"owner.id": "me"}) == listed()
    assert listed(**{"owner.id": w.account("demo-2fa").id}) == []
    for params in ({"filter[type]": "devicegroup"}, {"filter[type]": ""},
                   {"filter[devicegroup.id]": "x"}):
        w.error(w.call("GET", "/devicegroups", params=params), "VX108")
    doc = w.call("GET", "/devicegroups", params={"page[size]": 2,
                                                  "filter[product.id]": pid}).json()
    assert doc["links"]["self"].endswith(
        f"/v5/devicegroups?filter[product.id]={pid}&page[number]=1&page[size]=2")


def test_get_unknown_and_invisible(w, pid):
    g = w.group(pid)
    w.error(w.call("GET", f"/devicegroups/{UNKNOWN_UUID}"), "NF100")
    w.error(w.call("GET", f"/devicegroups/{g['id']}", "demo-2fa"), "NF100")
    assert w.ok(w.call("GET", f"/devicegroups/{g['id'].upper()}"))["id"] == g["id"]


def patch(w, g, type_=None, attributes=None, relationships=None, id_=True, user="demo"):
    data: dict[str, Any] = {"type": type_ or g["type"]}
    if id_:
        data["id"] = g["id"] if id_ is True else id_
    if attributes is not None:
        data["attributes"] = attributes
    if relationships is not None:
        data["relationships"] = relationships
    return w.call("PATCH", f"/devicegroups/{g['id']}", user, json={"data": data})


def test_patch_changes_and_updated_at(w, pid):
    g = w.group(pid, "production_devicegroup", env_vars={"A": "1"})
    w.advance(2)
    got = w.ok(patch(w, g, attributes={"name": "v2", "description": None,
                                       "load_code_after_blessing": False,
                                       "env_vars": {"B": 2}}))
    assert got["attributes"]["name"] == "v2"
    assert got["attributes"]["load_code_after_blessing"] is False
    assert got["attributes"]["env_vars"] == {"B": 2}
    assert got["attributes"]["updated_at"] > g["attributes"]["updated_at"]
    w.advance(2)
    # a no-op (generic type, same values) keeps updated_at
    same = w.ok(patch(w, got, type_="devicegroup", attributes={"name": "v2", "env_vars": {"B": 2}}))
    assert same == got
    got = w.ok(patch(w, got, id_=g["id"].upper(), attributes={"env_vars": None}))
    assert got["attributes"]["env_vars"] == {}


@pytest.mark.parametrize(("gtype", "attrs", "rels", "code"), [
    ("production_devicegroup", {"region": "eu"}, None, "VX104"),
    ("development_devicegroup", {"region": None}, None, "VX104"),
    ("development_devicegroup", {"load_code_after_blessing": True}, None, "VX104"),
    ("production_devicegroup", {"load_code_after_blessing": None}, None, "VX104"),
    ("development_devicegroup", {"name": ""}, None, "VX105"),
    ("development_devicegroup", {"name": None}, None, "VX104"),
    ("development_devicegroup", {"description": "d" * 256}, None, "VX106"),
    ("development_devicegroup", {"env_vars": {"a": False}}, None, "VX112"),
    ("development_devicegroup", {"created_at": "x"}, None, "VX104"),
    ("development_devicegroup", None, {"product": {"type": "product", "id": "x"}}, "VX107"),
    ("development_devicegroup", None, {"min_supported_deployment": {"type": "deployment",
                                                                     "id": "x"}}, "VX107"),
    ("dut_devicegroup", None, {"dut_target": {"type": "dut_devicegroup", "id": "x"}}, "VX107"),
])
def test_patch_invalid(w, pid, gtype, attrs, rels, code):
    g = w.group(pid, gtype)
    w.error(patch(w, g, attributes=attrs, relationships=rels), code)
    assert w.ok(w.call("GET", f"/devicegroups/{g['id']}")) == g


def test_patch_type_id_and_duplicates(w, pid):
    g = w.group(pid, "production_devicegroup")
    other = w.group(pid)
    for wrong in ("development_devicegroup", "product", "device"):
        w.error(patch(w, g, type_=wrong, attributes={"name": "x"}), "VX102")
    w.error(patch(w, g, id_=other["id"], attributes={"name": "x"}), "VX101")
    w.error(patch(w, g, attributes={"name": other["attributes"]["name"]}), "CX101")
    # the unknown group wins over a type that is only wrong for that group
    resp = w.call("PATCH", f"/devicegroups/{UNKNOWN_UUID}",
                  json={"data": {"type": "dut_devicegroup", "attributes": {}}})
    w.error(resp, "NF100")
    w.error(patch(w, g, attributes={"name": "x"}, user="demo-2fa"), "NF100")


def test_patch_fixture_targets(w, pid):
    t1 = w.targets(pid, "factoryfixture_devicegroup")
    t2 = w.targets(pid, "factoryfixture_devicegroup")
    fx = w.ok(w.call("POST", "/devicegroups",
                     json=w.group_body(pid, "factoryfixture_devicegroup", t1)), 201)
    w.advance(2)
    got = w.ok(patch(w, fx, relationships={"production_target": t2["production_target"]}))
    assert got["relationships"]["production_target"] == t2["production_target"]
    assert got["relationships"]["dut_target"] == t1["dut_target"]
    assert got["attributes"]["updated_at"] > fx["attributes"]["updated_at"]
    w.error(patch(w, fx, relationships={"dut_target": t2["production_target"]}), "VX107")
    foreign = w.targets(w.product()["id"], "factoryfixture_devicegroup")
    w.error(patch(w, fx, relationships={"dut_target": foreign["dut_target"]}), "VX107")
    w.error(patch(w, fx, relationships={"dut_target": {"type": "dut_devicegroup",
                                                       "id": UNKNOWN_UUID}}), "NF101")


# == device groups: delete, restart ============================================================


def test_delete_rules_in_order(w, pid):
    t = w.targets(pid, "factoryfixture_devicegroup")
    fx = w.ok(w.call("POST", "/devicegroups",
                     json=w.group_body(pid, "factoryfixture_devicegroup", t)), 201)
    prod = w.ok(w.call("GET", f"/devicegroups/{t['production_target']['id']}"))
    w.deploy(prod, flagged=True)
    dev = w.device(group=prod)
    w.error(w.call("DELETE", f"/devicegroups/{prod['id']}"), "CX103", 409)
    with w.store.lock:
        life.unassign(w.store, dev)
    w.error(w.call("DELETE", f"/devicegroups/{prod['id']}"), "CX104", 409)
    w.ok(w.call("DELETE", f"/devicegroups/{fx['id']}"), 204)
    err = w.error(w.call("DELETE", f"/devicegroups/{prod['id']}"), "CX105", 409)
    assert err["detail"] == ("You cannot delete a devicegroup with flagged deployments; set the "
                             "flagged attribute to false and try again.")
    w.error(w.call("DELETE", f"/devicegroups/{UNKNOWN_UUID}"), "NF100")


def test_delete_removes_deployments_and_webhooks(w, pid):
    g = w.group(pid)
    deps = [w.deploy(g), w.deploy(g)]
    keep = w.deploy(w.group(pid))
    with w.store.lock:
        now = w.store.clock.now()
        w.store.webhooks["w1"] = Webhook("w1", g["id"], "https://example.com/h", "deployment",
                                         "application/json", now, now)
    w.ok(w.call("DELETE", f"/devicegroups/{g['id']}"), 204)
    for d in deps:
        w.error(w.call("GET", f"/deployments/{d['id']}"), "NF100")
    assert "w1" not in w.store.webhooks
    assert keep["id"] in w.store.deployments
    w.error(w.call("GET", f"/devicegroups/{g['id']}"), "NF100")
    assert w.emu.list_all("/devicegroups", token=w.token("demo"))[0]["id"] != g["id"]


def test_group_restart_and_conditional_restart(w, pid):
    g = w.group(pid)
    on = w.device(group=g)
    off = w.device(group=g, online=False)
    outside = w.device()
    w.ok(w.call("POST", f"/devicegroups/{g['id']}/restart"), 204)
    assert w.status_lines(on) == ["Device restarting", "Agent restarted: reload.",
                                  "Device connected"]
    assert w.status_lines(off) == [] and off.restart_pending
    assert w.status_lines(outside) == []
    w.deploy(g, "x();")
    w.ok(w.call("POST", f"/devicegroups/{g['id']}/conditional_restart"), 204)
    lines = w.status_lines(on)[3:]
    assert lines[0] == "Device restarting" and lines[2].startswith("Downloading new code; ")
    n = len(w.status_lines(on))
    w.ok(w.call("POST", f"/devicegroups/{g['id']}/conditional_restart"), 204)
    assert len(w.status_lines(on)) == n  # already runs the current deployment
    empty = w.group(pid)
    w.ok(w.call("POST", f"/devicegroups/{empty['id']}/restart", data=b"null"), 204)
    w.error(w.call("POST", f"/devicegroups/{UNKNOWN_UUID}/restart"), "NF100")


# == assign / unassign =========================================================================


def test_assign_move_noop_and_duplicates(w, pid):
    g1, g2 = w.group(pid), w.group(w.product()["id"])
    dev = w.device()
    w.ok(w.assign(g1["id"], dev.id, dev.mac_address.upper(), dev.id), 204)
    got = w.get_device(dev.id)
    assert got["relationships"]["devicegroup"] == ident(g1)
    assert got["relationships"]["product"] == {"type": "product", "id": pid}
    assert got["attributes"]["agent_id"] == dev.agent_id
    assert w.status_lines(dev).count("Device restarting") == 1  # processed once
    w.ok(w.assign(g1["id"], dev.agent_id), 204)  # already there: no effect
    assert w.get_device(dev.id) == got
    w.ok(w.call("POST", f"/devicegroups/{g2['id']}/relationships/devices",
                json={"data": {"type": "device", "id": dev.agent_id}}), 204)
    assert w.get_device(dev.id)["relationships"]["devicegroup"] == ident(g2)


def test_assign_per_device_errors(w, pid):
    fx = w.group(pid, "factoryfixture_devicegroup")
    imp001 = w.device(imp_type="imp001")
    good = w.device()
    invisible = w.device(owner="demo-2fa")
    resp = w.assign(fx["id"], imp001.id, UNKNOWN_DEV, good.mac_address, invisible.id,
                    UNKNOWN_DEV, "not-an-agent")
    assert resp.status_code == 400, resp.text
    errors = resp.json()["errors"]
    assert [(e["code"], e["status"], e["meta"]) for e in errors] == [
        ("CX112", "409", {"type": "device", "id": imp001.id}),
        ("NF100", "404", {"type": "device", "id": UNKNOWN_DEV}),
        ("NF100", "404", {"type": "device", "id": invisible.id}),
        ("NF100", "404", {"type": "device", "id": "not-an-agent"}),
    ]
    assert errors[0]["title"] == "Unsupported Device"
    assert errors[1]["detail"] == f"The device '{UNKNOWN_DEV}' was not found."
    assert good.group_id == fx["id"]


def test_assign_factory_rules(w, pid):
    dut = w.group(pid, "dut_devicegroup")
    prod = w.group(pid, "production_devicegroup")
    sibling = w.group(pid, "production_devicegroup")
    pre = w.group(pid, "pre_production_devicegroup")
    foreign = w.group(w.product()["id"], "production_devicegroup")
    dev_group = w.group(pid)
    plain = w.device()
    blessed = w.device(group=prod)

    def codes(resp) -> list[str]:
        assert resp.status_code == 400, resp.text
        return [e["code"] for e in resp.json()["errors"]]

    assert codes(w.assign(dut["id"], plain.id)) == ["CX110"]
    assert codes(w.assign(prod["id"], plain.id)) == ["CX110"]
    assert codes(w.assign(pre["id"], blessed.id)) == ["CX110"]
    assert codes(w.assign(foreign["id"], blessed.id)) == ["CX110"]
    assert codes(w.assign(dev_group["id"], blessed.id)) == ["CX111"]
    assert codes(w.assign(dut["id"], blessed.id)) == ["CX110"]
    w.ok(w.assign(prod["id"], blessed.id), 204)  # already there
    w.ok(w.assign(sibling["id"], blessed.id), 204)
    assert blessed.group_id == sibling["id"]
    w.error(w.call("DELETE", f"/devices/{blessed.id}"), "CX109")


@pytest.mark.parametrize(("body", "code"), [
    ({"data": []}, "VX101"), ({"data": None}, "VX101"), ({}, "VX101"), (None, "VX101"),
    ({"data": [{"type": "device"}]}, "VX101"),
    ({"data": [{"type": "product", "id": "x"}]}, "VX102"),
])
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_identifier_documents(w, body, code, method):
    # the document is checked before the group of the path (unknown here)
    resp = w.call(method, f"/devicegroups/{UNKNOWN_UUID}/relationships/devices", json=body)
    w.error(resp, code)


def test_assign_over_100(w, pid):
    g = w.group(pid)
    w.error(w.assign(g["id"], *[f"{i:016x}" for i in range(101)]), "VX101")
    resp = w.assign(g["id"], *[f"{i:016x}" for i in range(100)])
    assert len(resp.json()["errors"]) == 100


def test_unassign(w, pid):
    g = w.group(pid)
    inside, outside = w.device(group=g), w.device()
    resp = w.unassign(g["id"], outside.id, UNKNOWN_DEV, inside.mac_address, inside.id)
    assert resp.status_code == 400
    assert [(e["code"], e["status"], e["meta"]["id"]) for e in resp.json()["errors"]] == [
        ("NF104", "404", outside.id), ("NF100", "404", UNKNOWN_DEV)]
    got = w.get_device(inside.id)
    assert set(got["relationships"]) == {"owner"}
    assert got["attributes"]["agent_id"] is None and got["attributes"]["agent_running"] is False
    assert w.status_lines(inside) == []
    w.ok(w.assign(g["id"], inside.id), 204)
    assert w.get_device(inside.id)["attributes"]["agent_id"] == inside.agent_id


def test_unassign_production_unbond_key(w, pid):
    prod = w.group(pid, "production_devicegroup")
    pre = w.group(pid, "pre_production_devicegroup")
    d1, d2 = w.device(group=prod), w.device(group=pre)
    for headers in ({}, {"X-Electricimp-Key": "wrong"},
                    {"X-Electricimp-Key": w.account("demo-collab").unbond_key}):
        w.error(w.unassign(prod["id"], d1.id, UNKNOWN_DEV, headers=headers), "PX301", 403)
        assert d1.group_id == prod["id"]
    # the body is checked before the key
    resp = w.call("DELETE", f"/devicegroups/{prod['id']}/relationships/devices",
                  json={"data": "x"})
    w.error(resp, "VX101")
    key = {"X-Electricimp-Key": w.account("demo").unbond_key}
    w.ok(w.unassign(prod["id"], d1.id, headers=key), 204)
    assert d1.group_id is None
    w.ok(w.unassign(pre["id"], d2.id), 204)  # no key for pre-production
    w.ok(w.call("DELETE", f"/devices/{d1.id}"), 204)  # an ordinary device again


def test_unbond_key_is_product_owners_for_collaborator(w):
    # demo-collab collaborates on a product owned by the commercial demo account
    p = w.product()
    with w.store.lock:
        w.store.products[p["id"]].collaborators.add(w.account("demo-collab").id)
    prod = w.group(p["id"], "production_devicegroup")
    dev = w.device(group=prod)
    own_key = {"X-Electricimp-Key": w.account("demo-collab").unbond_key}
    w.error(w.unassign(prod["id"], dev.id, user="demo-collab", headers=own_key), "PX301")
    owner_key = {"X-Electricimp-Key": w.account("demo").unbond_key}
    w.ok(w.unassign(prod["id"], dev.id, user="demo-collab", headers=owner_key), 204)


# == min_supported_deployment ==================================================================


def test_min_supported_deployment(w, pid):
    g, other = w.group(pid), w.group(pid)
    d1, d2, d3 = w.deploy(g), w.deploy(g), w.deploy(g)
    foreign = w.deploy(other)
    path = f"/devicegroups/{g['id']}/relationships/min_supported_deployment"

    def put(dep_id: str, type_: str = "deployment", user: str = "demo"):
        return w.call("PUT", path, user, json={"data": {"type": type_, "id": dep_id}})

    w.advance(2)
    got = w.ok(put(d2["id"]))
    assert got["id"] == d2["id"] and got["type"] == "deployment"
    grp = w.ok(w.call("GET", f"/devicegroups/{g['id']}"))
    assert grp["relationships"]["min_supported_deployment"] == {"type": "deployment",
                                                                "id": d2["id"]}
    assert grp["attributes"]["updated_at"] > g["attributes"]["updated_at"]
    w.advance(2)
    w.ok(put(d2["id"]))  # the same again: no change
    assert w.ok(w.call("GET", f"/devicegroups/{g['id']}")) == grp
    w.error(put(d1["id"]), "CX113", 409)
    w.error(put(foreign["id"]), "CX114", 409)
    w.error(put(UNKNOWN_UUID), "NF101", 404)
    w.error(put(d3["id"], "devicegroup"), "VX102")
    w.error(w.call("PUT", path, json={"data": {"type": "deployment"}}), "VX101")
    w.error(w.call("PUT", path, json={"data": [ident(d3)]}), "VX101")
    w.error(w.call("PUT", path), "VX101")
    w.error(put(d3["id"], user="demo-2fa"), "NF100")
    w.ok(put(d3["id"]))
    assert w.store.groups[g["id"]].min_supported_deployment_id == d3["id"]


# == devices ===================================================================================


def test_device_list_filters_and_order(w, pid):
    g = w.group(pid)
    prod = w.group(pid, "production_devicegroup")
    collab_p = w.product("demo-collab")
    with w.store.lock:
        w.store.products[collab_p["id"]].collaborators.add(w.account("demo").id)
    cg = w.group(collab_p["id"], user="demo-collab")
    a = w.device(group=g)
    b = w.device()
    c = w.device(group=prod)
    d = w.device(owner="demo-collab", group=cg)
    w.device(owner="demo-2fa")  # invisible

    def listed(**flt: str) -> list[str]:
        params = {f"filter[{k}]": v for k, v in flt.items()}
        return [x["id"] for x in w.emu.list_all("/devices", params=params,
                                                 token=w.token("demo"))]

    assert listed() == [a.id, b.id, c.id, d.id]
    assert listed(**{"owner.id": "me"}) == [a.id, b.id, c.id]
    assert listed(**{"owner.id": w.account("demo-collab").id.upper()}) == [d.id]
    assert listed(**{"product.id": pid}) == [a.id, c.id]
    assert listed(**{"devicegroup.id": g["id"]}) == [a.id]
    assert listed(**{"devicegroup.owner.id": "null"}) == [b.id]
    assert listed(**{"devicegroup.owner.id": "me"}) == [a.id, c.id]
    assert listed(**{"devicegroup.owner.id": w.account("demo-collab").id}) == [d.id]
    assert listed(**{"devicegroup.type": "production_devicegroup"}) == [c.id]
    assert listed(**{"devicegroup.type": "development_devicegroup", "owner.id": "me"}) == [a.id]
    assert listed(**{"devicegroup.id": UNKNOWN_UUID}) == []
    for params in ({"filter[devicegroup.type]": "devicegroup"}, {"filter[owner.id]": ""},
                   {"filter[type]": "x"}, {"filter[device_online]": "true"}):
        w.error(w.call("GET", "/devices", params=params), "VX108")
    # moving changes membership of the cached views
    w.ok(w.assign(g["id"], b.id), 204)
    assert listed(**{"devicegroup.owner.id": "null"}) == []
    assert listed(**{"devicegroup.id": g["id"]}) == [a.id, b.id]


def test_device_get_any_identifier(w, pid):
    g = w.group(pid)
    dev = w.device(group=g)
    got = w.get_device(dev.id)
    assert got["id"] == dev.id and got["links"]["self"].endswith(f"/v5/devices/{dev.id}")
    for form in (dev.id.upper(), dev.mac_address, dev.mac_address.upper(), dev.agent_id,
                 dev.mac_address.replace(":", "%3A")):
        assert w.get_device(form) == got
    w.error(w.call("GET", f"/devices/{dev.mac_address.replace(':', '')}"), "NF100")
    w.ok(w.unassign(g["id"], dev.id), 204)
    w.error(w.call("GET", f"/devices/{dev.agent_id}"), "NF100")
    w.error(w.call("GET", f"/devices/{dev.id}", "demo-2fa"), "NF100")


def test_device_patch(w, pid):
    dev = w.device(group=w.group(pid))

    def patch_dev(attrs=None, rels=None, type_="device", id_=None):
        data: dict[str, Any] = {"type": type_, "attributes": attrs or {}}
        if id_ is not None:
            data["id"] = id_
        if rels is not None:
            data["relationships"] = rels
        return w.call("PATCH", f"/devices/{dev.mac_address}", json={"data": data})

    assert w.ok(patch_dev({"name": "Kitchen"}, id_=dev.agent_id))["attributes"]["name"] == \
        "Kitchen"
    assert w.ok(patch_dev({"name": "n" * 80}))["attributes"]["name"] == "n" * 80
    for clear in ("", None):
        w.ok(patch_dev({"name": "x"}))
        assert w.ok(patch_dev({"name": clear}))["attributes"]["name"] is None
    w.ok(patch_dev({"name": "keep"}))
    w.error(patch_dev({"name": "n" * 81}), "VX105")
    w.error(patch_dev({"name": 5}), "VX104")
    w.error(patch_dev({"imp_type": "imp001"}), "VX104")
    w.error(patch_dev({}, {"devicegroup": {"type": "development_devicegroup", "id": "x"}}),
            "VX107")
    w.error(patch_dev({"name": "x"}, type_="product"), "VX102")
    other = w.device()
    w.error(patch_dev({"name": "x"}, id_=other.id), "VX101")
    w.error(w.call("PATCH", f"/devices/{UNKNOWN_DEV}",
                   json={"data": {"type": "device", "attributes": {}}}), "NF100")
    assert w.get_device(dev.id)["attributes"]["name"] == "keep"


def test_device_delete(w, pid):
    g = w.group(pid)
    assigned = w.device(group=g)
    dut = w.device(group=w.group(pid, "dut_devicegroup"))
    pre = w.device(group=w.group(pid, "pre_production_devicegroup"))
    free = w.device()
    w.log(free, "hello")
    w.error(w.call("DELETE", f"/devices/{assigned.id}"), "CX108", 409)
    w.error(w.call("DELETE", f"/devices/{dut.id}"), "CX108", 409)
    w.error(w.call("DELETE", f"/devices/{pre.id}"), "CX109", 409)
    w.ok(w.call("DELETE", f"/devices/{free.mac_address}"), 204)
    w.error(w.call("GET", f"/devices/{free.id}"), "NF100")
    w.error(w.call("GET", f"/devices/{free.id}/logs"), "NF100")
    w.error(w.call("DELETE", f"/devices/{free.id}"), "NF100")
    assert free.id not in [d["id"] for d in w.emu.list_all("/devices", token=w.token("demo"))]


@pytest.mark.parametrize("action", ["restart", "conditional_restart"])
def test_device_restart(w, pid, action):
    g = w.group(pid)
    dev = w.device(group=g)
    free = w.device()
    w.error(w.call("POST", f"/devices/{free.id}/{action}"), "CX107", 409)
    w.error(w.call("POST", f"/devices/{UNKNOWN_DEV}/{action}"), "NF100")
    w.ok(w.call("POST", f"/devices/{dev.agent_id}/{action}", data=b"\xff junk"), 204)
    assert w.status_lines(dev) == ["Device restarting", "Agent restarted: reload.",
                                   "Device connected"]


def test_device_logs(w, pid):
    dev = w.device(group=w.group(pid))
    for i in range(15):
        w.log(dev, f"m{i}", "agent.log" if i % 2 else "device.log")
    path = f"/devices/{dev.mac_address}/logs"
    doc = w.call("GET", path, params={"page[size]": 4, "page[number]": 2}).json()
    assert [e["msg"] for e in doc["data"]] == ["m10", "m9", "m8", "m7"]
    entry = doc["data"][0]
    assert set(entry) == {"ts", "log_type", "type", "msg"}
    assert (entry["type"], entry["log_type"]) == ("device.log", "development")
    assert entry["ts"].endswith("Z") and len(entry["ts"]) == 24
    base = f"{w.emu.base}/devices/{dev.id}/logs"
    assert doc["links"] == {
        "self": f"{base}?page[number]=2&page[size]=4",
        "first": f"{base}?page[number]=1&page[size]=4",
        "last": f"{base}?page[number]=4&page[size]=4",
        "prev": f"{base}?page[number]=1&page[size]=4",
        "next": f"{base}?page[number]=3&page[size]=4",
    }
    all_ts = [e["ts"] for e in w.call("GET", path, params={"page[size]": 100}).json()["data"]]
    assert all_ts == sorted(all_ts, reverse=True) and len(set(all_ts)) == 15
    w.error(w.call("GET", path, params={"filter[type]": "status"}), "VX108")
    w.error(w.call("GET", f"/devices/{UNKNOWN_DEV}/logs", params={"filter[x]": "1"}), "VX108")
    w.error(w.call("GET", f"/devices/{UNKNOWN_DEV}/logs", params={"page[size]": "0"}), "VX109")
    w.error(w.call("GET", f"/devices/{UNKNOWN_DEV}/logs"), "NF100")


def test_device_list_page_fast_for_10000_devices(w):
    s = w.store
    with s.lock:
        acct = w.account("demo")
        now = s.clock.now()
        for _ in range(10_000):
            s.add_device(Device(id=s.new_device_id(), owner_id=acct.id, mac_address=s.new_mac(),
                                agent_id=s.new_agent_id(), imp_type="imp004m",
                                joined_seq=s.next_seq(), device_state_changed_at=now))
    params = {"page[size]": 100, "page[number]": 37}
    first = w.call("GET", "/devices", params=params)
    assert len(first.json()["data"]) == 100
    assert first.json()["links"]["last"].endswith("page[number]=100&page[size]=100")
    durations = []
    for _ in range(15):
        resp = w.call("GET", "/devices", params=params)
        assert resp.status_code == 200
        durations.append(w.app.request_log[-1]["duration_ms"])
    assert statistics.median(durations) < 5.0, durations


def test_group_list_cache_sees_new_group_quickly(w, pid):
    before = w.emu.list_all("/devicegroups", token=w.token("demo"))
    g = w.group(pid)
    after = w.emu.list_all("/devicegroups", token=w.token("demo"))
    assert [x["id"] for x in after] == [x["id"] for x in before] + [g["id"]]
