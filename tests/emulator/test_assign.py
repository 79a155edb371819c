"""Contract tests for assign/unassign and multi-device results (§3.3.9, §3.3.10, §4.3)."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import (
    alpha_dev,
    assert_error,
    assert_ok,
    assign,
    blinkup,
    create_group,
    create_product,
    factory_setup,
    get_device,
    group,
    group_devices,
    ident,
    product,
    unassign,
    unassigned,
)

UNKNOWN_DEV = "00000000000000aa"


def rel_path(gid):
    return f"/devicegroups/{gid}/relationships/devices"


def unassigned_by_type(emu, imp_type=None, online=None):
    for d in unassigned(emu):
        a = d["attributes"]
        if (imp_type is None or a["imp_type"] == imp_type) and (
            online is None or a["device_online"] == online
        ):
            return d
    raise AssertionError(f"no unassigned {imp_type} online={online}")


def non_imp001_unassigned(emu):
    return next(d for d in unassigned(emu) if d["attributes"]["imp_type"] != "imp001")


def test_assign_unassigned_device(emu):
    dev = unassigned_by_type(emu, online=False)
    g = alpha_dev(emu)
    assert_ok(assign(emu, g["id"], dev["id"]), 204)
    got = get_device(emu, dev["id"])
    assert got["relationships"]["devicegroup"] == {"type": "development_devicegroup", "id": g["id"]}
    assert got["relationships"]["product"] == {"type": "product", "id": product(emu, "Alpha")["id"]}
    assert got["attributes"]["agent_running"] is True
    assert got["attributes"]["agent_id"]
    assert got["attributes"]["agent_url"] == (
        f"https://agent.electricimp.com/{got['attributes']['agent_id']}"
    )
    assert dev["id"] in [d["id"] for d in group_devices(emu, g["id"])]


def test_assign_by_mac_and_single_identifier_object(emu):
    dev = unassigned_by_type(emu, online=False)
    g = alpha_dev(emu)
    body = {"data": {"type": "device", "id": dev["attributes"]["mac_address"].upper()}}
    assert_ok(emu.post(rel_path(g["id"]), json=body), 204)
    assert get_device(emu, dev["id"])["relationships"]["devicegroup"]["id"] == g["id"]


def test_move_by_agent_id(emu):
    g = alpha_dev(emu)
    dev = group_devices(emu, g["id"])[0]
    other = create_group(emu, product(emu, "Bravo")["id"])
    assert_ok(assign(emu, other["id"], dev["attributes"]["agent_id"]), 204)
    got = get_device(emu, dev["id"])
    assert got["relationships"]["devicegroup"]["id"] == other["id"]
    assert got["relationships"]["product"]["id"] == product(emu, "Bravo")["id"]
    # one agent id for life
    assert got["attributes"]["agent_id"] == dev["attributes"]["agent_id"]
    assert dev["id"] not in [d["id"] for d in group_devices(emu, g["id"])]


def test_assign_wrapped_generic_identifiers_accepted(emu):
    dev = unassigned_by_type(emu, online=False)
    g = alpha_dev(emu)
    body = {"data": [{"type": "device", "id": dev["id"].upper()}]}
    assert_ok(emu.post(rel_path(g["id"]), json=body), 204)
    assert get_device(emu, dev["id"])["relationships"]["devicegroup"]["id"] == g["id"]


def test_assign_already_in_group_is_noop_success(emu):
    g = alpha_dev(emu)
    dev = group_devices(emu, g["id"])[0]
    assert_ok(assign(emu, g["id"], dev["id"]), 204)
    assert get_device(emu, dev["id"]) == dev


def test_assign_duplicates_processed_once(emu):
    dev = unassigned_by_type(emu, online=False)
    g = alpha_dev(emu)
    resp = assign(emu, g["id"], dev["id"], dev["attributes"]["mac_address"], dev["id"])
    assert_ok(resp, 204)


def test_assign_partial_failure_400_per_device(emu):
    dev = unassigned_by_type(emu, online=False)
    g = alpha_dev(emu)
    resp = assign(emu, g["id"], UNKNOWN_DEV, dev["id"], "not-an-agent")
    assert resp.status_code == 400, resp.text
    errors = resp.json()["errors"]
    assert len(errors) == 2
    for err, sent in zip(errors, [UNKNOWN_DEV, "not-an-agent"], strict=True):
        assert err["status"] == "404"
        assert err["code"] == "NF100"
        assert err["title"] == "Resource Not Found"
        assert err["meta"] == {"type": "device", "id": sent}
    # the good one was applied
    assert get_device(emu, dev["id"])["relationships"]["devicegroup"]["id"] == g["id"]


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"data": None},
        {"data": "x"},
        {"data": 5},
        {},
        [],
        {"data": [{"type": "device"}]},
    ],
)
def test_assign_bad_document_vx101(emu, body):
    assert_error(emu.post(rel_path(alpha_dev(emu)["id"]), json=body), "VX101")


def test_assign_over_100_vx101(emu):
    ids = [f"{i:016x}" for i in range(101)]
    assert_error(assign(emu, alpha_dev(emu)["id"], *ids), "VX101")


def test_assign_exactly_100_is_processed(emu):
    dev = unassigned_by_type(emu, online=False)
    ids = [dev["id"]] + [f"{i:016x}" for i in range(1, 100)]
    resp = assign(emu, alpha_dev(emu)["id"], *ids)
    assert resp.status_code == 400
    assert len(resp.json()["errors"]) == 99
    assert get_device(emu, dev["id"])["relationships"]["devicegroup"]["id"] == alpha_dev(emu)["id"]


@pytest.mark.parametrize("rtype", ["devices", "product", "account"])
def test_assign_wrong_type_vx102(emu, rtype):
    dev = unassigned_by_type(emu, online=False)
    body = {"data": [{"type": rtype, "id": dev["id"]}]}
    assert_error(emu.post(rel_path(alpha_dev(emu)["id"]), json=body), "VX102")
    assert "devicegroup" not in get_device(emu, dev["id"])["relationships"]


def test_assign_unknown_group_nf100(emu):
    dev = unassigned_by_type(emu, online=False)
    assert_error(assign(emu, "00000000-0000-0000-0000-000000000000", dev["id"]), "NF100")


def test_assign_document_checked_before_group(emu):
    resp = emu.post(rel_path("00000000-0000-0000-0000-000000000000"), json={"data": []})
    assert_error(resp, "VX101")


def test_assign_invisible_device(emu):
    shared_dev = group_devices(emu, group(emu, "Shared Dev")["id"])[0]
    # demo-2fa cannot see that device; demo-2fa's own group
    p = create_product(emu, as_user="demo-2fa")
    g = create_group(emu, p["id"], as_user="demo-2fa")
    resp = assign(emu, g["id"], shared_dev["id"], as_user="demo-2fa")
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert err["code"] == "NF100" and err["status"] == "404"


def test_collaborator_device_in_shared_group_visible_and_movable(emu):
    shared = group(emu, "Shared Dev")
    dev = group_devices(emu, shared["id"])[0]
    assert dev["relationships"]["owner"]["id"] != emu.accounts()["demo"]["id"]
    other = create_group(emu, product(emu, "Shared Product")["id"])
    assert_ok(assign(emu, other["id"], dev["id"]), 204)


@pytest.mark.parametrize("gtype", ["dut_devicegroup", "pre_dut_devicegroup"])
def test_assign_into_dut_cx110(emu, gtype):
    p = create_product(emu)
    g = create_group(emu, p["id"], gtype)
    dev = unassigned_by_type(emu, online=False)
    resp = assign(emu, g["id"], dev["id"])
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert (err["code"], err["status"], err["title"]) == ("CX110", "409", "Invalid Assignment")
    assert err["meta"] == {"type": "device", "id": dev["id"]}


@pytest.mark.parametrize("gtype", ["production_devicegroup", "pre_production_devicegroup"])
def test_assign_into_production_from_elsewhere_cx110(emu, gtype):
    p = create_product(emu)
    g = create_group(emu, p["id"], gtype)
    dev = group_devices(emu, alpha_dev(emu)["id"])[0]
    resp = assign(emu, g["id"], dev["id"])
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert err["code"] == "CX110"


@pytest.mark.parametrize("pre", [False, True])
def test_production_device_moves_within_same_type_and_product(emu, pre):
    alpha = product(emu, "Alpha")
    f = factory_setup(emu, alpha["id"], pre=pre)
    gtype = f["production"]["type"]
    sibling = create_group(emu, alpha["id"], gtype)
    assert_ok(assign(emu, sibling["id"], f["prod_device"]), 204)
    assert get_device(emu, f["prod_device"])["relationships"]["devicegroup"] == ident(sibling)


@pytest.mark.parametrize("pre", [False, True])
def test_production_device_cannot_leave(emu, pre):
    alpha = product(emu, "Alpha")
    f = factory_setup(emu, alpha["id"], pre=pre)
    gtype = f["production"]["type"]
    other_product_group = create_group(emu, product(emu, "Bravo")["id"], gtype)
    # into a production group of another product: rule 3 (CX110) fires first
    resp = assign(emu, other_product_group["id"], f["prod_device"])
    (err,) = resp.json()["errors"]
    assert err["code"] == "CX110"
    # to a development group: CX111
    resp = assign(emu, alpha_dev(emu)["id"], f["prod_device"])
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert (err["code"], err["status"]) == ("CX111", "409")
    assert get_device(emu, f["prod_device"])["relationships"]["devicegroup"] == ident(
        f["production"]
    )


@pytest.mark.parametrize("gtype", ["factoryfixture_devicegroup", "pre_factoryfixture_devicegroup"])
def test_imp001_cannot_join_fixture_cx112(emu, gtype):
    p = create_product(emu)
    pt, dt = (
        ("production_devicegroup", "dut_devicegroup")
        if gtype.startswith("factory")
        else ("pre_production_devicegroup", "pre_dut_devicegroup")
    )
    prod = create_group(emu, p["id"], pt)
    dut = create_group(emu, p["id"], dt)
    fx = create_group(
        emu, p["id"], gtype, targets={"production_target": ident(prod), "dut_target": ident(dut)}
    )
    imp001 = unassigned_by_type(emu, imp_type="imp001")
    resp = assign(emu, fx["id"], imp001["id"])
    assert resp.status_code == 400
    (err,) = resp.json()["errors"]
    assert (err["code"], err["status"], err["title"]) == ("CX112", "409", "Unsupported Device")
    other = group_devices(emu, alpha_dev(emu)["id"])[0]
    assert_ok(assign(emu, fx["id"], other["id"]), 204)


def test_mixed_multi_device_errors_in_request_order(emu):
    p = create_product(emu)
    pt = create_group(emu, p["id"], "production_devicegroup")
    dt = create_group(emu, p["id"], "dut_devicegroup")
    fx = create_group(
        emu,
        p["id"],
        "factoryfixture_devicegroup",
        targets={"production_target": ident(pt), "dut_target": ident(dt)},
    )
    imp001 = unassigned_by_type(emu, imp_type="imp001")
    good = group_devices(emu, alpha_dev(emu)["id"])[0]
    resp = assign(emu, fx["id"], imp001["id"], UNKNOWN_DEV, good["attributes"]["mac_address"])
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert [(e["code"], e["status"], e["meta"]["id"]) for e in errors] == [
        ("CX112", "409", imp001["id"]),
        ("NF100", "404", UNKNOWN_DEV),
    ]
    assert get_device(emu, good["id"])["relationships"]["devicegroup"]["id"] == fx["id"]


# -- unassign -------------------------------------------------------------------------------------


def test_unassign_development(emu):
    g = alpha_dev(emu)
    dev = group_devices(emu, g["id"])[0]
    assert_ok(unassign(emu, g["id"], dev["id"]), 204)
    got = get_device(emu, dev["id"])
    assert set(got["relationships"]) == {"owner"}
    assert got["attributes"]["agent_id"] is None
    assert got["attributes"]["agent_url"] is None
    assert got["attributes"]["agent_running"] is False
    assert got["attributes"]["agent_state_changed_at"] is not None
    assert dev["id"] in [d["id"] for d in unassigned(emu)]
    # re-assigned: the same agent id again
    assert_ok(assign(emu, g["id"], dev["id"]), 204)
    assert get_device(emu, dev["id"])["attributes"]["agent_id"] == dev["attributes"]["agent_id"]


def test_unassign_not_in_group_nf104(emu):
    g = alpha_dev(emu)
    outside = unassigned_by_type(emu, online=False)
    inside = group_devices(emu, g["id"])[0]
    resp = unassign(emu, g["id"], outside["id"], UNKNOWN_DEV, inside["id"])
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert [(e["code"], e["status"], e["meta"]) for e in errors] == [
        ("NF104", "404", {"type": "device", "id": outside["id"]}),
        ("NF100", "404", {"type": "device", "id": UNKNOWN_DEV}),
    ]
    assert errors[0]["title"] == "Device Not In Devicegroup"
    assert "devicegroup" not in get_device(emu, inside["id"])["relationships"]


def test_unassign_single_object_and_bad_docs(emu):
    g = alpha_dev(emu)
    dev = group_devices(emu, g["id"])[0]
    assert_error(emu.delete(rel_path(g["id"]), json={"data": []}), "VX101")
    assert_error(emu.delete(rel_path(g["id"])), "VX101")
    assert_error(
        emu.delete(rel_path(g["id"]), json={"data": {"type": "product", "id": dev["id"]}}), "VX102"
    )
    assert_ok(
        emu.delete(rel_path(g["id"]), json={"data": {"type": "device", "id": dev["id"]}}), 204
    )


def test_unassign_production_needs_unbond_key(emu):
    alpha = product(emu, "Alpha")
    f = factory_setup(emu, alpha["id"])
    gid = f["production"]["id"]
    key = emu.accounts()["demo"]["unbond_key"]
    for headers in ({}, {"X-Electricimp-Key": "wrong"}):
        resp = unassign(emu, gid, f["prod_device"], UNKNOWN_DEV, headers=headers)
        assert_error(resp, "PX301")
        assert get_device(emu, f["prod_device"])["relationships"]["devicegroup"]["id"] == gid
    assert_ok(unassign(emu, gid, f["prod_device"], headers={"X-Electricimp-Key": key}), 204)
    got = get_device(emu, f["prod_device"])
    assert set(got["relationships"]) == {"owner"}
    # an ordinary development device again: can be assigned and deleted
    assert_ok(assign(emu, alpha_dev(emu)["id"], f["prod_device"]), 204)


def test_unassign_production_key_is_owners(emu):
    # demo-collab's key does not unbond demo's production devices
    alpha = product(emu, "Alpha")
    f = factory_setup(emu, alpha["id"])
    wrong = emu.accounts()["demo-collab"]["unbond_key"]
    resp = unassign(
        emu, f["production"]["id"], f["prod_device"], headers={"X-Electricimp-Key": wrong}
    )
    assert_error(resp, "PX301")


def test_unassign_pre_production_needs_no_key(emu):
    alpha = product(emu, "Alpha")
    f = factory_setup(emu, alpha["id"], pre=True)
    assert_ok(unassign(emu, f["production"]["id"], f["prod_device"]), 204)


def test_unassign_body_checked_before_unbond_key(emu):
    alpha = product(emu, "Alpha")
    f = factory_setup(emu, alpha["id"])
    resp = emu.delete(rel_path(f["production"]["id"]), json={"data": "nope"})
    assert_error(resp, "VX101")


def test_assign_needs_auth(emu):
    resp = emu.post(
        rel_path(alpha_dev(emu)["id"]),
        as_user=None,
        json={"data": [{"type": "device", "id": UNKNOWN_DEV}]},
    )
    assert_error(resp, "PX100")


def test_new_blinkup_device_assignable(emu):
    dev = blinkup(emu, imp_type="imp005", online=False)
    assert_ok(assign(emu, alpha_dev(emu)["id"], dev["id"]), 204)
    assert get_device(emu, dev["id"])["attributes"]["imp_type"] == "imp005"


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT"])
def test_relationship_path_other_methods_405(emu, method):
    resp = emu.request(method, rel_path(alpha_dev(emu)["id"]))
    assert_error(resp, "VX120")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"POST", "DELETE"}


def test_unknown_device_listed_twice_reported_once(emu):
    resp = assign(emu, alpha_dev(emu)["id"], UNKNOWN_DEV, UNKNOWN_DEV)
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert [(e["code"], e["meta"]["id"]) for e in errors] == [("NF100", UNKNOWN_DEV)]


def test_item_error_details(emu):
    p = create_product(emu)
    g = create_group(emu, p["id"], "dut_devicegroup")
    dev = unassigned_by_type(emu, online=False)
    (err,) = assign(emu, g["id"], dev["id"]).json()["errors"]
    assert err["detail"] == (
        "Devices enter (pre-)production and (pre-)DUT devicegroups only "
        "through the factory process."
    )
    (err,) = unassign(emu, alpha_dev(emu)["id"], dev["id"]).json()["errors"]
    assert err["detail"] == f"The device '{dev['id']}' is not assigned to this devicegroup."
