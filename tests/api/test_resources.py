"""Each client operation and the catalogue errors it can meet (§3, §4.4), over real HTTP."""

from __future__ import annotations

import pytest

from impdesk.api import (
    BadRequest,
    CompileError,
    Conflict,
    Deployment,
    Device,
    DeviceGroup,
    NotFound,
    PermissionDenied,
    Product,
    ValidationError,
    Webhook,
)
from tests.api.conftest import clear_log, requests_log

MISSING_UUID = "00000000-0000-0000-0000-000000000000"
MISSING_DEVICE = "00000000000000aa"


@pytest.fixture
def alpha(client) -> Product:
    return next(p for p in client.list_products() if p.name == "Alpha")


@pytest.fixture
def alpha_dev(client) -> DeviceGroup:
    return next(g for g in client.list_device_groups() if g.name == "Alpha Dev")


def devices_by_name(client) -> dict[str, Device]:
    return {d.name: d for d in client.list_devices()}


def expect(exc_type, code, call, *args, **kw):
    with pytest.raises(exc_type) as info:
        call(*args, **kw)
    assert info.value.code == code, info.value
    assert info.value.title and info.value.detail
    return info.value


# -- accounts ------------------------------------------------------------------------------
def test_accounts(client):
    accounts = client.list_accounts()
    assert accounts[0].username == "demo"  # the caller first
    assert {a.username for a in accounts} == {"demo", "demo-collab"}
    assert client.get_account(accounts[1].id).username == "demo-collab"
    expect(NotFound, "NF100", client.get_account, MISSING_UUID)


# -- products (§3.2) -----------------------------------------------------------------------
def test_product_crud(client, emu):
    p = client.create_product("Weather", "Outdoor")
    assert isinstance(p, Product) and p.name == "Weather" and p.description == "Outdoor"
    assert p.owner_id == client.me().id
    body = [r for r in requests_log(emu) if r["method"] == "POST" and r["path"] == "/v5/products"]
    assert body[0]["headers"]["Content-Type"] == "application/vnd.api+json"
    assert client.get_product(p.id).name == "Weather"
    p2 = client.update_product(p.id, name="Weather 2", description=None)
    assert p2.name == "Weather 2" and p2.description is None
    assert p.id in {x.id for x in client.list_products(owner_id="me")}
    client.delete_product(p.id)
    expect(NotFound, "NF100", client.get_product, p.id)
    expect(NotFound, "NF100", client.delete_product, p.id)


def test_product_errors(client, alpha, emu):
    expect(ValidationError, "VX105", client.create_product, "   ")
    expect(ValidationError, "VX105", client.create_product, "x" * 81)
    expect(ValidationError, "VX106", client.create_product, "ok", "d" * 256)
    expect(Conflict, "CX100", client.create_product, "Alpha")
    expect(Conflict, "CX100", client.update_product, client.create_product("Zed").id,
           name="Alpha")
    expect(NotFound, "NF101", client.create_product, "Orphan", owner_id=MISSING_UUID)
    expect(Conflict, "CX102", client.delete_product, alpha.id)
    expect(NotFound, "NF100", client.update_product, MISSING_UUID, name="x")


def test_product_for_another_account_permission(client, emu, make_client):
    twofa = emu.accounts()["demo-2fa"]["id"]
    expect(NotFound, "NF101", client.create_product, "Theirs", owner_id=twofa)
    collab = next(a for a in client.list_accounts() if a.username == "demo-collab")
    p = client.create_product("For collab", owner_id=collab.id)
    assert p.owner_id == collab.id


# -- device groups (§3.3) ------------------------------------------------------------------
def test_device_group_crud(client, alpha):
    g = client.create_device_group(alpha.id, "development_devicegroup", "New Dev", "d",
                                   env_vars={"A": "1", "B": 2})
    assert isinstance(g, DeviceGroup) and g.group_type == "development_devicegroup"
    assert g.product_id == alpha.id and g.env_vars == {"A": "1", "B": 2}
    assert g.current_deployment_id is None
    g2 = client.update_device_group(g, {"name": "Renamed", "env_vars": None})
    assert g2.name == "Renamed" and g2.env_vars == {}
    assert g.id in {x.id for x in client.list_device_groups(product_id=alpha.id)}
    assert {x.type for x in client.list_device_groups(type_="development_devicegroup")} == {
        "development_devicegroup"}
    client.restart_device_group(g.id)
    client.restart_device_group(g.id, conditional=True)
    client.delete_device_group(g.id)
    expect(NotFound, "NF100", client.get_device_group, g.id)


