"""Contract tests for /devicegroups: create, read, update, delete, restart (§3.3)."""

from __future__ import annotations

import json

import pytest

from tests.emulator.helpers import (
    GROUP_TYPES,
    TS_RE,
    UUID_RE,
    account_id,
    advance,
    alpha_dev,
    assert_error,
    assert_ok,
    assert_resource,
    create_group,
    create_product,
    deploy,
    group,
    group_body,
    ident,
    product,
)

PROD_TYPES = ["production_devicegroup", "pre_production_devicegroup"]
FIXTURE_PAIRS = {
    "factoryfixture_devicegroup": ("production_devicegroup", "dut_devicegroup"),
    "pre_factoryfixture_devicegroup": ("pre_production_devicegroup", "pre_dut_devicegroup"),
}


@pytest.fixture
def prod_id(emu):
    return create_product(emu)["id"]


def targets_for(emu, product_id, fixture_type):
    prod_t, dut_t = FIXTURE_PAIRS[fixture_type]
    prod = create_group(emu, product_id, prod_t)
    dut = create_group(emu, product_id, dut_t)
    return {"production_target": ident(prod), "dut_target": ident(dut)}


def make_any(emu, product_id, gtype, **attrs):
    targets = targets_for(emu, product_id, gtype) if gtype in FIXTURE_PAIRS else None
    return create_group(emu, product_id, gtype, targets=targets, **attrs)


# -- create ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("gtype", GROUP_TYPES)
def test_create_each_type(emu, prod_id, gtype):
    demo = account_id(emu, "demo")
    g = make_any(emu, prod_id, gtype, description="d")
    assert_resource(g, gtype, emu.base)
    assert UUID_RE.match(g["id"])
    assert g["links"]["self"] == f"{emu.base}/devicegroups/{g['id']}"
    attrs = g["attributes"]
    expected = {"name", "description", "region", "env_vars", "created_at", "updated_at"}
    if gtype in PROD_TYPES:
        expected.add("load_code_after_blessing")
        assert attrs["load_code_after_blessing"] is True
    assert set(attrs) == expected
    assert attrs["region"] is None
    assert attrs["env_vars"] == {}
    assert attrs["description"] == "d"
    assert TS_RE.match(attrs["created_at"]) and TS_RE.match(attrs["updated_at"])
    rels = g["relationships"]
    assert rels["product"] == {"type": "product", "id": prod_id}
    assert rels["owner"] == {"type": "account", "id": demo}
    assert rels["creator"] == {"type": "account", "id": demo}
    assert "current_deployment" not in rels
    assert "min_supported_deployment" not in rels
    if gtype in FIXTURE_PAIRS:
        assert rels["production_target"]["type"] == FIXTURE_PAIRS[gtype][0]
        assert rels["dut_target"]["type"] == FIXTURE_PAIRS[gtype][1]
    else:
        assert "production_target" not in rels and "dut_target" not in rels
    assert assert_ok(emu.get(f"/devicegroups/{g['id']}")) == g


def test_create_description_default_null(emu, prod_id):
    g = create_group(emu, prod_id)
    assert g["attributes"]["description"] is None


@pytest.mark.parametrize("gtype", PROD_TYPES)
def test_region_and_load_code_on_production(emu, prod_id, gtype):
    g = create_group(emu, prod_id, gtype, region="eu-west", load_code_after_blessing=False)
    assert g["attributes"]["region"] == "eu-west"
    assert g["attributes"]["load_code_after_blessing"] is False
    g2 = create_group(emu, prod_id, gtype, region="r" * 64)
    assert g2["attributes"]["region"] == "r" * 64


@pytest.mark.parametrize("gtype", PROD_TYPES)
def test_region_too_long_or_empty(emu, prod_id, gtype):
    for region in ("r" * 65, ""):
        resp = emu.post("/devicegroups", json=group_body(prod_id, gtype, region=region))
        assert resp.status_code == 400, resp.text
        assert resp.json()["errors"][0]["code"].startswith("VX")


@pytest.mark.parametrize(
    "gtype", ["development_devicegroup", "dut_devicegroup", "pre_dut_devicegroup"]
)
@pytest.mark.parametrize("attr", [{"region": "eu"}, {"load_code_after_blessing": True}])
def test_production_only_attributes_refused_elsewhere(emu, prod_id, gtype, attr):
    assert_error(emu.post("/devicegroups", json=group_body(prod_id, gtype, **attr)), "VX104")


