"""Drag-and-drop moves against the emulator: model contract, a real drop event, rules, undo."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from impdesk.core.tree import DEVICE, GROUP, PRODUCT, UNASSIGNED_KEY
from impdesk.gui.move_dialog import MoveDialog
from impdesk.gui.tree_model import DEVICE_IDS_MIME
from tests.gui.conftest import settle
from tests.gui.test_tree_window import demo_window, key_of, proxy_index, select

__all__ = ["demo_window"]  # the fixture, shared with the window tests

MOVE = Qt.DropAction.MoveAction


# -- helpers -------------------------------------------------------------------------------------
def server_group(emu, device_id: str) -> str | None:
    rel = emu.get(f"/devices/{device_id}").json()["data"]["relationships"].get("devicegroup")
    return rel["id"] if rel else None


def assignment_requests(emu) -> list[tuple[str, str]]:
    log = emu.control("GET", "/requests")["requests"]
    return [(r["method"], r["path"]) for r in log if "relationships/devices" in r["path"]]


def clear_request_log(emu) -> None:
    emu.control("DELETE", "/requests")


def drop(qloop, window, device_keys, target_key) -> None:
    """The model contract: drag these devices and drop them on the target, then settle."""
    model = window.model
    mime = model.mimeData([model.index_of(k) for k in device_keys])
    target = model.index_of(target_key)
    assert model.canDropMimeData(mime, MOVE, -1, 0, target)
    assert model.dropMimeData(mime, MOVE, -1, 0, target)
    settle(qloop, window)


def status(window) -> str:
    return window.statusBar().currentMessage()


# -- the model contract --------------------------------------------------------------------------
def test_mime_data_and_drop_rules_of_the_model(qtbot, qloop, demo_window, emu):
    model = demo_window.model
    garage = key_of(demo_window, DEVICE, "Garage sensor")
    ws_dev, ws_beta = key_of(demo_window, GROUP, "WS Dev"), key_of(demo_window, GROUP, "WS Beta")
    product = key_of(demo_window, PRODUCT, "Weather Station")
    mime = model.mimeData([model.index_of(garage), model.index_of(garage, 3),
                           model.index_of(ws_dev)])
    assert model.mimeTypes() == [DEVICE_IDS_MIME]
    assert json.loads(bytes(mime.data(DEVICE_IDS_MIME).data())) == [garage[1]]
    assert model.canDropMimeData(mime, MOVE, -1, 0, model.index_of(ws_beta))
    assert model.canDropMimeData(mime, MOVE, -1, 0, model.index_of(UNASSIGNED_KEY))
    assert not model.canDropMimeData(mime, MOVE, -1, 0, model.index_of(ws_dev))  # already there
    assert not model.canDropMimeData(mime, MOVE, -1, 0, model.index_of(product))
    assert not model.canDropMimeData(mime, MOVE, -1, 0, QModelIndex())
    assert not model.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, 0,
                                     model.index_of(ws_beta))
    foreign = QMimeData()
    foreign.setText(garage[1])
    assert not model.canDropMimeData(foreign, MOVE, -1, 0, model.index_of(ws_beta))
    assert model.removeRows(0, 1, model.index_of(ws_dev)) is False  # rows move only on success
    with qtbot.waitSignal(model.assign_requested,
                          check_params_cb=lambda ids, gid: ids == [garage[1]]
                          and gid == ws_beta[1]):
        assert model.dropMimeData(mime, MOVE, -1, 0, model.index_of(ws_beta))
    assert model.nodes[garage].parent.key == ws_dev  # nothing moved before the server agreed
    assert model.nodes[garage].pending is None
    settle(qloop, demo_window)
    assert model.nodes[garage].parent.key == ws_beta
    assert server_group(emu, garage[1]) == ws_beta[1]


def test_drop_moves_the_device_on_the_server_and_in_the_tree(qloop, demo_window, emu):
    window = demo_window
    garage = key_of(window, DEVICE, "Garage sensor")
    ws_beta = key_of(window, GROUP, "WS Beta")
    resets: list[int] = []
    window.model.modelAboutToBeReset.connect(lambda: resets.append(1))
    drop(qloop, window, [garage], ws_beta)
    assert server_group(emu, garage[1]) == ws_beta[1]
    assert window.model.nodes[garage].parent.key == ws_beta
    assert window.model.nodes[garage].pending is None
    assert status(window) == "Moved 1 device(s) to WS Beta. Ctrl+Z undoes it."
    assert window.act_undo.isEnabled()
    assert resets == []


def test_synthesized_drop_event_on_the_viewport(qtbot, qloop, demo_window, emu):
    window = demo_window
    van1 = key_of(window, DEVICE, "Van 1")
    unassigned = proxy_index(window, UNASSIGNED_KEY)
    window.view.scrollTo(unassigned)
    rect = window.view.visualRect(unassigned)
    assert rect.isValid()
    pos = QPointF(rect.center())
    mime = window.model.mimeData([window.model.index_of(van1)])
    viewport = window.view.viewport()
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), MOVE, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos.toPoint(), MOVE, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    event = QDropEvent(pos, MOVE, mime, buttons, mods)
    with qtbot.waitSignal(window.model.assign_requested,
                          check_params_cb=lambda ids, gid: ids == [van1[1]] and gid == ""):
        QApplication.sendEvent(viewport, event)
    assert event.isAccepted()
    settle(qloop, window)
    assert server_group(emu, van1[1]) is None
    assert window.model.nodes[van1].parent.key == UNASSIGNED_KEY


@pytest.mark.parametrize(("target", "reason"), [
    ("Thermo DUT", "Devices enter DUT device groups only through factory BlinkUp."),
    ("Thermo Production", "Devices enter (pre-)production device groups only by blessing"),
])
def test_drop_refused_by_a_rule_sends_nothing(qloop, demo_window, emu, target, reason):
    window = demo_window
    garage = key_of(window, DEVICE, "Garage sensor")
    ws_dev = key_of(window, GROUP, "WS Dev")
    clear_request_log(emu)
    drop(qloop, window, [garage], key_of(window, GROUP, target))
    assert assignment_requests(emu) == []
    assert server_group(emu, garage[1]) == ws_dev[1]
    assert window.model.nodes[garage].parent.key == ws_dev
    assert f"0 moved to {target}, 1 refused. Garage sensor: {reason}" in status(window)
    assert not window.act_undo.isEnabled()


def test_production_device_cannot_leave_for_a_development_group(qloop, demo_window, emu):
    window = demo_window
    sn1 = key_of(window, DEVICE, "Thermostat SN-0001")
    clear_request_log(emu)
    drop(qloop, window, [sn1], key_of(window, GROUP, "Thermo Dev"))
    assert assignment_requests(emu) == []
    assert "unassign it first" in status(window)
    assert window.model.nodes[sn1].parent.key == key_of(window, GROUP, "Thermo Production")


def test_server_failure_rolls_the_move_back(qloop, demo_window, emu):
    window = demo_window
    garage = key_of(window, DEVICE, "Garage sensor")
    ws_dev, ws_beta = key_of(window, GROUP, "WS Dev"), key_of(window, GROUP, "WS Beta")
    emu.control("POST", "/faults/fail_next",
                {"status": 503, "path": "relationships/devices", "count": 5})
    clear_request_log(emu)
    drop(qloop, window, [garage], ws_beta)
    assert ("POST", f"/v5/devicegroups/{ws_beta[1]}/relationships/devices") in \
        assignment_requests(emu)
    assert server_group(emu, garage[1]) == ws_dev[1]
    node = window.model.nodes[garage]
    assert node.parent.key == ws_dev and node.pending is None
    assert window.model.data(window.model.index_of(garage)) == "Garage sensor"
    assert window.model.flags(window.model.index_of(garage)) & Qt.ItemFlag.ItemIsDragEnabled
    assert status(window).startswith("Move failed, nothing was moved: ")
    assert not window.act_undo.isEnabled()


def test_bulk_move_reports_each_device(qloop, demo_window, emu):
    window = demo_window
    names = ["Garage sensor", "Balcony sensor", "Hallway", "Thermostat SN-0001"]
    garage, balcony, hallway, sn1 = (key_of(window, DEVICE, n) for n in names)
    fixture = key_of(window, GROUP, "Thermo Fixture")
    # Balcony sensor disappears on the server meanwhile: the server refuses it (NF100).
    ws_dev = key_of(window, GROUP, "WS Dev")
    assert emu.delete(f"/devicegroups/{ws_dev[1]}/relationships/devices", json={
        "data": [{"type": "device", "id": balcony[1]}]}).status_code == 204
    assert emu.delete(f"/devices/{balcony[1]}").status_code == 204
    clear_request_log(emu)
    drop(qloop, window, [garage, balcony, hallway, sn1], fixture)
    assert [m for m, _ in assignment_requests(emu)] == ["POST"]  # one request, allowed ones only
    assert server_group(emu, garage[1]) == fixture[1]
    assert window.model.nodes[garage].parent.key == fixture
    assert window.model.nodes[hallway].parent.key == key_of(window, GROUP, "Thermo Dev")
    assert status(window).startswith("1 moved to Thermo Fixture, 3 refused.")
    lines = "\n".join(window.last_refusals)
    assert "Hallway: imp001 devices cannot join factory fixture device groups." in lines
    assert "Thermostat SN-0001: A production device can only move" in lines
    assert ("Balcony sensor: " in lines and "Not Found" in lines) or "NF100" in lines
    assert window.last_move.previous_groups == {garage[1]: key_of(window, GROUP, "WS Dev")[1]}


def test_unassign_from_production_uses_the_unbond_key(qloop, demo_window, emu, headless):
    window = demo_window
    sn1 = key_of(window, DEVICE, "Thermostat SN-0001")
    headless["unbond_key"] = "demo-unbond-key"
    clear_request_log(emu)
    drop(qloop, window, [sn1], UNASSIGNED_KEY)
    sent = [r for r in emu.control("GET", "/requests")["requests"]
            if r["method"] == "DELETE" and "relationships/devices" in r["path"]]
    assert len(sent) == 1
    assert server_group(emu, sn1[1]) is None
    assert window.model.nodes[sn1].parent.key == UNASSIGNED_KEY


def test_unassign_with_a_wrong_unbond_key_shows_the_server_text(qloop, demo_window, emu,
                                                                headless):
    window = demo_window
    sn1 = key_of(window, DEVICE, "Thermostat SN-0001")
    production = key_of(window, GROUP, "Thermo Production")
    headless["unbond_key"] = "not-the-key"
    select(window, sn1)
    assert window.act_unassign.isEnabled()
    window.act_unassign.trigger()
    settle(qloop, window)
    answer = emu.delete(f"/devicegroups/{production[1]}/relationships/devices",
                        json={"data": [{"type": "device", "id": sn1[1]}]},
                        headers={"X-Electricimp-Key": "not-the-key"}).json()["errors"][0]
    assert answer["code"] == "PX301"
    assert f"Thermostat SN-0001: {answer['title']}: {answer['detail']}" in status(window)
    assert server_group(emu, sn1[1]) == production[1]
    assert window.model.nodes[sn1].parent.key == production
    assert window.model.nodes[sn1].pending is None


def test_unassign_from_production_cancelled_without_a_key_sends_nothing(qloop, demo_window,
                                                                       emu, headless):
    window = demo_window
    sn1 = key_of(window, DEVICE, "Thermostat SN-0001")
    headless.pop("unbond_key", None)
    clear_request_log(emu)
    drop(qloop, window, [sn1], UNASSIGNED_KEY)
    assert assignment_requests(emu) == []
    assert status(window) == "Move cancelled"


def test_ctrl_z_undoes_the_last_move(qtbot, qloop, demo_window, emu):
    window = demo_window
    garage, roof = key_of(window, DEVICE, "Garage sensor"), key_of(window, DEVICE, "Roof sensor")
    ws_dev, tracker = key_of(window, GROUP, "WS Dev"), key_of(window, GROUP, "Tracker Dev")
    drop(qloop, window, [garage, roof], tracker)
    assert {server_group(emu, garage[1]), server_group(emu, roof[1])} == {tracker[1]}
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.tasks) == 1  # Ctrl+Z started the undo
    settle(qloop, window)
    assert {server_group(emu, garage[1]), server_group(emu, roof[1])} == {ws_dev[1]}
    assert window.model.nodes[garage].parent.key == ws_dev
    assert window.model.nodes[roof].parent.key == ws_dev
    assert window.last_move is None and not window.act_undo.isEnabled()
    assert "Moved 2 device(s) to WS Dev" in status(window)


def test_undo_of_an_assignment_from_unassigned_unassigns_again(qloop, demo_window, emu):
    window = demo_window
    spare = key_of(window, DEVICE, "Spare sensor")
    ws_beta = key_of(window, GROUP, "WS Beta")
    drop(qloop, window, [spare], ws_beta)
    assert server_group(emu, spare[1]) == ws_beta[1]
    window.act_undo.trigger()
    settle(qloop, window)
    assert server_group(emu, spare[1]) is None
    assert window.model.nodes[spare].parent.key == UNASSIGNED_KEY


# -- "Move to group…", the keyboard path ---------------------------------------------------------
def open_move_dialog(qtbot, qloop, window) -> MoveDialog:
    window.act_move.trigger()
    qloop.run(_until(lambda: window.findChild(MoveDialog) is not None), 5)
    dialog = window.findChild(MoveDialog)
    qtbot.waitExposed(dialog)
    return dialog


async def _until(predicate) -> None:
    import asyncio

    while not predicate():
        await asyncio.sleep(0.01)


def entries(dialog: MoveDialog) -> dict[str, tuple[bool, bool, str]]:
    """Picker text → (enabled, visible, tooltip)."""
    out = {}
    for row in range(dialog.list.count()):
        item = dialog.list.item(row)
        out[item.text().split("    ")[0]] = (
            bool(item.flags() & Qt.ItemFlag.ItemIsEnabled), not item.isHidden(), item.toolTip())
    return out


def test_move_dialog_disables_refused_targets_filters_and_moves(qtbot, qloop, demo_window, emu):
    window = demo_window
    hallway = key_of(window, DEVICE, "Hallway")  # an imp001 in Thermo Dev
    ws_beta = key_of(window, GROUP, "WS Beta")
    select(window, hallway)
    assert window.act_move.isEnabled() and window.act_move.shortcut().toString() == "Ctrl+M"
    dialog = open_move_dialog(qtbot, qloop, window)
    shown = entries(dialog)
    assert shown["Unassigned devices"][0]
    assert shown["Weather Station / WS Beta"][0]
    assert not shown["Smart Thermostat / Thermo Dev"][0]  # already there
    for refused, why in [("Smart Thermostat / Thermo DUT", "DUT"),
                         ("Smart Thermostat / Thermo Production", "production"),
                         ("Smart Thermostat / Thermo Test Production", "production"),
                         ("Smart Thermostat / Thermo Fixture", "imp001")]:
        enabled, _, tip = shown[refused]
        assert not enabled and why in tip, refused
    qtbot.keyClicks(dialog.search, "beta")
    visible = [t for t, (_, vis, _) in entries(dialog).items() if vis]
    assert visible == ["Weather Station / WS Beta"]
    assert dialog.chosen() == ws_beta[1]
    assert dialog.ok.isEnabled()
    dialog.ok.click()
    settle(qloop, window)
    assert server_group(emu, hallway[1]) == ws_beta[1]
    assert window.model.nodes[hallway].parent.key == ws_beta


def test_move_dialog_cannot_pick_a_disabled_target(qtbot, qloop, demo_window, emu):
    window = demo_window
    garage = key_of(window, DEVICE, "Garage sensor")
    select(window, garage)
    dialog = open_move_dialog(qtbot, qloop, window)
    qtbot.keyClicks(dialog.search, "Thermo DUT")
    assert dialog.chosen() is None and not dialog.ok.isEnabled()
    clear_request_log(emu)
    dialog.reject()
    settle(qloop, window)
    assert assignment_requests(emu) == []
    assert window.model.nodes[garage].parent.key == key_of(window, GROUP, "WS Dev")


def test_unassign_of_a_device_that_already_left_counts_as_done(make_window, emu, qloop):
    """§4.5: NF104 on unassign means the device was already out of the group."""
    from impdesk.core.services import AccountService

    window = make_window()
    service: AccountService = window.service
    device = next(d for d in service.snapshot.devices if d.devicegroup_id)
    group_id = device.devicegroup_id
    # Someone else unassigns it meanwhile; our snapshot still has it in the group.
    resp = emu.delete(f"/devicegroups/{group_id}/relationships/devices",
                      json={"data": [{"type": "device", "id": device.id}]})
    assert resp.status_code == 204
    outcome = service.move_devices([device.id], None)
    assert outcome.applied == [device.id] and not outcome.refused
    assert service.device(device.id).devicegroup_id is None


@pytest.mark.parametrize("quit_anyway", [False, True])
def test_quitting_during_a_move_asks_first(qloop, demo_window, emu, headless, quit_anyway):
    import asyncio

    window = demo_window
    garage = key_of(window, DEVICE, "Garage sensor")
    ws_beta = key_of(window, GROUP, "WS Beta")
    emu.control("PUT", "/faults", {"latency_ms": 600, "latency_path": "relationships/devices"})
    headless["Quit anyway"] = quit_anyway

    async def scenario() -> None:
        move = asyncio.ensure_future(window.move_devices([garage[1]], ws_beta[1]))
        await _until(lambda: window.changes.labels())
        assert window.changes.labels() == ["Moving 1 device(s) to WS Beta"]
        window.close()
        if quit_anyway:
            await _until(lambda: not window.isVisible())
            assert not move.done()  # it went while the change was still on its way
        else:
            await _until(lambda: "Still sending" in status(window))
            assert window.isVisible()
        await move
        assert window.changes.labels() == []

    qloop.run(scenario())
    assert server_group(emu, garage[1]) == ws_beta[1]
    window.close()  # nothing in flight now: it simply closes
    assert not window.isVisible()


@pytest.mark.parametrize("target_name", ["WS Beta", None])
def test_moved_devices_are_read_back_in_one_list_not_one_by_one(qloop, demo_window, emu,
                                                                target_name):
    window = demo_window
    names = ["Garage sensor", "Garden sensor", "Attic sensor", "Shed sensor"]
    keys = [key_of(window, DEVICE, n) for n in names]
    target = key_of(window, GROUP, target_name) if target_name else UNASSIGNED_KEY
    clear_request_log(emu)
    drop(qloop, window, keys, target)
    reads = [r for r in emu.control("GET", "/requests")["requests"]
             if r["method"] == "GET" and r["path"].startswith("/v5/devices")]
    assert [r["path"] for r in reads] == ["/v5/devices"]  # one page holds them all
    wanted = (f"filter[devicegroup.id]={target[1]}" if target_name
              else "filter[devicegroup.owner.id]=null")
    assert wanted in unquote(reads[0]["query"])
    for key in keys:
        assert window.model.nodes[key].parent.key == target
        device = window.service.device(key[1])
        assert device.devicegroup_id == (target[1] if target_name else None)