def test_factory_groups_and_targets(client, alpha):
    prod = client.create_device_group(alpha.id, "production_devicegroup", "Prod")
    assert prod.is_production and prod.attributes["load_code_after_blessing"] is True
    dut = client.create_device_group(alpha.id, "dut_devicegroup", "DUT")
    fixture = client.create_device_group(alpha.id, "factoryfixture_devicegroup", "Fix",
                                         production_target=(prod.type, prod.id),
                                         dut_target=(dut.type, dut.id))
    assert (fixture.production_target_id, fixture.dut_target_id) == (prod.id, dut.id)
    expect(Conflict, "CX104", client.delete_device_group, prod.id)
    expect(ValidationError, "VX107", client.create_device_group, alpha.id,
           "factoryfixture_devicegroup", "No targets")
    expect(ValidationError, "VX104", client.create_device_group, alpha.id,
           "development_devicegroup", "Dev region", region="eu")


def test_device_group_errors(client, alpha, alpha_dev, emu):
    expect(Conflict, "CX101", client.create_device_group, alpha.id, "development_devicegroup",
           "Alpha Dev")
    expect(ValidationError, "VX102", client.create_device_group, alpha.id, "bogus_devicegroup",
           "Bogus")
    expect(NotFound, "NF101", client.create_device_group, MISSING_UUID,
           "development_devicegroup", "Nowhere")
    expect(ValidationError, "VX112", client.create_device_group, alpha.id,
           "development_devicegroup", "Bad env", env_vars={"1bad": "x"})
    expect(Conflict, "CX103", client.delete_device_group, alpha_dev.id)
    shared = next(p for p in client.list_products() if p.name == "Shared Product")
    expect(PermissionDenied, "PX300", client.create_device_group, shared.id,
           "production_devicegroup", "Not commercial")
    expect(NotFound, "NF100", client.restart_device_group, MISSING_UUID)


def test_min_supported_deployment(client, alpha, alpha_dev):
    deps = client.list_deployments(group_id=alpha_dev.id)
    newest, oldest = deps[0], deps[-1]
    client.set_min_supported_deployment(alpha_dev.id, newest.id)
    assert client.get_device_group(alpha_dev.id).min_supported_deployment_id == newest.id
    expect(Conflict, "CX113", client.set_min_supported_deployment, alpha_dev.id, oldest.id)
    other = client.create_device_group(alpha.id, "development_devicegroup", "Other")
    expect(Conflict, "CX114", client.set_min_supported_deployment, other.id, newest.id)
    expect(NotFound, "NF101", client.set_min_supported_deployment, alpha_dev.id, MISSING_UUID)
    assert client.current_deployment(other) is None
    current = client.current_deployment(client.get_device_group(alpha_dev.id))
    assert current is not None and current.id == newest.id


# -- devices (§3.4) ------------------------------------------------------------------------
def test_device_reads_and_lookup(client):
    devs = devices_by_name(client)
    assert len(devs) == 6
    alpha1 = devs["Alpha 1"]
    assert alpha1.devicegroup_type == "development_devicegroup" and alpha1.online
    assert client.get_device(alpha1.mac_address).id == alpha1.id
    assert client.get_device(alpha1.agent_id).id == alpha1.id
    loose = devs["Loose imp001"]
    assert loose.devicegroup_id is None and loose.agent_id is None
    unassigned = {d.id for d in client.list_devices(unassigned=True)}
    assert unassigned == {devs["Loose imp001"].id, devs["Loose offline"].id}
    assert {d.name for d in client.list_devices(group_id=alpha1.devicegroup_id)} == {
        "Alpha 1", "Alpha 2", "Alpha 3"}
    expect(NotFound, "NF100", client.get_device, MISSING_DEVICE)


def test_device_rename_restart_delete(client, alpha_dev, emu):
    devs = devices_by_name(client)
    a1, loose = devs["Alpha 1"], devs["Loose offline"]
    assert client.rename_device(a1.id, "Kitchen").name == "Kitchen"
    assert client.rename_device(a1.id, "").attributes["name"] is None
    expect(ValidationError, "VX105", client.rename_device, a1.id, "n" * 81)
    emu.config(simulation={"restart_delay_s": 0})
    client.restart_device(a1.id)
    client.restart_device(a1.id, conditional=True)
    expect(Conflict, "CX107", client.restart_device, loose.id)
    expect(Conflict, "CX108", client.delete_device, a1.id)
    client.delete_device(loose.id)
    expect(NotFound, "NF100", client.get_device, loose.id)


