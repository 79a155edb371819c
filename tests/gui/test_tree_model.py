"""The tree model and its filter proxy under Qt's model tester, and the Qt-free join and rules."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QModelIndex, Qt

from impdesk.api import Client
from impdesk.api.records import Account, Device, DeviceGroup, Product
from impdesk.api.snapshot import Snapshot
from impdesk.core.rules import check_move
from impdesk.core.services import AccountService
from impdesk.core.tree import (
    DEVICE,
    GROUP,
    OWNER,
    PRODUCT,
    ROOT_KEY,
    UNASSIGNED_KEY,
    build_shape,
    plan,
)
from impdesk.gui.proxies import TreeFilterProxy
from impdesk.gui.tree_model import AccountTreeModel, Column

# Qt's C++ model tester reports failures as warnings: make them fail the test.
pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("propagateSizeHints")]

NO_RATE_LIMIT = {"rate_limit": {"limit": 0, "window_s": 1}, "simulation": {"enabled": False}}


# -- helpers ---------------------------------------------------------------------------------
@pytest.fixture
def service(emu, qapp):
    """An AccountService signed in to the emulator's `demo` data set, snapshot loaded."""
    emu.server.reset(seed="demo", config=NO_RATE_LIMIT)
    client = Client(emu.base)
    client.login("demo", emu.accounts()["demo"]["password"])
    svc = AccountService(client)
    svc.load()
    yield svc
    client.close()


def by_name(items, name):
    return next(i for i in items if i.name == name)


def assert_model_matches(model: AccountTreeModel, shape) -> None:
    """Every node of the shape sits under its parent in the model, and nothing else is there."""
    assert set(model.nodes) - {ROOT_KEY} == set(shape.parents)
    for key, parent_key in shape.parents.items():
        node = model.nodes[key]
        assert node.parent is model.nodes[parent_key]
        assert node.payload is shape.payloads[key] or node.payload == shape.payloads[key]
        index = model.index_of(key)
        assert model.node(index) is node
        assert model.parent(index) == model.index_of(parent_key)


def mutate_on_server(emu, snap) -> dict:
    """A changed account: device moved and one unassigned, group removed, product added, renames."""
    groups, devices = snap.device_groups, snap.devices
    ws_dev, tracker_dev = by_name(groups, "WS Dev"), by_name(groups, "Tracker Dev")
    field_test = by_name(groups, "Tracker Field Test")
    van1, roof, beta1 = (by_name(devices, n) for n in ("Van 1", "Roof sensor", "Beta unit 1"))
    assert emu.post(f"/devicegroups/{ws_dev.id}/relationships/devices",
                    json={"data": [{"type": "device", "id": van1.id}]}).status_code == 204
    assert emu.delete(f"/devicegroups/{ws_dev.id}/relationships/devices",
                      json={"data": [{"type": "device", "id": roof.id}]}).status_code == 204
    assert emu.delete(f"/devicegroups/{field_test.id}").status_code == 204
    created = emu.post("/products", json={"data": {"type": "product",
                                                   "attributes": {"name": "Zeta Labs"}}})
    assert created.status_code == 201, created.text
    assert emu.patch(f"/devices/{beta1.id}", json={"data": {
        "type": "device", "id": beta1.id, "attributes": {"name": "Beta unit one"}}}).ok
    assert emu.patch(f"/devicegroups/{tracker_dev.id}", json={"data": {
        "type": tracker_dev.type, "id": tracker_dev.id,
        "attributes": {"name": "Tracker Fleet"}}}).ok
    return {"van1": van1.id, "roof": roof.id, "ws_dev": ws_dev.id, "field_test": field_test.id,
            "product": created.json()["data"]["id"], "beta1": beta1.id,
            "tracker_dev": tracker_dev.id}


def name_of(model: AccountTreeModel, key) -> str:
    return model.data(model.index_of(key), Qt.ItemDataRole.DisplayRole)


# -- the model and the proxy under the model tester ---------------------------------------------
@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "py-tester"])
def test_model_passes_modeltester_and_keeps_passing_while_it_changes(
        qtmodeltester, service, emu, force_py):
    model = AccountTreeModel()
    model.reset_to(service.shape())
    qtmodeltester.check(model, force_py=force_py)
    assert_model_matches(model, service.shape())
    resets = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))

    ids = mutate_on_server(emu, service.snapshot)
    shape = service.load()
    model.apply(shape)

    assert resets == []
    assert_model_matches(model, shape)
    assert model.nodes[(DEVICE, ids["van1"])].parent.key == (GROUP, ids["ws_dev"])
    assert model.nodes[(DEVICE, ids["roof"])].parent.key == UNASSIGNED_KEY
    assert (GROUP, ids["field_test"]) not in model.nodes
    assert model.nodes[(PRODUCT, ids["product"])].parent is model.root
    assert name_of(model, (DEVICE, ids["beta1"])) == "Beta unit one"
    assert name_of(model, (GROUP, ids["tracker_dev"])) == "Tracker Fleet"
    # Counts follow the moves: WS Dev lost the roof sensor and gained Van 1.
    ws = model.index_of((GROUP, ids["ws_dev"]), Column.STATE)
    assert model.data(ws, Qt.ItemDataRole.DisplayRole) == "6 devices · 5 online"

    # And back again: the tester keeps watching a second round of changes.
    model.apply(build_shape(Snapshot(accounts=service.snapshot.accounts)))
    assert set(model.nodes) == {ROOT_KEY, UNASSIGNED_KEY}
    model.apply(shape)
    assert_model_matches(model, shape)
    assert resets == []


