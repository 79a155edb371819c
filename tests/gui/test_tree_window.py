"""The account tree window against the emulator: load, tree contents, filter, details, refresh."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel

from impdesk.core.tree import DEVICE, GROUP, OWNER, PRODUCT, UNASSIGNED_KEY
from impdesk.gui.tree_model import Column
from tests.gui.conftest import settle

DEMO_CONFIG = {"rate_limit": {"limit": 0, "window_s": 1}, "simulation": {"enabled": False}}


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture
def demo_window(make_window, emu):
    """A signed-in window on the `demo` data set (production, DUT and fixture groups)."""
    emu.server.reset(seed="demo", config=DEMO_CONFIG)
    return make_window()


def key_of(window, kind: str, name: str):
    """The model key of the node of `kind` shown as `name`."""
    for key in window.model.nodes:
        if key[0] == kind and window.model.data(window.model.index_of(key)) == name:
            return key
    raise AssertionError(f"no {kind} named {name!r}")


def proxy_index(window, key, column: int = 0):
    return window.proxy.mapFromSource(window.model.index_of(key, column))


def select(window, *keys) -> None:
    selection = window.view.selectionModel()
    selection.clearSelection()
    for key in keys:
        selection.select(proxy_index(window, key), QItemSelectionModel.SelectionFlag.Select
                         | QItemSelectionModel.SelectionFlag.Rows)


def visible_tree(window, parent=None) -> dict:
    """The proxy's visible rows as nested {name: {children}}."""
    proxy = window.proxy
    from PySide6.QtCore import QModelIndex

    parent = parent or QModelIndex()
    return {proxy.index(r, 0, parent).data(): visible_tree(window, proxy.index(r, 0, parent))
            for r in range(proxy.rowCount(parent))}


def set_filter(qtbot, window, text: str) -> None:
    window.filter.clear()
    if text:
        qtbot.keyClicks(window.filter, text)
    qtbot.waitUntil(lambda: window.proxy._needle == text.strip().casefold(), timeout=2000)


def state_text(window, key) -> str:
    return window.model.data(window.model.index_of(key, Column.STATE))


# -- tests ---------------------------------------------------------------------------------------
def test_tree_matches_emulator_data(make_window, emu):
    window = make_window()
    model = window.model
    products = emu.list_all("/products")
    groups = emu.list_all("/devicegroups")
    devices = emu.list_all("/devices")
    assert {k[1] for k in model.nodes if k[0] == PRODUCT} == {p["id"] for p in products}
    assert {k[1] for k in model.nodes if k[0] == GROUP} == {g["id"] for g in groups}
    assert {k[1] for k in model.nodes if k[0] == DEVICE} == {d["id"] for d in devices}
    for device in devices:
        node = model.nodes[(DEVICE, device["id"])]
        group = device["relationships"].get("devicegroup")
        assert node.parent.key == ((GROUP, group["id"]) if group else UNASSIGNED_KEY)
        assert model.data(model.index_of(node.key)) == (device["attributes"]["name"]
                                                        or device["id"])


def test_collaborator_products_sit_under_their_owner(demo_window):
    owner = key_of(demo_window, OWNER, "Shared by demo-collab")
    children = [demo_window.model.data(demo_window.model.index_of(c.key))
                for c in demo_window.model.nodes[owner].children]
    assert children == ["Greenhouse Monitor"]


@pytest.mark.parametrize(("needle", "expected"), [
    ("garage", {"Weather Station": {"WS Dev": {"Garage sensor": {}}}}),
    ("4312ECE2", {"Smart Thermostat": {"Thermo Production": {"Thermostat SN-0001": {}}}}),
    ("0c:2a:69:f2:95:97", {"Unassigned devices": {"55c36c3d5cbbc080": {}}}),
    ("lPYEy4vY6tJF", {"Asset Tracker": {"Tracker Dev": {"Van 1": {}}}}),
    ("imp001", {"Smart Thermostat": {"Thermo Dev": {"Hallway": {}}}}),
    ("imp003", {"Unassigned devices": {"Bench unit": {}}}),
    ("pre_dut", {"Smart Thermostat": {"Thermo Test DUT": {"41a8a6e165e04993": {}}}}),
])
def test_filter_keeps_parents_of_matches_and_hides_the_rest(qtbot, demo_window, needle,
                                                             expected):
    window = demo_window
    all_rows = window.proxy.rowCount()
    assert all_rows == 6  # 4 own products + the collaborator + Unassigned
    set_filter(qtbot, window, needle)
    assert visible_tree(window) == expected
    assert window.view.isExpanded(window.proxy.index(0, 0))  # filtering expands the matches
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc clears the filter
    assert window.filter.text() == ""
    qtbot.waitUntil(lambda: window.proxy.rowCount() == all_rows, timeout=2000)