@pytest.mark.parametrize(
    "env",
    [
        {"A": "1", "dataSourceURL": "https://example.com/v1", "dataSourceAPIVersion": 1},
        {"x": 1.5, "Y_2": -3, "z": "", "unicode": "h\u00e9llo \u2603"},
        {"K" + "a" * 63: "max key length"},
        {},
    ],
)
def test_env_vars_round_trip(emu, prod_id, env):
    g = create_group(emu, prod_id, env_vars=env)
    assert g["attributes"]["env_vars"] == env
    got = assert_ok(emu.get(f"/devicegroups/{g['id']}"))
    assert got["attributes"]["env_vars"] == env
    assert json.dumps(got["attributes"]["env_vars"]) == json.dumps(env)


@pytest.mark.parametrize(
    "env",
    [
        {"1abc": "x"},
        {"_a": "x"},
        {"a-b": "x"},
        {"a b": "x"},
        {"": "x"},
        {"K" + "a" * 64: "x"},
        {"a": True},
        {"a": None},
        {"a": [1]},
        {"a": {"b": 1}},
        ["a"],
        "a=1",
        {"big": "x" * (16 * 1024)},
    ],
)
def test_env_vars_invalid_vx112(emu, prod_id, env):
    assert_error(emu.post("/devicegroups", json=group_body(prod_id, env_vars=env)), "VX112")


def test_env_vars_size_limit_boundary(emu, prod_id):
    # compact JSON {"a":"xxx..."} of exactly 16 KiB is accepted
    env = {"a": "x" * (16 * 1024 - len('{"a":""}'))}
    assert len(json.dumps(env, separators=(",", ":"))) == 16 * 1024
    g = create_group(emu, prod_id, env_vars=env)
    assert g["attributes"]["env_vars"] == env


def test_group_create_accepts_wrapped_relationships(emu, prod_id):
    doc = group_body(prod_id)
    doc["data"]["relationships"]["product"] = {"data": {"type": "product", "id": prod_id}}
    g = assert_ok(emu.post("/devicegroups", json=doc), 201)
    assert g["relationships"]["product"] == {"type": "product", "id": prod_id}


def test_fixture_targets_accept_generic_devicegroup_type(emu, prod_id):
    t = targets_for(emu, prod_id, "factoryfixture_devicegroup")
    generic = {k: {"type": "devicegroup", "id": v["id"]} for k, v in t.items()}
    g = create_group(emu, prod_id, "factoryfixture_devicegroup", targets=generic)
    assert g["relationships"]["production_target"] == t["production_target"]
    assert g["relationships"]["dut_target"] == t["dut_target"]


def test_several_fixtures_may_share_targets(emu, prod_id):
    t = targets_for(emu, prod_id, "factoryfixture_devicegroup")
    create_group(emu, prod_id, "factoryfixture_devicegroup", targets=t)
    create_group(emu, prod_id, "factoryfixture_devicegroup", targets=t)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d["data"].update(type="devicegroup"), "VX102"),
        (lambda d: d["data"].update(type="group"), "VX102"),
        (lambda d: d["data"].pop("type"), "VX101"),
        (lambda d: d["data"]["relationships"].pop("product"), "VX107"),
        (
            lambda d: d["data"]["relationships"].update(product={"type": "account", "id": "x"}),
            "VX107",
        ),
        (lambda d: d["data"]["relationships"].update(product="x"), "VX107"),
        (lambda d: d["data"]["attributes"].pop("name"), "VX103"),
        (lambda d: d["data"]["attributes"].update(name=""), "VX105"),
        (lambda d: d["data"]["attributes"].update(name="  "), "VX105"),
        (lambda d: d["data"]["attributes"].update(name="n" * 81), "VX105"),
        (lambda d: d["data"]["attributes"].update(description="d" * 256), "VX106"),
        (lambda d: d["data"]["attributes"].update(colour="red"), "VX104"),
        (lambda d: d["data"]["attributes"].update(created_at="2020-01-01T00:00:00.000Z"), "VX104"),
        (
            lambda d: d["data"]["relationships"].update(
                owner={"type": "account", "id": "00000000-0000-0000-0000-000000000000"}
            ),
            "VX107",
        ),
        (
            lambda d: d["data"]["relationships"].update(
                current_deployment={"type": "deployment", "id": "x"}
            ),
            "VX107",
        ),
    ],
)
def test_create_group_validation(emu, prod_id, mutate, code):
    doc = group_body(prod_id)
    mutate(doc)
    assert_error(emu.post("/devicegroups", json=doc), code)
    assert emu.list_all("/devicegroups", params={"filter[product.id]": prod_id}) == []