@pytest.mark.parametrize("checked", ["model", "proxy"])
@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "py-tester"])
def test_batch_moves_of_scattered_devices_and_a_group_keep_the_model_consistent(
        qtmodeltester, service, force_py, checked):
    """Devices leave in runs of removed rows and arrive in runs of inserted rows; a container
    moves in one layout change; the tester (on the model and on a sorting proxy) sees both."""
    model = AccountTreeModel()
    model.reset_to(service.shape())
    proxy = TreeFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.NAME, Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(model if checked == "model" else proxy, force_py=force_py)
    moving, moved, removed = [], [], []
    model.rows_moving.connect(moving.append)
    model.rows_moved.connect(moved.append)
    model.rowsAboutToBeRemoved.connect(lambda parent, first, last: removed.append(
        (model.node(parent).key, first, last)))
    shape = service.shape()
    groups, snap = service.snapshot.device_groups, service.snapshot
    ws_dev, ws_beta = by_name(groups, "WS Dev"), by_name(groups, "WS Beta")
    ws_devices = [c.key for c in model.nodes[(GROUP, ws_dev.id)].children]
    scattered = ws_devices[::2]  # rows 0, 2, 4: three runs of one row
    for key in scattered:
        shape.parents[key] = (GROUP, ws_beta.id)
    thermo = by_name(snap.products, "Smart Thermostat")
    tracker_dev = by_name(groups, "Tracker Dev")
    shape.parents[(GROUP, tracker_dev.id)] = (PRODUCT, thermo.id)  # a container moves
    selected_before = model.nodes[(GROUP, tracker_dev.id)].children[:]

    model.apply(shape)

    assert_model_matches(model, shape)
    assert moving == [scattered] and moved == [scattered]
    assert [r for r in removed if r[0] == (GROUP, ws_dev.id)] == [
        ((GROUP, ws_dev.id), row, row) for row in (4, 2, 0)]  # from the end, run by run
    assert model.nodes[(GROUP, tracker_dev.id)].children == selected_before  # subtree kept
    beta = model.index_of((GROUP, ws_beta.id), Column.STATE)
    assert model.data(beta, Qt.ItemDataRole.DisplayRole).startswith(
        f"{4 + len(scattered)} devices")


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "py-tester"])
def test_filter_proxy_passes_modeltester_while_filtering_sorting_and_changing(
        qtmodeltester, service, emu, force_py):
    model = AccountTreeModel()
    model.reset_to(service.shape())
    proxy = TreeFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.NAME, Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(proxy, force_py=force_py)

    proxy.set_text("sensor")
    top = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert top == ["Weather Station", "Unassigned devices"]

    ids = mutate_on_server(emu, service.snapshot)
    model.apply(service.load())  # Van 1 and the roof sensor move while the filter is on
    proxy.set_text("van 1")
    weather = proxy.index(0, 0)
    assert weather.data() == "Weather Station"
    assert proxy.rowCount() == 1 and proxy.rowCount(weather) == 1
    ws_dev = proxy.index(0, 0, weather)
    assert ws_dev.data() == "WS Dev"
    van = proxy.index(0, 0, ws_dev)
    assert proxy.mapToSource(van) == model.index_of((DEVICE, ids["van1"]))

    proxy.set_text("")
    proxy.sort(Column.STATE, Qt.SortOrder.DescendingOrder)
    proxy.sort(Column.NAME, Qt.SortOrder.AscendingOrder)
    names = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert names[:5] == ["Asset Tracker", "Sandbox", "Smart Thermostat", "Weather Station",
                         "Zeta Labs"]
    assert names[5:] == ["Shared by demo-collab", "Unassigned devices"]


