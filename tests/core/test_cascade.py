"""Cascade deletes: the plan (blockers, order), a full run, a half-done run, the snapshot after."""

from __future__ import annotations

import random

import pytest

from impdesk.api import Client
from impdesk.api.retry import RetryPolicy
from impdesk.core.cascade import (
    DELETE_GROUP,
    DELETE_PRODUCT,
    SELECTION,
    UNASSIGN,
    UNFLAG,
    apply_report,
    fetch_flagged,
    groups_to_delete,
    order_groups,
    plan_group_delete,
    plan_product_delete,
    plan_selection_delete,
    run_cascade,
    selection_groups,
)


def _group(emu, product_id, type_, name, **rels):
    relationships = {"product": {"type": "product", "id": product_id}}
    relationships.update({k: {"type": t, "id": i} for k, (t, i) in rels.items()})
    resp = emu.post("/devicegroups", json={"data": {
        "type": type_, "attributes": {"name": name}, "relationships": relationships}})
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["id"]


@pytest.fixture
def scene(emu):
    """Alpha gets a fixture with production and DUT targets, a production device, a flag."""
    alpha = next(p for p in emu.list_all("/products") if p["attributes"]["name"] == "Alpha")
    pid = alpha["id"]
    prod = _group(emu, pid, "production_devicegroup", "Alpha Prod")
    dut = _group(emu, pid, "dut_devicegroup", "Alpha DUT")
    fixture = _group(emu, pid, "factoryfixture_devicegroup", "Alpha Fixture",
                     production_target=("production_devicegroup", prod),
                     dut_target=("dut_devicegroup", dut))
    loose = next(d for d in emu.list_all("/devices")
                 if d["attributes"]["name"] == "Loose offline")
    assert emu.post(f"/devicegroups/{fixture}/relationships/devices", json={
        "data": [{"type": "device", "id": loose["id"]}]}).status_code == 204
    made = emu.control("POST", "/factory/blinkup", {"fixture": loose["id"]})["data"]
    emu.control("POST", "/factory/bless", {"device": made["id"]})
    dev_group = next(g for g in emu.list_all("/devicegroups")
                     if g["attributes"]["name"] == "Alpha Dev")
    dep = emu.list_all("/deployments", params={"filter[devicegroup.id]": dev_group["id"]})[0]
    assert emu.patch(f"/deployments/{dep['id']}", json={"data": {
        "type": "deployment", "id": dep["id"], "attributes": {"flagged": True}}}).status_code == 200
    return {"product": pid, "prod": prod, "dut": dut, "fixture": fixture, "dev": dev_group["id"],
            "deployment": dep["id"], "blessed": made["id"], "loose": loose["id"]}


@pytest.fixture
def client(emu):
    c = Client(emu.base, retry=RetryPolicy(attempts=0, rng=random.Random(0)))
    c.login("demo", emu.accounts()["demo"]["password"])
    yield c
    c.close()


def test_plan_lists_blockers_and_orders_steps(client, scene):
    snap = client.fetch_snapshot()
    groups = [g for g in snap.device_groups if g.product_id == scene["product"]]
    flagged = fetch_flagged(client, [g.id for g in groups])
    assert [d.id for d in flagged] == [scene["deployment"]]
    plan = plan_product_delete(snap, scene["product"], flagged)
    kinds = [s.kind for s in plan.steps]
    assert kinds == [UNASSIGN] * 3 + [UNFLAG] + [DELETE_GROUP] * 4 + [DELETE_PRODUCT]
    unassign = {s.target_id: s for s in plan.steps if s.kind == UNASSIGN}
    assert set(unassign) == {scene["dev"], scene["fixture"], scene["prod"]}
    assert unassign[scene["prod"]].needs_unbond_key and plan.needs_unbond_key
    assert unassign[scene["prod"]].device_ids == [scene["blessed"]]
    deletes = [s.target_id for s in plan.steps if s.kind == DELETE_GROUP]
    assert deletes.index(scene["fixture"]) < deletes.index(scene["prod"])
    assert deletes.index(scene["fixture"]) < deletes.index(scene["dut"])
    lines = plan.blockers.lines(product_level=True)
    assert lines[0].startswith("4 device group(s)")
    assert "5 assigned device(s)" in lines and "1 flagged deployment(s)" in lines
    assert any("is a target of fixture group" in line for line in lines)


def test_group_plan_deletes_the_fixtures_that_target_it_first(client, scene):
    snap = client.fetch_snapshot()
    assert [g.id for g in groups_to_delete(snap, scene["prod"])] == [scene["fixture"],
                                                                     scene["prod"]]
    plan = plan_group_delete(snap, scene["prod"], [])
    assert [(s.kind, s.target_id) for s in plan.steps] == [
        (UNASSIGN, scene["fixture"]), (UNASSIGN, scene["prod"]),
        (DELETE_GROUP, scene["fixture"]), (DELETE_GROUP, scene["prod"])]
    assert [(f.id, t.id) for f, t in plan.blockers.targets] == [(scene["fixture"],
                                                                scene["prod"])]
    assert plan_group_delete(snap, scene["dev"], []).blockers.targets == []