def test_create_group_name_80_ok(emu, prod_id):
    assert create_group(emu, prod_id, name="n" * 80)["attributes"]["name"] == "n" * 80


def test_create_group_unknown_or_invisible_product_nf101(emu):
    doc = group_body("00000000-0000-0000-0000-000000000000")
    assert_error(emu.post("/devicegroups", json=doc), "NF101")
    alpha = product(emu, "Alpha")
    assert_error(
        emu.post("/devicegroups", json=group_body(alpha["id"]), as_user="demo-2fa"), "NF101"
    )


def test_create_group_validation_before_nf101(emu):
    doc = group_body("00000000-0000-0000-0000-000000000000")
    del doc["data"]["attributes"]["name"]
    assert_error(emu.post("/devicegroups", json=doc), "VX103")


def test_duplicate_group_name_cx101(emu):
    alpha = product(emu, "Alpha")
    assert_error(emu.post("/devicegroups", json=group_body(alpha["id"], name="Alpha Dev")), "CX101")
    # case-sensitive and per product
    create_group(emu, alpha["id"], name="alpha dev")
    create_group(emu, product(emu, "Bravo")["id"], name="Alpha Dev")


@pytest.mark.parametrize("gtype", GROUP_TYPES[1:])
def test_non_development_needs_commercial_owner_px300(emu, gtype):
    shared = product(emu, "Shared Product")  # owned by non-commercial demo-collab
    doc = group_body(shared["id"], gtype)
    if gtype in FIXTURE_PAIRS:
        alpha = product(emu, "Alpha")
        t = targets_for(emu, alpha["id"], gtype)
        doc["data"]["relationships"].update(t)
        # targets in another product are a VX107 (validation precedes permission)
        assert_error(emu.post("/devicegroups", json=doc), "VX107")
        return
    assert_error(emu.post("/devicegroups", json=doc), "PX300")


def test_px300_before_cx101(emu):
    shared = product(emu, "Shared Product")
    doc = group_body(shared["id"], "production_devicegroup", name="Shared Dev")
    assert_error(emu.post("/devicegroups", json=doc), "PX300")


def test_development_group_in_non_commercial_product_ok(emu):
    shared = product(emu, "Shared Product")
    g = create_group(emu, shared["id"])
    assert g["relationships"]["owner"]["id"] == account_id(emu, "demo-collab")
    assert g["relationships"]["creator"]["id"] == account_id(emu, "demo")


def test_commercial_flag_via_control(emu, prod_id):
    emu.control("PATCH", "/accounts/demo", {"commercial": False})
    assert_error(
        emu.post("/devicegroups", json=group_body(prod_id, "production_devicegroup")), "PX300"
    )
    emu.control("PATCH", "/accounts/demo", {"commercial": True})
    create_group(emu, prod_id, "production_devicegroup")


@pytest.mark.parametrize("fixture_type", list(FIXTURE_PAIRS))
def test_fixture_target_rules(emu, prod_id, fixture_type):
    good = targets_for(emu, prod_id, fixture_type)
    other_family = targets_for(
        emu,
        prod_id,
        "pre_factoryfixture_devicegroup"
        if fixture_type == "factoryfixture_devicegroup"
        else "factoryfixture_devicegroup",
    )
    dev = create_group(emu, prod_id)
    other_product = create_product(emu)["id"]
    foreign = targets_for(emu, other_product, fixture_type)

    def attempt(targets):
        doc = group_body(prod_id, fixture_type, targets=targets)
        return emu.post("/devicegroups", json=doc)

    cases = [
        {},
        {"production_target": good["production_target"]},
        {"dut_target": good["dut_target"]},
        {"production_target": good["dut_target"], "dut_target": good["production_target"]},
        {"production_target": other_family["production_target"], "dut_target": good["dut_target"]},
        {"production_target": good["production_target"], "dut_target": other_family["dut_target"]},
        {"production_target": ident(dev), "dut_target": good["dut_target"]},
        {"production_target": foreign["production_target"], "dut_target": good["dut_target"]},
        {"production_target": good["production_target"], "dut_target": foreign["dut_target"]},
    ]
    for targets in cases:
        assert_error(attempt(targets), "VX107")
    unknown = {"type": FIXTURE_PAIRS[fixture_type][0], "id": "00000000-0000-0000-0000-000000000000"}
    assert_error(attempt({"production_target": unknown, "dut_target": good["dut_target"]}), "NF101")