def test_model_data_roles_and_drag_flags(service):
    model = AccountTreeModel()
    model.reset_to(service.shape())
    snap = service.snapshot
    attic = by_name(snap.devices, "Attic sensor")
    index = model.index_of((DEVICE, attic.id))
    row = [model.data(model.index(index.row(), c, index.parent())) for c in Column]
    assert row[Column.NAME] == "Attic sensor"
    assert row[Column.TYPE] == "imp004m"
    assert row[Column.STATE] == "Offline"
    assert row[Column.DEVICE_ID] == attic.id
    assert model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    group = model.index_of((GROUP, attic.devicegroup_id))
    assert model.flags(group) & Qt.ItemFlag.ItemIsDropEnabled
    assert not model.flags(model.index_of((PRODUCT, attic.product_id))) & (
        Qt.ItemFlag.ItemIsDropEnabled | Qt.ItemFlag.ItemIsDragEnabled)
    assert model.flags(model.index_of(UNASSIGNED_KEY)) & Qt.ItemFlag.ItemIsDropEnabled
    assert model.rowCount(model.index(0, 1)) == 0  # children only in column 0
    assert not model.index(0, 0, model.index(0, 1)).isValid()
    assert model.headerData(Column.RSSI, Qt.Orientation.Horizontal) == "RSSI"
    model.set_pending([(DEVICE, attic.id)], "moving")
    assert model.data(index) == "Attic sensor (moving…)"
    assert not model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    assert model.parent(QModelIndex()) == QModelIndex()


# -- core/tree: the join and the plan ------------------------------------------------------------
def _acct(id_: str, username: str) -> Account:
    return Account(id_, "account", {"username": username})


def _product(id_: str, owner: str, name: str = "") -> Product:
    return Product(id_, "product", {"name": name or id_}, {"owner": ("account", owner)})


def _group(id_: str, product: str, type_: str = "development_devicegroup") -> DeviceGroup:
    return DeviceGroup(id_, type_, {"name": id_}, {"product": ("product", product)})


def _device(id_: str, group: DeviceGroup | None = None, imp_type: str = "imp004m") -> Device:
    rels = {}
    if group is not None:
        rels = {"devicegroup": (group.type, group.id), "product": ("product", group.product_id)}
    return Device(id_, "device", {"name": id_, "imp_type": imp_type}, rels)