def test_device_history(client, emu):
    a1 = devices_by_name(client)["Alpha 1"]
    emu.control("POST", f"/devices/{a1.id}/logs",
                {"entries": [{"type": "server.log", "msg": "legacy"}, {"type": "odd", "msg": ""}]})
    logs = client.device_logs(a1.id)
    assert len(logs) == 22
    assert [e.ts for e in logs] == sorted(e.ts for e in logs)  # oldest first
    assert (logs[-2].type, logs[-2].msg) == ("device.log", "legacy")
    assert logs[-1].type == "odd" and all(e.device_id == a1.id for e in logs)
    assert [e.msg for e in client.device_logs(a1.id, limit=2)] == ["legacy", ""]
    entries, more = client.device_logs_page(a1.id, 1, 5)
    assert len(entries) == 5 and more
    entries, more = client.device_logs_page(a1.id, 5, 5)
    assert len(entries) == 2 and not more
    expect(NotFound, "NF100", client.device_logs, MISSING_DEVICE)


# -- deployments (§3.5) --------------------------------------------------------------------
def test_compiler_warnings_of_a_successful_deploy_are_kept(client, alpha_dev, emu):
    warning = {"file": "device_code", "row": 1, "column": 7, "text": "unused local 'x'"}
    emu.control("PUT", "/faults", {"compile_warnings": [warning]})
    d = client.create_deployment(alpha_dev.type, alpha_dev.id, device_code="local x = 1;",
                                 agent_code="")
    [item] = d.warnings
    assert item["status"] == "201" and item["meta"] == [{**warning, "type": "warning"}]
    assert client.get_deployment(d.id).warnings == []  # only the create answer carries them


def test_deployment_crud(client, alpha_dev, emu):
    clear_log(emu)
    d = client.create_deployment(alpha_dev.type, alpha_dev.id, device_code="server.log(1);",
                                 agent_code="", description="build", tags=["v1", "rc"])
    assert isinstance(d, Deployment) and d.tags == ["v1", "rc"] and len(d.sha) == 64
    assert d.devicegroup_id == alpha_dev.id and d.warnings == []
    (post,) = [r for r in requests_log(emu) if r["path"] == "/v5/deployments"]
    assert post["status"] == 201
    assert client.get_device_group(alpha_dev.id).current_deployment_id == d.id
    listed = client.list_deployments(group_id=alpha_dev.id)
    assert listed[0].id == d.id and len(listed) == 3  # newest first
    assert [x.id for x in client.list_deployments(tags=["rc"])] == [d.id]
    assert [x.id for x in client.list_deployments(sha=d.sha)] == [d.id]
    flagged = client.update_deployment(d.id, flagged=True)
    assert flagged.flagged and flagged.rel_id("flagger") == client.me().id
    assert [x.id for x in client.list_deployments(flagged=True)] == [d.id]
    expect(Conflict, "CX105", client.delete_deployment, d.id)
    client.update_deployment(d.id, flagged=False)
    expect(Conflict, "CX106", client.delete_deployment, d.id)
    # generic `devicegroup` type in the identifier is accepted too
    generic = client.create_deployment("devicegroup", alpha_dev.id, device_code="",
                                       agent_code="")
    assert generic.devicegroup_id == alpha_dev.id


def test_deleting_an_old_deployment(client, alpha_dev):
    old = client.list_deployments(group_id=alpha_dev.id)[0]  # the current one
    new = client.create_deployment(alpha_dev.type, alpha_dev.id, device_code="", agent_code="")
    client.set_min_supported_deployment(alpha_dev.id, new.id)
    client.delete_deployment(old.id)  # now older than the minimum
    expect(NotFound, "NF100", client.get_deployment, old.id)
    expect(NotFound, "NF100", client.delete_deployment, old.id)


def test_compile_error_items(client, alpha_dev, emu):
    before = len(client.list_deployments(group_id=alpha_dev.id))
    err = expect(CompileError, "CX005", client.create_deployment, alpha_dev.type, alpha_dev.id,
                 device_code="function f() {\n  return [1, 2;\n}", agent_code='local s = "oops\n')
    assert isinstance(err, BadRequest) and err.status == 400
    by_file = {i["file"]: i for i in err.items}
    assert set(by_file) == {"agent_code", "device_code"}
    assert by_file["agent_code"]["text"] == "newline in a constant"
    assert (by_file["agent_code"]["row"], by_file["agent_code"]["column"]) == (1, 11)
    assert by_file["device_code"]["text"] == "expected ']'"
    assert (by_file["device_code"]["row"], by_file["device_code"]["column"]) == (3, 1)
    assert len(client.list_deployments(group_id=alpha_dev.id)) == before  # nothing created