@pytest.mark.parametrize(
    "gtype", ["development_devicegroup", "production_devicegroup", "dut_devicegroup"]
)
def test_targets_forbidden_on_non_fixture(emu, prod_id, gtype):
    t = targets_for(emu, prod_id, "factoryfixture_devicegroup")
    doc = group_body(prod_id, gtype, targets={"production_target": t["production_target"]})
    assert_error(emu.post("/devicegroups", json=doc), "VX107")


# -- list and get ---------------------------------------------------------------------------------


def test_list_groups_small_seed(emu):
    items = emu.list_all("/devicegroups")
    assert sorted(g["attributes"]["name"] for g in items) == ["Alpha Dev", "Shared Dev"]
    for g in items:
        assert g["type"] == "development_devicegroup"
        assert "load_code_after_blessing" not in g["attributes"]
        assert "current_deployment" in g["relationships"]
        assert "min_supported_deployment" in g["relationships"]
    keys = [(g["attributes"]["created_at"], g["id"]) for g in items]
    assert keys == sorted(keys)


def test_list_groups_filters(emu, prod_id):
    demo, collab = account_id(emu, "demo"), account_id(emu, "demo-collab")
    pg = create_group(emu, prod_id, "production_devicegroup")
    dg = create_group(emu, prod_id)

    def names(**flt):
        return sorted(
            g["attributes"]["name"]
            for g in emu.list_all(
                "/devicegroups", params={f"filter[{k}]": v for k, v in flt.items()}
            )
        )

    assert names(**{"product.id": prod_id}) == sorted(
        [pg["attributes"]["name"], dg["attributes"]["name"]]
    )
    assert names(type="production_devicegroup") == [pg["attributes"]["name"]]
    assert names(**{"owner.id": collab}) == ["Shared Dev"]
    assert "Shared Dev" not in names(**{"owner.id": demo})
    assert names(**{"owner.id": "me"}) == names(**{"owner.id": demo})
    assert names(
        **{"owner.id": "me", "type": "development_devicegroup", "product.id": prod_id}
    ) == [dg["attributes"]["name"]]
    assert names(**{"product.id": "00000000-0000-0000-0000-000000000000"}) == []


@pytest.mark.parametrize(
    "params",
    [
        {"filter[type]": "devicegroup"},
        {"filter[type]": "bogus"},
        {"filter[type]": ""},
        {"filter[devicegroup.id]": "x"},
        {"filter[sha]": "x"},
    ],
)
def test_list_groups_bad_filters(emu, params):
    assert_error(emu.get("/devicegroups", params=params), "VX108")


def test_get_group_unknown_and_invisible(emu):
    assert_error(emu.get("/devicegroups/00000000-0000-0000-0000-000000000000"), "NF100")
    g = alpha_dev(emu)
    assert_error(emu.get(f"/devicegroups/{g['id']}", as_user="demo-2fa"), "NF100")
    got = assert_ok(emu.get(f"/devicegroups/{g['id'].upper()}"))
    assert got["id"] == g["id"]


def test_collaborator_sees_shared_group(emu):
    shared = group(emu, "Shared Dev")
    got = assert_ok(emu.get(f"/devicegroups/{shared['id']}", as_user="demo-collab"))
    assert got["id"] == shared["id"]


# -- PATCH ----------------------------------------------------------------------------------------


def patch(emu, g, type_=None, attributes=None, relationships=None, with_id=True):
    data = {"type": type_ or g["type"]}
    if with_id:
        data["id"] = g["id"]
    if attributes is not None:
        data["attributes"] = attributes
    if relationships is not None:
        data["relationships"] = relationships
    return emu.patch(f"/devicegroups/{g['id']}", json={"data": data})


def test_patch_group_name_env_load(emu, prod_id):
    g = create_group(emu, prod_id, "production_devicegroup", env_vars={"A": "1", "B": 2})
    advance(emu, 2)
    got = assert_ok(
        patch(
            emu,
            g,
            attributes={"name": "v2", "load_code_after_blessing": False, "env_vars": {"C": "3"}},
        )
    )
    assert got["attributes"]["name"] == "v2"
    assert got["attributes"]["load_code_after_blessing"] is False
    assert got["attributes"]["env_vars"] == {"C": "3"}
    assert got["attributes"]["updated_at"] > g["attributes"]["updated_at"]
    assert got["attributes"]["created_at"] == g["attributes"]["created_at"]
    assert assert_ok(emu.get(f"/devicegroups/{g['id']}")) == got