def test_build_shape_joins_lists_and_puts_collaborator_products_under_their_owner(caplog):
    me, other = _acct("me", "demo"), _acct("them", "demo-collab")
    mine, shared = _product("p1", "me"), _product("p2", "them")
    g1, g2 = _group("g1", "p1"), _group("g2", "p2")
    ghost = _group("g-ghost", "p-invisible")
    orphan = _device("d-orphan")
    orphan.relationships["devicegroup"] = ("development_devicegroup", "g-unknown")
    snap = Snapshot([mine, shared], [g1, g2, ghost],
                    [_device("d1", g1), _device("d2", g2), _device("d3"), orphan],
                    [me, other], me=me)
    with caplog.at_level(logging.WARNING, logger="impdesk.core.tree"):
        shape = build_shape(snap)
    assert shape.parents[(PRODUCT, "p1")] == ROOT_KEY
    assert shape.parents[(OWNER, "them")] == ROOT_KEY
    assert shape.payloads[(OWNER, "them")] is other
    assert shape.parents[(PRODUCT, "p2")] == (OWNER, "them")
    assert shape.parents[(GROUP, "g2")] == (PRODUCT, "p2")
    assert shape.parents[(DEVICE, "d1")] == (GROUP, "g1")
    assert shape.parents[(DEVICE, "d2")] == (GROUP, "g2")
    assert shape.parents[(DEVICE, "d3")] == UNASSIGNED_KEY
    assert shape.parents[UNASSIGNED_KEY] == ROOT_KEY
    assert (GROUP, "g-ghost") not in shape.parents
    assert (DEVICE, "d-orphan") not in shape.parents
    assert shape.orphans == ["d-orphan"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "g-ghost" in logged and "d-orphan" in logged


def test_build_shape_on_real_data_names_the_owner(service):
    model = AccountTreeModel()
    model.reset_to(service.shape())
    owners = [n for n in model.root.children if n.kind == OWNER]
    assert [name_of(model, o.key) for o in owners] == ["Shared by demo-collab"]
    assert [name_of(model, p.key) for p in owners[0].children] == ["Greenhouse Monitor"]


def test_plan_lists_removals_deepest_first_and_additions_parents_first():
    me = _acct("me", "demo")
    p1, g1, g2 = _product("p1", "me"), _group("g1", "p1"), _group("g2", "p1")
    d1, d2 = _device("d1", g1), _device("d2", g2)
    before = build_shape(Snapshot([p1], [g1, g2], [d1, d2], [me], me=me))
    p2, g3 = _product("p2", "me"), _group("g3", "p2")
    d1_moved, d4 = _device("d1", g3), _device("d4", g3)
    renamed = _device("d2", g2)
    renamed.attributes["name"] = "new name"
    after = build_shape(Snapshot([p1, p2], [g1, g3], [d1_moved, d4], [me], me=me))
    after2 = build_shape(Snapshot([p1], [g1, g2], [d1, renamed], [me], me=me))

    todo = plan(before.parents, after, before.payloads)
    assert todo.removed == [(DEVICE, "d2"), (GROUP, "g2")]
    assert todo.added == [((PRODUCT, "p2"), ROOT_KEY), ((GROUP, "g3"), (PRODUCT, "p2")),
                          ((DEVICE, "d4"), (GROUP, "g3"))]
    assert todo.moved == [((DEVICE, "d1"), (GROUP, "g3"))]
    assert plan(before.parents, after2, before.payloads).changed == [(DEVICE, "d2")]
    same = plan(before.parents, before, before.payloads)
    assert (same.removed, same.added, same.moved, same.changed) == ([], [], [], [])


# -- core/rules: contract §3.3.9 and §3.3.10 ----------------------------------------------------
GROUP_OF = {
    "dev": _group("dev", "p1"),
    "dev2": _group("dev2", "p1"),
    "other_dev": _group("other_dev", "p2"),
    "dut": _group("dut", "p1", "dut_devicegroup"),
    "pre_dut": _group("pre_dut", "p1", "pre_dut_devicegroup"),
    "prod": _group("prod", "p1", "production_devicegroup"),
    "prod2": _group("prod2", "p1", "production_devicegroup"),
    "prod_other_product": _group("prod_other_product", "p2", "production_devicegroup"),
    "pre_prod": _group("pre_prod", "p1", "pre_production_devicegroup"),
    "pre_prod2": _group("pre_prod2", "p1", "pre_production_devicegroup"),
    "fixture": _group("fixture", "p1", "factoryfixture_devicegroup"),
    "pre_fixture": _group("pre_fixture", "p1", "pre_factoryfixture_devicegroup"),
}


@pytest.mark.parametrize(("source", "target", "imp_type", "allowed", "reason_has"), [
    # DUT groups are entered only by factory BlinkUp (rule 2).
    ("dev", "dut", "imp004m", False, "DUT"),
    ("dev", "pre_dut", "imp004m", False, "DUT"),
    (None, "dut", "imp004m", False, "DUT"),
    ("prod", "dut", "imp004m", False, "DUT"),
    # (Pre-)production only from a group of the same type in the same product (rule 3).
    ("dev", "prod", "imp004m", False, "production"),
    (None, "prod", "imp004m", False, "production"),
    ("pre_prod", "prod", "imp004m", False, "production"),
    ("prod_other_product", "prod", "imp004m", False, "production"),
    ("dev", "pre_prod", "imp004m", False, "production"),
    ("prod", "prod2", "imp004m", True, ""),
    ("pre_prod", "pre_prod2", "imp004m", True, ""),
    # A production device goes anywhere else only by being unassigned first (rule 4).
    ("prod", "dev", "imp004m", False, "unassign it first"),
    ("pre_prod", "dev", "imp004m", False, "unassign it first"),
    ("prod", "fixture", "imp004m", False, "unassign it first"),
    # imp001 devices never join fixture groups (rule 5); other types may.
    ("dev", "fixture", "imp001", False, "imp001"),
    ("dev", "pre_fixture", "imp001", False, "imp001"),
    (None, "fixture", "imp001", False, "imp001"),
    ("dev", "fixture", "imp004m", True, ""),
    # Ordinary moves.
    ("dev", "dev2", "imp001", True, ""),
    ("dev", "other_dev", "imp004m", True, ""),
    (None, "dev", "imp004m", True, ""),
    ("dut", "dev", "imp004m", True, ""),
])
def test_check_move_follows_the_assignment_rules(source, target, imp_type, allowed, reason_has):
    src = GROUP_OF[source] if source else None
    verdict = check_move(_device("d", src, imp_type), src, GROUP_OF[target])
    assert verdict.allowed is allowed
    assert reason_has in verdict.reason
    assert not verdict.needs_unbond_key


@pytest.mark.parametrize(("source", "needs_key"), [
    ("prod", True), ("pre_prod", False), ("dev", False), ("dut", False), ("fixture", False)])
def test_unassign_needs_the_unbond_key_only_from_production(source, needs_key):
    src = GROUP_OF[source]
    verdict = check_move(_device("d", src), src, None)
    assert verdict.allowed and verdict.needs_unbond_key is needs_key


def test_moving_to_where_the_device_already_is_is_a_no_op():
    dev = GROUP_OF["dev"]
    verdict = check_move(_device("d", dev), dev, dev)
    assert not verdict.allowed and verdict.no_op
    assert check_move(_device("d"), None, None).no_op