def test_deployment_errors(client, alpha_dev):
    expect(ValidationError, "VX111", client.create_deployment, alpha_dev.type, alpha_dev.id,
           device_code="", agent_code="", tags=["bad tag"])
    expect(ValidationError, "VX106", client.create_deployment, alpha_dev.type, alpha_dev.id,
           device_code="", agent_code="", description="x" * 256)
    expect(NotFound, "NF101", client.create_deployment, "development_devicegroup",
           MISSING_UUID, device_code="", agent_code="")
    expect(ValidationError, "VX102", client.create_deployment, "production_devicegroup",
           alpha_dev.id, device_code="", agent_code="")
    expect(NotFound, "NF100", client.get_deployment, MISSING_UUID)
    expect(ValidationError, "VX104", client.update_deployment,
           client.list_deployments()[0].id, origin="x")


# -- webhooks (§3.7) -----------------------------------------------------------------------
def test_webhooks(client, alpha_dev):
    w = client.create_webhook(alpha_dev.type, alpha_dev.id, "https://example.com/h",
                              "deployment")
    assert isinstance(w, Webhook) and w.attributes["content_type"] == "application/json"
    assert [x.id for x in client.list_webhooks(alpha_dev.id)] == [w.id]
    w2 = client.update_webhook(w.id, url="https://example.com/2",
                               content_type="application/x-www-form-urlencoded")
    assert w2.attributes["url"] == "https://example.com/2"
    assert client.get_webhook(w.id).attributes["content_type"].startswith("application/x-www")
    expect(ValidationError, "VX110", client.create_webhook, alpha_dev.type, alpha_dev.id,
           "not a url", "deployment")
    expect(ValidationError, "VX113", client.create_webhook, alpha_dev.type, alpha_dev.id,
           "https://example.com/b", "blessing")
    expect(ValidationError, "VX104", client.update_webhook, w.id, event="blinkup")
    client.delete_webhook(w.id)
    expect(NotFound, "NF100", client.get_webhook, w.id)


# -- refresh-token records (§2.7) ------------------------------------------------------------
def test_refresh_token_records(client, emu):
    records = client.list_refresh_tokens()
    assert len(records) == 1 and records[0].created_at is not None
    client.delete_refresh_token(records[0].id)
    assert client.list_refresh_tokens() == []
    expect(NotFound, "NF100", client.delete_refresh_token, records[0].id)


# -- assign / unassign with per-device results (§3.3.9-10, §4.3) --------------------------------
def test_assign_move_and_per_device_failures(client, alpha, alpha_dev):
    devs = devices_by_name(client)
    other = client.create_device_group(alpha.id, "development_devicegroup", "Second")
    fixture_target = client.create_device_group(alpha.id, "production_devicegroup", "P")
    dut = client.create_device_group(alpha.id, "dut_devicegroup", "D")
    fixture = client.create_device_group(alpha.id, "factoryfixture_devicegroup", "F",
                                         production_target=(fixture_target.type,
                                                            fixture_target.id),
                                         dut_target=(dut.type, dut.id))
    ok = client.assign_devices(other.id, [devs["Alpha 1"].id, devs["Loose offline"].mac_address])
    assert ok.ok and ok.applied == [devs["Alpha 1"].id, devs["Loose offline"].mac_address]
    assert client.get_device(devs["Alpha 1"].id).devicegroup_id == other.id  # moved

    mixed = client.assign_devices(fixture.id, [devs["Alpha 2"].id, devs["Loose imp001"].id,
                                               MISSING_DEVICE, devs["Alpha 2"].id])
    assert mixed.applied == [devs["Alpha 2"].id]  # duplicates sent once
    assert {k: v.code for k, v in mixed.failed.items()} == {
        devs["Loose imp001"].id: "CX112", MISSING_DEVICE: "NF100"}
    assert mixed.failed[MISSING_DEVICE].status == 404
    assert mixed.failed[devs["Loose imp001"].id].status == 409
    assert not mixed.ok

    into_dut = client.assign_devices(dut.id, [devs["Alpha 3"].id])
    assert into_dut.failed[devs["Alpha 3"].id].code == "CX110"
    expect(NotFound, "NF100", client.assign_devices, MISSING_UUID, [devs["Alpha 3"].id])