def test_patch_env_vars_null_means_empty(emu, prod_id):
    g = create_group(emu, prod_id, env_vars={"A": "1"})
    got = assert_ok(patch(emu, g, attributes={"env_vars": None}))
    assert got["attributes"]["env_vars"] == {}


def test_patch_generic_type_and_no_change(emu, prod_id):
    g = create_group(emu, prod_id, "dut_devicegroup")
    advance(emu, 2)
    got = assert_ok(
        patch(emu, g, type_="devicegroup", attributes={"name": g["attributes"]["name"]})
    )
    assert got["type"] == "dut_devicegroup"
    assert got["attributes"]["updated_at"] == g["attributes"]["updated_at"]


@pytest.mark.parametrize("wrong", ["development_devicegroup", "product", "device"])
def test_patch_wrong_type_vx102(emu, prod_id, wrong):
    g = create_group(emu, prod_id, "production_devicegroup")
    assert_error(patch(emu, g, type_=wrong, attributes={"name": "x"}), "VX102")


@pytest.mark.parametrize(
    ("gtype", "attrs", "rels", "code"),
    [
        ("production_devicegroup", {"region": "eu"}, None, "VX104"),
        ("development_devicegroup", {"region": None}, None, "VX104"),
        ("development_devicegroup", {"load_code_after_blessing": False}, None, "VX104"),
        ("development_devicegroup", {"name": ""}, None, "VX105"),
        ("development_devicegroup", {"description": "d" * 256}, None, "VX106"),
        ("development_devicegroup", {"env_vars": {"9": "x"}}, None, "VX112"),
        ("development_devicegroup", {"updated_at": "2020-01-01T00:00:00.000Z"}, None, "VX104"),
        ("development_devicegroup", None, {"product": {"type": "product", "id": "x"}}, "VX107"),
        (
            "development_devicegroup",
            None,
            {"current_deployment": {"type": "deployment", "id": "x"}},
            "VX107",
        ),
        (
            "development_devicegroup",
            None,
            {"min_supported_deployment": {"type": "deployment", "id": "x"}},
            "VX107",
        ),
    ],
)
def test_patch_group_invalid(emu, prod_id, gtype, attrs, rels, code):
    g = create_group(emu, prod_id, gtype)
    assert_error(patch(emu, g, attributes=attrs, relationships=rels), code)
    assert assert_ok(emu.get(f"/devicegroups/{g['id']}")) == g


def test_patch_group_id_mismatch_vx101(emu, prod_id):
    g = create_group(emu, prod_id)
    other = alpha_dev(emu)
    doc = {"data": {"type": g["type"], "id": other["id"], "attributes": {"name": "x"}}}
    assert_error(emu.patch(f"/devicegroups/{g['id']}", json=doc), "VX101")


def test_patch_group_duplicate_name_cx101(emu):
    alpha = product(emu, "Alpha")
    g = create_group(emu, alpha["id"])
    assert_error(patch(emu, g, attributes={"name": "Alpha Dev"}), "CX101")


def test_patch_fixture_targets(emu, prod_id):
    t1 = targets_for(emu, prod_id, "factoryfixture_devicegroup")
    t2 = targets_for(emu, prod_id, "factoryfixture_devicegroup")
    fx = create_group(emu, prod_id, "factoryfixture_devicegroup", targets=t1)
    got = assert_ok(patch(emu, fx, relationships={"production_target": t2["production_target"]}))
    assert got["relationships"]["production_target"] == t2["production_target"]
    assert got["relationships"]["dut_target"] == t1["dut_target"]
    assert_error(patch(emu, fx, relationships={"dut_target": t2["production_target"]}), "VX107")
    dev = create_group(emu, prod_id)
    assert_error(patch(emu, dev, relationships={"dut_target": t2["dut_target"]}), "VX107")


# -- DELETE ---------------------------------------------------------------------------------------


def test_delete_group(emu, prod_id):
    g = create_group(emu, prod_id)
    assert_ok(emu.delete(f"/devicegroups/{g['id']}"), 204)
    assert_error(emu.get(f"/devicegroups/{g['id']}"), "NF100")
    assert_error(emu.delete(f"/devicegroups/{g['id']}"), "NF100")


def test_delete_group_with_devices_cx103(emu):
    assert_error(emu.delete(f"/devicegroups/{alpha_dev(emu)['id']}"), "CX103")