def test_filter_on_a_group_keeps_all_its_devices(qtbot, demo_window):
    set_filter(qtbot, demo_window, "ws beta")
    tree = visible_tree(demo_window)
    assert list(tree) == ["Weather Station"]
    assert tree["Weather Station"] == {"WS Beta": {f"Beta unit {n}": {} for n in range(1, 5)}}
    set_filter(qtbot, demo_window, "no such thing")
    assert demo_window.proxy.rowCount() == 0


def test_counts_on_products_groups_and_unassigned(demo_window):
    window = demo_window
    assert state_text(window, key_of(window, GROUP, "WS Dev")) == "6 devices · 5 online"
    assert state_text(window, key_of(window, GROUP, "WS Beta")) == "4 devices · 3 online"
    assert state_text(window, key_of(window, PRODUCT, "Weather Station")) == \
        "10 devices · 8 online"
    assert state_text(window, key_of(window, GROUP, "Tracker Field Test")) == \
        "0 devices · 0 online"
    assert state_text(window, key_of(window, GROUP, "Thermo DUT")) == "1 device · 1 online"
    assert state_text(window, UNASSIGNED_KEY) == "4 devices · 2 online"
    select(window, key_of(window, GROUP, "WS Dev"))
    assert window.details.value_of("devices") == "6"
    assert window.details.value_of("online devices") == "5"


def test_sorting_by_columns(demo_window):
    window = demo_window
    key = key_of(window, GROUP, "WS Dev")

    def column(col: int) -> list[str]:
        ws_dev = proxy_index(window, key)  # rows move when the order changes
        return [window.proxy.index(r, col, ws_dev).data()
                for r in range(window.proxy.rowCount(ws_dev))]

    assert column(Column.NAME) == sorted(column(Column.NAME), key=str.casefold)
    window.view.sortByColumn(Column.NAME, Qt.SortOrder.DescendingOrder)
    assert column(Column.NAME) == ["Shed sensor", "Roof sensor", "Garden sensor",
                                   "Garage sensor", "Balcony sensor", "Attic sensor"]
    window.view.sortByColumn(Column.DEVICE_ID, Qt.SortOrder.AscendingOrder)
    assert column(Column.DEVICE_ID) == sorted(column(Column.DEVICE_ID))
    window.view.sortByColumn(Column.RSSI, Qt.SortOrder.DescendingOrder)
    rssi = [int(v.split()[0]) for v in column(Column.RSSI)]
    assert rssi == sorted(rssi, reverse=True)  # numerically, not as text
    window.view.sortByColumn(Column.STATE, Qt.SortOrder.DescendingOrder)
    rows = [(window.proxy.index(r, 0).data(), window.proxy.index(r, Column.STATE).data())
            for r in range(window.proxy.rowCount())]
    counts = [int(state.split()[0]) for _, state in rows[:-2]]
    assert counts == [10, 10, 3, 0]  # by device count, not alphabetically
    assert rows[-3][0] == "Sandbox"
    assert [name for name, _ in rows[-2:]] == ["Shared by demo-collab", "Unassigned devices"]


def test_details_show_every_attribute_as_plain_text(qloop, demo_window, emu):
    window = demo_window
    roof = key_of(window, DEVICE, "Roof sensor")
    assert emu.patch(f"/devices/{roof[1]}", json={"data": {
        "type": "device", "id": roof[1], "attributes": {"name": "<b>x</b>"}}}).ok
    qloop.run(window.refresh())
    index = window.model.index_of(roof)
    assert window.model.data(index) == "<b>x</b>"
    select(window, roof)
    assert window.details.title.text() == "<b>x</b>"
    assert window.details.title.textFormat() == Qt.TextFormat.PlainText
    served = emu.get(f"/devices/{roof[1]}").json()["data"]
    assert window.details.value_of("id") == roof[1]
    for name, value in served["attributes"].items():
        shown = window.details.value_of(name)
        assert shown is not None, name
        if isinstance(value, str):
            assert shown == value
    assert window.details.value_of("name") == "<b>x</b>"
    assert window.details.value_of("devicegroup →").endswith(
        served["relationships"]["devicegroup"]["id"])
    row = next(r for r in range(window.details.table.rowCount())
               if window.details.table.item(r, 0).text() == "agent_url")
    link = window.details.table.cellWidget(row, 1)
    assert isinstance(link, QLabel) and link.openExternalLinks()
    assert served["attributes"]["agent_url"] in link.text()