def test_selection_plan_folds_groups_into_their_products_and_keeps_one_of_each(client, scene):
    snap = client.fetch_snapshot()
    bravo = next(p for p in snap.products if p.name == "Bravo")
    # one product with one of its own groups: just that product's plan
    alone = plan_selection_delete(snap, [scene["product"]], [scene["dev"]], [])
    assert alone.root_kind == "product" and alone.root_id == scene["product"]
    assert plan_selection_delete(snap, [], [scene["dut"]], []).root_kind == "group"
    # the DUT group of Alpha plus the product Bravo: the fixture targeting it comes along
    assert [g.id for g in selection_groups(snap, [], [scene["dut"]])] == [
        scene["dut"], scene["fixture"]]  # snapshot (creation) order
    plan = plan_selection_delete(snap, [bravo.id], [scene["dut"]], [])
    assert (plan.root_kind, plan.root_id, plan.root_name) == (
        SELECTION, "", "1 product and 1 device group")
    steps = [(s.kind, s.target_id) for s in plan.steps]
    assert steps == [(UNASSIGN, scene["fixture"]), (DELETE_GROUP, scene["fixture"]),
                     (DELETE_GROUP, scene["dut"]), (DELETE_PRODUCT, bravo.id)]
    # the fixture's production target stays, so it is no blocker of this delete
    assert [(f.id, t.id) for f, t in plan.blockers.targets] == [(scene["fixture"],
                                                                scene["dut"])]
    two = plan_selection_delete(snap, [bravo.id, scene["product"]], [], [])
    assert two.root_name == "2 products"
    assert [s.target_id for s in two.steps if s.kind == DELETE_PRODUCT] == [
        p.id for p in snap.products if p.id in (bravo.id, scene["product"])]


def test_order_groups_puts_targeting_groups_first(client, scene):
    snap = client.fetch_snapshot()
    ordered = order_groups([g for g in snap.device_groups if g.product_id == scene["product"]])
    assert ordered[0].id == scene["fixture"]


def test_full_cascade_deletes_everything_and_updates_the_snapshot(client, scene, emu):
    snap = client.fetch_snapshot()
    groups = [g.id for g in snap.device_groups if g.product_id == scene["product"]]
    plan = plan_product_delete(snap, scene["product"], fetch_flagged(client, groups))
    seen = []
    report = run_cascade(client, plan, "demo-unbond-key", lambda *a: seen.append(a))
    assert report.complete and report.failed is None and not report.not_done
    assert [s for _, s, _ in seen].count("done") == len(plan.steps)
    assert emu.get(f"/products/{scene['product']}").status_code == 404
    for device_id in (scene["blessed"], scene["loose"]):
        device = emu.get(f"/devices/{device_id}").json()["data"]
        assert "devicegroup" not in device["relationships"]
    emu.control("DELETE", "/requests")
    apply_report(client, snap, report)
    reads = [r["path"] for r in emu.control("GET", "/requests")["requests"]]
    assert reads == ["/v5/devices"]  # the unassigned devices in one list, not one by one
    assert scene["product"] not in {p.id for p in snap.products}
    assert not set(groups) & {g.id for g in snap.device_groups}
    assert snap.device_groups and all(g.product_id != scene["product"]
                                      for g in snap.device_groups)
    blessed = next(d for d in snap.devices if d.id == scene["blessed"])
    assert blessed.devicegroup_id is None
    assert report.summary().startswith("Deleted product")


def test_wrong_unbond_key_stops_at_that_step_and_reports_the_rest(client, scene, emu):
    snap = client.fetch_snapshot()
    plan = plan_product_delete(snap, scene["product"], [])
    report = run_cascade(client, plan, "wrong-key")
    failed = report.failed
    assert failed is not None and failed.step.target_id == scene["prod"]
    assert failed.message.startswith("403 PX301 Invalid Unbond Key: ")
    done = [r.step.target_id for r in report.results if r.ok]
    assert done == [s.target_id for s in plan.steps[:len(done)]]
    assert {s.kind for s in report.not_done} >= {DELETE_GROUP, DELETE_PRODUCT}
    assert len(report.results) + len(report.not_done) == len(plan.steps)
    lines = report.lines()
    assert any(line.startswith("FAILED: Unassign") and "PX301" in line for line in lines)
    assert lines[-1] == "Not done: Delete product \u201cAlpha\u201d"
    assert "stopped after" in report.summary()
    assert emu.get(f"/products/{scene['product']}").status_code == 200


def test_injected_failure_midway_leaves_a_precise_report(client, scene, emu):
    snap = client.fetch_snapshot()
    groups = [g.id for g in snap.device_groups if g.product_id == scene["product"]]
    plan = plan_product_delete(snap, scene["product"], fetch_flagged(client, groups))
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": 503, "method": "DELETE",
                                              "path": f"/devicegroups/{scene['prod']}$"})
    report = run_cascade(client, plan, "demo-unbond-key")
    assert report.failed.step.target_id == scene["prod"]
    assert report.failed.message.startswith("503 XX503 Service Unavailable")
    deleted = [r.step.target_id for r in report.results if r.ok and r.step.kind == DELETE_GROUP]
    assert scene["fixture"] in deleted
    for gid in deleted:
        assert emu.get(f"/devicegroups/{gid}").status_code == 404
    assert emu.get(f"/devicegroups/{scene['prod']}").status_code == 200
    assert [s.kind for s in report.not_done][-1] == DELETE_PRODUCT
    apply_report(client, snap, report)
    assert scene["product"] in {p.id for p in snap.products}
    assert scene["prod"] in {g.id for g in snap.device_groups}
    assert not set(deleted) & {g.id for g in snap.device_groups}