def test_delete_group_that_is_target_cx104(emu, prod_id):
    t = targets_for(emu, prod_id, "pre_factoryfixture_devicegroup")
    fx = create_group(emu, prod_id, "pre_factoryfixture_devicegroup", targets=t)
    assert_error(emu.delete(f"/devicegroups/{t['production_target']['id']}"), "CX104")
    assert_error(emu.delete(f"/devicegroups/{t['dut_target']['id']}"), "CX104")
    assert_ok(emu.delete(f"/devicegroups/{fx['id']}"), 204)
    assert_ok(emu.delete(f"/devicegroups/{t['dut_target']['id']}"), 204)


def test_delete_group_with_flagged_deployment_cx105(emu, prod_id):
    g = create_group(emu, prod_id)
    d = deploy(emu, g, flagged=True)
    err = assert_error(emu.delete(f"/devicegroups/{g['id']}"), "CX105")
    assert err["detail"] == (
        "You cannot delete a devicegroup with flagged deployments; set the "
        "flagged attribute to false and try again."
    )
    doc = {"data": {"type": "deployment", "id": d["id"], "attributes": {"flagged": False}}}
    assert_ok(emu.patch(f"/deployments/{d['id']}", json=doc))
    assert_ok(emu.delete(f"/devicegroups/{g['id']}"), 204)


def test_delete_group_check_order(emu, prod_id):
    # devices (CX103) before flagged deployments (CX105)
    g = alpha_dev(emu)
    deploy(emu, g, flagged=True)
    assert_error(emu.delete(f"/devicegroups/{g['id']}"), "CX103")
    # target (CX104) before flagged deployments (CX105)
    t = targets_for(emu, prod_id, "factoryfixture_devicegroup")
    create_group(emu, prod_id, "factoryfixture_devicegroup", targets=t)
    target = assert_ok(emu.get(f"/devicegroups/{t['production_target']['id']}"))
    deploy(emu, target, flagged=True)
    assert_error(emu.delete(f"/devicegroups/{target['id']}"), "CX104")


def test_delete_group_deletes_deployments_and_webhooks(emu, prod_id):
    g = create_group(emu, prod_id)
    d1 = deploy(emu, g)
    d2 = deploy(emu, g)
    hook = assert_ok(
        emu.post(
            "/webhooks",
            json={
                "data": {
                    "type": "webhook",
                    "attributes": {"url": "https://example.com/h", "event": "deployment"},
                    "relationships": {"devicegroup": ident(g)},
                }
            },
        ),
        201,
    )
    assert_ok(emu.delete(f"/devicegroups/{g['id']}"), 204)
    for d in (d1, d2):
        assert_error(emu.get(f"/deployments/{d['id']}"), "NF100")
    assert_error(emu.get(f"/webhooks/{hook['id']}"), "NF100")
    assert all(x["id"] not in (d1["id"], d2["id"]) for x in emu.list_all("/deployments"))


def test_delete_group_unknown_nf100(emu):
    assert_error(emu.delete("/devicegroups/00000000-0000-0000-0000-000000000000"), "NF100")


# -- restart --------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["restart", "conditional_restart"])
def test_group_restart_204(emu, prod_id, action):
    empty = create_group(emu, prod_id)
    assert_ok(emu.post(f"/devicegroups/{empty['id']}/{action}"), 204)
    assert_ok(emu.post(f"/devicegroups/{alpha_dev(emu)['id']}/{action}"), 204)
    assert_error(emu.post(f"/devicegroups/00000000-0000-0000-0000-000000000000/{action}"), "NF100")


@pytest.mark.parametrize("action", ["restart", "conditional_restart"])
def test_group_restart_get_405(emu, action):
    resp = emu.get(f"/devicegroups/{alpha_dev(emu)['id']}/{action}")
    assert_error(resp, "VX120")
    assert [m.strip() for m in resp.headers["Allow"].split(",")] == ["POST"]


def test_group_updated_at_changes_on_deployment(emu, prod_id):
    g = create_group(emu, prod_id)
    advance(emu, 2)
    d = deploy(emu, g)
    got = assert_ok(emu.get(f"/devicegroups/{g['id']}"))
    assert got["attributes"]["updated_at"] > g["attributes"]["updated_at"]
    assert got["relationships"]["current_deployment"] == {"type": "deployment", "id": d["id"]}
    assert got["relationships"]["min_supported_deployment"] == {"type": "deployment", "id": d["id"]}