def test_refresh_after_outside_changes_updates_rows_without_a_reset(qtbot, qloop, demo_window,
                                                                    emu):
    window = demo_window
    model = window.model
    resets: list[int] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))
    garden = key_of(window, DEVICE, "Garden sensor")
    van2 = key_of(window, DEVICE, "Van 2")
    ws_dev, ws_beta = key_of(window, GROUP, "WS Dev"), key_of(window, GROUP, "WS Beta")
    tracker_dev = key_of(window, GROUP, "Tracker Dev")
    select(window, garden, van2)
    window.view.collapse(proxy_index(window, ws_beta))
    assert window.view.isExpanded(proxy_index(window, tracker_dev))
    removed_rows: list = []  # a moved device leaves its row and arrives in a new one
    model.rowsAboutToBeRemoved.connect(lambda parent, first, last: removed_rows.extend(
        model.node(model.index(r, 0, parent)).key for r in range(first, last + 1)))

    created = emu.post("/products", json={"data": {"type": "product",
                                                   "attributes": {"name": "Aardvark"}}})
    assert created.status_code == 201
    assert emu.patch(f"/devices/{garden[1]}", json={"data": {
        "type": "device", "id": garden[1], "attributes": {"name": "Herb garden"}}}).ok
    assert emu.post(f"/devicegroups/{ws_dev[1]}/relationships/devices", json={
        "data": [{"type": "device", "id": van2[1]}]}).status_code == 204

    assert window.act_refresh.shortcut() == QKeySequence(QKeySequence.StandardKey.Refresh)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    assert len(window.tasks) == 1  # F5 started the refresh
    settle(qloop, window)

    assert resets == [] and removed_rows == [van2]  # nothing else left the tree
    assert model.data(model.index_of(garden)) == "Herb garden"
    assert model.nodes[van2].parent.key == ws_dev
    assert model.nodes[(PRODUCT, created.json()["data"]["id"])].parent is model.root
    assert set(window.selected_device_ids()) == {garden[1], van2[1]}
    assert window.view.isExpanded(proxy_index(window, tracker_dev))
    assert window.view.isExpanded(proxy_index(window, ws_dev))
    assert not window.view.isExpanded(proxy_index(window, ws_beta))
    assert state_text(window, ws_dev) == "7 devices · 6 online"
    assert state_text(window, tracker_dev) == "2 devices · 1 online"
    assert "Loaded" in window.statusBar().currentMessage()


def test_refresh_after_a_device_is_removed_and_a_group_deleted(qloop, demo_window, emu):
    window = demo_window
    resets: list[int] = []
    window.model.modelAboutToBeReset.connect(lambda: resets.append(1))
    field_test = key_of(window, GROUP, "Tracker Field Test")
    spare = key_of(window, DEVICE, "Spare sensor")
    assert emu.delete(f"/devicegroups/{field_test[1]}").status_code == 204
    assert emu.delete(f"/devices/{spare[1]}").status_code == 204
    qloop.run(window.refresh(quiet=True))
    assert field_test not in window.model.nodes and spare not in window.model.nodes
    assert state_text(window, UNASSIGNED_KEY) == "3 devices · 1 online"
    assert resets == []


def test_columns_can_be_hidden_from_the_header_menu(make_window):
    from impdesk.gui.tree_model import Column

    window = make_window()
    menu = window.view.column_menu()
    agent = next(a for a in menu.actions() if a.text() == "Agent")
    assert agent.isChecked() and not window.view.header().isSectionHidden(Column.AGENT)
    agent.setChecked(False)
    assert window.view.header().isSectionHidden(Column.AGENT)
    assert "Name" not in [a.text() for a in menu.actions()]  # the name column always stays
    assert window.view.column_menu().actions()[Column.AGENT - 1].isChecked() is False


def test_first_window_shows_every_column_without_scrolling_sideways(qtbot, demo_window):
    from impdesk.gui.tree_model import Column

    window = demo_window
    view = window.view
    qtbot.waitUntil(lambda: view.horizontalScrollBar().maximum() == 0, timeout=3000)
    assert sum(view.columnWidth(c) for c in range(len(Column))) <= view.viewport().width()
    # names are whole; the deployment column gave way, and its tooltip holds the whole text
    metrics = view.fontMetrics()
    name_room = view.columnWidth(Column.NAME) - view.indentation() * 3 - 24  # depth, icon
    longest = max(metrics.horizontalAdvance(n.payload.name) for n in window.model.nodes.values()
                  if n.kind == "device" and n.payload is not None)
    assert longest <= name_room
    group = key_of(window, "group", "Thermo Dev")
    cell = window.model.index_of(group, Column.DEPLOYMENT)
    text = window.model.data(cell)
    assert text and window.model.data(cell, Qt.ItemDataRole.ToolTipRole) == text


def test_filter_follows_renames_made_while_it_is_active(qtbot, qloop, demo_window, emu):
    window = demo_window
    garden, attic = key_of(window, DEVICE, "Garden sensor"), key_of(window, DEVICE, "Attic sensor")
    set_filter(qtbot, window, "garden")
    assert visible_tree(window) == {"Weather Station": {"WS Dev": {"Garden sensor": {}}}}
    for key, name in ((garden, "Herb bed"), (attic, "Garden shed")):
        assert emu.patch(f"/devices/{key[1]}", json={"data": {
            "type": "device", "id": key[1], "attributes": {"name": name}}}).ok
    window.tasks.spawn(window.refresh())
    settle(qloop, window)
    # the proxy's remembered matches are dropped when the rows change: no stale answer
    assert visible_tree(window) == {"Weather Station": {"WS Dev": {"Garden shed": {}}}}
    set_filter(qtbot, window, "")
    assert "Herb bed" in visible_tree(window)["Weather Station"]["WS Dev"]