def test_unassign_per_device(client, alpha_dev):
    devs = devices_by_name(client)
    res = client.unassign_devices(alpha_dev.id, [devs["Alpha 1"].id, devs["Loose imp001"].id])
    assert res.applied == [devs["Alpha 1"].id]
    assert res.failed[devs["Loose imp001"].id].code == "NF104"
    d = client.get_device(devs["Alpha 1"].id)
    assert d.devicegroup_id is None and d.product_id is None and d.agent_id is None
    assert not d.attributes["agent_running"]


def test_bulk_chunks_over_100(client, alpha, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 260, "products": 1, "groups": 1})
    fresh = client.create_device_group(alpha.id, "development_devicegroup", "Bulk")
    ids = [d.id for d in client.list_devices() if d.name not in {"Shared 1"}][:250]
    ids.append(MISSING_DEVICE)
    clear_log(emu)
    result = client.assign_devices(fresh.id, ids)
    assert len(result.applied) == 250 and set(result.failed) == {MISSING_DEVICE}
    posts = [r for r in requests_log(emu) if r["method"] == "POST"]
    assert [r["status"] for r in posts] == [204, 204, 400]
    import json
    assert [len(json.loads(r["body"])["data"]) for r in posts] == [100, 100, 51]
    assert len(client.list_devices(group_id=fresh.id)) == 250
    back = client.unassign_devices(fresh.id, ids[:250])
    assert back.ok and len(back.applied) == 250


def test_unassign_from_production_needs_unbond_key(client, emu):
    emu.control("POST", "/reset", {"seed": "demo", "config": {
        "rate_limit": {"limit": 0, "window_s": 1}, "simulation": {"enabled": False}}})
    client.login("demo", emu.accounts()["demo"]["password"])
    prod = next(g for g in client.list_device_groups(type_="production_devicegroup")
                if g.name == "Thermo Production")
    members = [d.id for d in client.list_devices(group_id=prod.id)]
    assert len(members) == 2
    expect(PermissionDenied, "PX301", client.unassign_devices, prod.id, members)
    expect(PermissionDenied, "PX301", client.unassign_devices, prod.id, members,
           unbond_key="wrong-key")
    assert len(client.list_devices(group_id=prod.id)) == 2  # nothing touched
    unbond = emu.accounts()["demo"]["unbond_key"]
    res = client.unassign_devices(prod.id, members, unbond_key=unbond)
    assert res.ok and res.applied == members
    assert client.list_devices(group_id=prod.id) == []
    un = [r for r in requests_log(emu) if r["method"] == "DELETE" and r["status"] == 204][-1]
    assert un["headers"]["X-Electricimp-Key"] == unbond
    # a production device may move only within its type and product (CX111)
    dev = next(g for g in client.list_device_groups(type_="development_devicegroup"))
    prod2 = client.create_device_group(prod.product_id, "production_devicegroup", "Prod 2")
    test_prod = next(g for g in client.list_device_groups(type_="pre_production_devicegroup"))
    (blessed,) = client.list_devices(group_id=test_prod.id)
    moved = client.assign_devices(dev.id, [blessed.id])
    assert moved.failed[blessed.id].code == "CX111"
    assert client.assign_devices(prod2.id, [blessed.id]).failed[blessed.id].code == "CX110"
    expect(Conflict, "CX109", client.delete_device, blessed.id)


# -- log streams, low level (§3.6.2-5) ---------------------------------------------------------
def test_log_stream_calls(client, emu):
    stream_id, url = client.create_log_stream()
    assert url == f"{client.base_url}/logstream/{stream_id}"
    dev = devices_by_name(client)["Alpha 1"]
    client.subscribe_device(stream_id, dev.mac_address)  # any identifier form
    client.subscribe_device(stream_id, dev.id)  # again: fine
    client.unsubscribe_device(stream_id, dev.id)
    client.unsubscribe_device(stream_id, dev.id)  # not subscribed: still fine
    expect(NotFound, "NF100", client.subscribe_device, stream_id, MISSING_DEVICE)
    expect(NotFound, "NF100", client.subscribe_device, MISSING_UUID, dev.id)
    again, _ = client.create_log_stream()  # the account's only slot: the old one is gone
    expect(NotFound, "NF100", client.subscribe_device, stream_id, dev.id)
    client.subscribe_device(again, dev.id)
