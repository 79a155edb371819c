"""Account management from the GUI against the emulator: each action, its confirmation, its
error path, the tree update that follows, and the activity journal."""

from __future__ import annotations

import asyncio
import csv

from PySide6.QtCore import QItemSelectionModel, Qt

from impdesk.core.tree import DEVICE, GROUP, PRODUCT, UNASSIGNED_KEY
from impdesk.core.validation import NUMBER, EnvRow
from impdesk.gui.manage.group_dialog import KEY, VALUE

SEL = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows


# -- helpers -----------------------------------------------------------------------------------
def select(window, *keys):
    sel = window.view.selectionModel()
    sel.clearSelection()
    for key in keys:
        sel.select(window.proxy.mapFromSource(window.model.index_of(key)), SEL)


def by_name(window, kind, name):
    return next(n for n in window.model.nodes.values()
                if n.kind == kind and n.payload is not None and n.payload.name == name)


def resets(window):
    """Count model resets: a change must update rows, never reset the tree."""
    count = []
    window.model.modelReset.connect(lambda: count.append(1))
    return count


async def wait_for(pred, timeout=5.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.005)


def with_dialog(qloop, ctrl, coro, interact):
    """Run a controller coroutine, let `interact(dialog)` (async) drive its dialog."""

    async def run():
        task = asyncio.ensure_future(coro)
        await wait_for(lambda: ctrl.dialog is not None or task.done())
        result = await interact(ctrl.dialog) if ctrl.dialog is not None else None
        if ctrl.dialog is not None and ctrl.dialog.isVisible():
            ctrl.dialog.reject()
        await task
        return result

    return qloop.run(run())


async def submit(dialog):
    """Click the dialog's OK; return the error shown in it (None when it closed)."""
    dialog.task = None
    dialog.ok.click()
    if dialog.task is not None:
        await dialog.task
    return dialog.error.text() if dialog.isVisible() else None


def requests(emu, method, path_part):
    return [r for r in emu.control("GET", "/requests")["requests"]
            if r["method"] == method and path_part in r["path"]]


def emu_named(emu, path, name):
    return [x for x in emu.list_all(path) if x["attributes"]["name"] == name]


# -- products ----------------------------------------------------------------------------------
def test_create_product_adds_it_to_the_tree_and_journal(make_window, emu, qloop):
    window = make_window()
    ctrl, reset = window.manage, resets(window)

    async def fill(dlg):
        dlg.name.edit.setText("Charlie")
        dlg.description.edit.setPlainText("third")
        return await submit(dlg)

    assert with_dialog(qloop, ctrl, ctrl.new_product(), fill) is None
    [made] = emu_named(emu, "/products", "Charlie")
    assert made["attributes"]["description"] == "third"
    node = window.model.nodes[(PRODUCT, made["id"])]
    assert node.payload.name == "Charlie" and not reset
    assert window.selected_nodes() == [node]
    entry = window.journal.entries[-1]
    assert (entry.action, entry.target, entry.result) == ("Create product", "Charlie", "ok")


def test_a_new_product_is_the_only_selection_even_with_ctrl_held(make_window, emu, qloop):
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest

    window = make_window()
    assert window.selected_nodes()  # the first device is selected after the load
    # Ctrl held (as after a Ctrl+key click): a plain setCurrentIndex() would add to the
    # selection instead of replacing it.
    QTest.keyPress(window.view, Qt.Key.Key_Control, Qt.KeyboardModifier.ControlModifier)
    try:
        assert QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier

        async def fill(dlg):
            dlg.name.edit.setText("Delta")
            return await submit(dlg)

        assert with_dialog(qloop, window.manage, window.manage.new_product(), fill) is None
    finally:
        QTest.keyRelease(window.view, Qt.Key.Key_Control)
    [made] = emu_named(emu, "/products", "Delta")
    assert [n.key for n in window.selected_nodes()] == [(PRODUCT, made["id"])]


def test_duplicate_and_invalid_names_are_refused_before_sending(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    emu.control("DELETE", "/requests")

    async def fill(dlg):
        dlg.name.edit.setText("Alpha")
        assert await submit(dlg) is not None  # stays open
        duplicate = dlg.name.hint.text()
        dlg.name.edit.setText("   ")
        blank = dlg.name.hint.text()
        dlg.name.edit.setText("x" * 81)
        long = dlg.name.hint.text()
        dlg.name.edit.setText("ok")
        dlg.description.edit.setPlainText("d" * 256)
        await submit(dlg)
        return duplicate, blank, long, dlg.description.hint.text()

    duplicate, blank, long, description = with_dialog(qloop, ctrl, ctrl.new_product(), fill)
    assert "already named" in duplicate and "blank" in blank and "80" in long
    assert "255" in description
    assert requests(emu, "POST", "/products") == []


def test_server_duplicate_cx100_is_shown_verbatim(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    emu.post("/products", json={"data": {"type": "product", "attributes": {"name": "Zeta"}}})

    async def fill(dlg):
        dlg.name.edit.setText("Zeta")  # unknown to the window's snapshot: the server decides
        error = await submit(dlg)
        return error, dlg.error.textFormat()

    error, fmt = with_dialog(qloop, ctrl, ctrl.new_product(), fill)
    assert error == "409 CX100 Duplicate Resource: Products must have unique names."
    assert fmt == Qt.TextFormat.PlainText
    assert window.journal.entries[-1].result == error
    assert len(emu_named(emu, "/products", "Zeta")) == 1


def test_markup_in_names_stays_plain_text(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage

    async def fill(dlg):
        dlg.name.edit.setText("<b>x</b>")
        return await submit(dlg)

    with_dialog(qloop, ctrl, ctrl.new_product(), fill)
    node = by_name(window, PRODUCT, "<b>x</b>")
    assert window.model.data(window.model.index_of(node.key)) == "<b>x</b>"
    window.manage.cascade_dialog = None
    select(window, node.key)
    qloop.run(ctrl.delete_selected())  # headless: no answer → cancelled, but previewed
    dialog = ctrl.cascade_dialog
    assert dialog.headline.textFormat() == Qt.TextFormat.PlainText
    assert "\u201c<b>x</b>\u201d" in dialog.headline.text()
    assert window.journal.entries[-1].target == "<b>x</b>"
    assert emu_named(emu, "/products", "<b>x</b>")  # nothing deleted without confirmation


def test_rename_and_edit_product(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    bravo = by_name(window, PRODUCT, "Bravo")
    select(window, bravo.key)

    async def rename(dlg):
        assert dlg.name.edit.text() == "Bravo"
        dlg.name.edit.setText("Bravo 2")
        return await submit(dlg)

    assert with_dialog(qloop, ctrl, ctrl.rename_selected(), rename) is None
    assert emu.get(f"/products/{bravo.id}").json()["data"]["attributes"]["name"] == "Bravo 2"
    assert window.model.nodes[bravo.key].payload.name == "Bravo 2"

    async def edit(dlg):
        dlg.description.edit.setPlainText("now described")
        return await submit(dlg)

    assert with_dialog(qloop, ctrl, ctrl.edit_selected(), edit) is None
    attrs = emu.get(f"/products/{bravo.id}").json()["data"]["attributes"]
    assert attrs == {**attrs, "name": "Bravo 2", "description": "now described"}
    assert [e.action for e in window.journal.entries[-2:]] == ["Rename product", "Edit product"]
    assert window.journal.entries[-2].target == "Bravo \u2192 Bravo 2"


def test_delete_refused_by_the_server_is_reported(make_window, emu, qloop, headless):
    window = make_window()
    ctrl = window.manage
    bravo = by_name(window, PRODUCT, "Bravo")
    # A group appears behind the window's back: the plan sees no blocker, the server does.
    emu.post("/devicegroups", json={"data": {
        "type": "development_devicegroup", "attributes": {"name": "Late"},
        "relationships": {"product": {"type": "product", "id": bravo.id}}}})
    headless["Delete"] = True
    select(window, bravo.key)
    qloop.run(ctrl.delete_selected())
    report = ctrl.last_report
    assert not report.complete
    text = ("409 CX102 Dependent Devicegroups Exist: Cannot delete a product with associated "
            "devicegroups.")
    assert report.failed.message == text
    assert text in ctrl.cascade_dialog.report_text()
    assert bravo.key in window.model.nodes
    assert window.journal.entries[-1].result == text


def test_delete_cancelled_deletes_nothing(make_window, emu, qloop, headless):
    window = make_window()
    bravo = by_name(window, PRODUCT, "Bravo")
    select(window, bravo.key)
    headless["Delete"] = False
    qloop.run(window.manage.delete_selected())
    assert emu.get(f"/products/{bravo.id}").status_code == 200
    assert bravo.key in window.model.nodes


def test_empty_product_delete(make_window, emu, qloop, headless):
    window = make_window()
    reset = resets(window)
    bravo = by_name(window, PRODUCT, "Bravo")
    select(window, bravo.key)
    headless["Delete"] = True
    qloop.run(window.manage.delete_selected())
    assert emu.get(f"/products/{bravo.id}").status_code == 404
    assert bravo.key not in window.model.nodes and not reset
    assert "Nothing blocks" in window.manage.cascade_dialog.blockers.text()


# -- cascade on the demo data ------------------------------------------------------------------
def _thermostat(make_window, emu):
    """The demo's Smart Thermostat: 7 groups, fixtures with targets, production devices; one
    of its deployments flagged before the window loads."""
    emu.server.reset(seed="demo", config={"rate_limit": {"limit": 0, "window_s": 1},
                                          "simulation": {"enabled": False}})
    groups = {g["attributes"]["name"]: g for g in emu.list_all("/devicegroups")}
    dep = emu.list_all("/deployments", params={
        "filter[devicegroup.id]": groups["Thermo Dev"]["id"]})[0]
    emu.patch(f"/deployments/{dep['id']}", json={"data": {
        "type": "deployment", "id": dep["id"], "attributes": {"flagged": True}}})
    window = make_window()
    return window, by_name(window, PRODUCT, "Smart Thermostat"), groups, dep


def test_full_cascade_deletes_product_groups_and_updates_tree(make_window, emu, qloop,
                                                              headless):
    window, product, _, dep = _thermostat(make_window, emu)
    ctrl, reset = window.manage, resets(window)
    device_ids = [n.id for n in product.walk() if n.kind == DEVICE]
    headless.update({"Delete": True, "unbond_key": emu.accounts()["demo"]["unbond_key"]})
    select(window, product.key)
    qloop.run(ctrl.delete_selected(), timeout=30)
    report = ctrl.last_report
    assert report.complete, report.lines()
    dialog = ctrl.cascade_dialog
    assert "7 device group(s)" in dialog.blockers.text()
    assert "1 flagged deployment(s)" in dialog.blockers.text()
    assert "is a target of fixture group" in dialog.blockers.text()
    assert dialog.steps.count() == len(report.plan.steps) == 7 + 1 + 7 + 1
    assert all(dialog.steps.item(i).text().startswith("\u2714")
               for i in range(dialog.steps.count()))
    assert dialog.report_text().startswith("Deleted product")
    assert emu.get(f"/products/{product.id}").status_code == 404
    assert emu.get(f"/deployments/{dep['id']}").status_code == 404
    assert product.key not in window.model.nodes and not reset
    for device_id in device_ids:
        assert window.model.nodes[(DEVICE, device_id)].parent.key == UNASSIGNED_KEY
        assert "devicegroup" not in emu.get(f"/devices/{device_id}").json()["data"][
            "relationships"]
    actions = [e.action for e in window.journal.entries]
    assert actions.count("Delete device group") == 7 and actions[-1] == "Delete product"
    assert all(e.ok for e in window.journal.entries)


def test_half_done_cascade_says_what_was_done_and_what_not(make_window, emu, qloop,
                                                           headless):
    window, product, groups, _ = _thermostat(make_window, emu)
    ctrl = window.manage
    headless.update({"Delete": True, "unbond_key": emu.accounts()["demo"]["unbond_key"]})
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": 503, "method": "PATCH",
                                              "path": "/deployments/"})
    select(window, product.key)
    qloop.run(ctrl.delete_selected(), timeout=30)
    report = ctrl.last_report
    failed = report.failed
    assert failed.step.kind == "unflag"
    assert failed.message.startswith("503 XX503 Service Unavailable: ")
    text = ctrl.cascade_dialog.report_text()
    assert "stopped after 7 of 16 step(s)" in text
    assert "Done: Unassign" in text and "FAILED: Unflag deployment" in text
    assert "Not done: Delete device group \u201cThermo Dev\u201d" in text
    assert text.rstrip().endswith("Not done: Delete product \u201cSmart Thermostat\u201d")
    assert emu.get(f"/products/{product.id}").status_code == 200
    # The tree shows the half-done state: groups still there, their devices unassigned.
    thermo_dev = window.model.nodes[(GROUP, groups["Thermo Dev"]["id"])]
    assert thermo_dev.children == []
    assert product.key in window.model.nodes
    results = [(e.action, e.result) for e in window.journal.entries]
    assert ("Unflag deployment", failed.message) in results
    assert ("Delete product", "not done: an earlier step failed") in results


def test_group_delete_previews_the_fixture_that_targets_it(make_window, emu, qloop, headless):
    window, _, groups, _ = _thermostat(make_window, emu)
    ctrl = window.manage
    target = window.model.nodes[(GROUP, groups["Thermo DUT"]["id"])]
    select(window, target.key)
    qloop.run(ctrl.delete_selected())  # no answer: preview only
    dialog = ctrl.cascade_dialog
    labels = [dialog.steps.item(i).text() for i in range(dialog.steps.count())]
    assert any("Delete device group \u201cThermo Fixture\u201d" in t for t in labels)
    assert labels[-1].endswith("Delete device group \u201cThermo DUT\u201d")
    assert "target of fixture group \u201cThermo Fixture\u201d" in dialog.blockers.text()
    assert emu.get(f"/devicegroups/{target.id}").status_code == 200


def test_products_and_groups_selected_together_go_in_one_cascade(make_window, emu, qloop,
                                                                headless):
    window, _, groups, _ = _thermostat(make_window, emu)
    ctrl = window.manage
    station = by_name(window, PRODUCT, "Weather Station")
    ws_dev = by_name(window, GROUP, "WS Dev")  # inside the chosen product: part of it
    dut = window.model.nodes[(GROUP, groups["Thermo DUT"]["id"])]
    station_groups = [n.id for n in station.children]
    select(window, station.key, ws_dev.key, dut.key)
    assert window.manage_actions["delete"].isEnabled()
    headless.update({"Delete": True, "unbond_key": emu.accounts()["demo"]["unbond_key"]})
    qloop.run(ctrl.delete_selected(), timeout=30)
    report = ctrl.last_report
    assert report.complete, report.lines()
    dialog = ctrl.cascade_dialog
    assert dialog.windowTitle() == "Delete"
    assert dialog.headline.text() == "Delete 1 product and 1 device group?"
    assert "They cannot be deleted while they have" in dialog.blockers.text()
    labels = [s.label for s in report.plan.steps]
    deletes = [label for label in labels if label.startswith("Delete ")]
    # the fixture that targets Thermo DUT goes first; the product comes last, once
    assert deletes.index("Delete device group \u201cThermo Fixture\u201d") < deletes.index(
        "Delete device group \u201cThermo DUT\u201d")
    assert deletes[-1] == "Delete product \u201cWeather Station\u201d"
    assert sum(label.startswith("Delete product") for label in labels) == 1
    assert len(deletes) == len(station_groups) + 2 + 1
    assert dialog.report_text().startswith("Deleted 1 product and 1 device group")
    assert emu.get(f"/products/{station.id}").status_code == 404
    for group_id in [*station_groups, dut.id, groups["Thermo Fixture"]["id"]]:
        assert emu.get(f"/devicegroups/{group_id}").status_code == 404
        assert (GROUP, group_id) not in window.model.nodes
    assert emu.get(f"/devicegroups/{groups['Thermo Dev']['id']}").status_code == 200


def test_devices_and_containers_together_are_not_deleted(make_window, emu, qloop, headless):
    window = make_window()
    bravo = by_name(window, PRODUCT, "Bravo")
    device = next(n for n in window.model.nodes.values() if n.kind == DEVICE)
    select(window, bravo.key, device.key)
    assert not window.manage_actions["delete"].isEnabled()
    emu.control("DELETE", "/requests")
    headless["Delete"] = True
    qloop.run(window.manage.delete_selected())
    assert "Select only devices" in window.statusBar().currentMessage()
    assert emu.control("GET", "/requests")["requests"] == []
    assert window.manage.cascade_dialog is None


def test_production_device_removal_is_refused_with_the_reason(make_window, emu, qloop,
                                                              headless):
    window, _, groups, _ = _thermostat(make_window, emu)
    prod = window.model.nodes[(GROUP, groups["Thermo Production"]["id"])]
    device = prod.children[0]
    emu.control("DELETE", "/requests")
    select(window, device.key)
    qloop.run(window.manage.delete_selected())
    [(name, kind, result)] = window.manage.last_results
    assert (name, kind) == (device.payload.display_name, "device")
    assert "Production devices cannot be removed" in result
    assert requests(emu, "DELETE", "/devices/") == []
    assert emu.get(f"/devices/{device.id}").status_code == 200


# -- device groups ---------------------------------------------------------------------------
def test_create_fixture_with_targets_chosen_in_pickers(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    alpha = by_name(window, PRODUCT, "Alpha")

    def create(type_, name, **extra):
        async def fill(dlg):
            dlg.type.setCurrentIndex(dlg.type.findData(type_))
            dlg.name.edit.setText(name)
            if "load_code" in extra:
                assert dlg.load_code.isVisible()
                dlg.load_code.setChecked(extra["load_code"])
            if type_ == "factoryfixture_devicegroup":
                assert dlg.production_target.count() == 1 and dlg.dut_target.count() == 1
                assert dlg.production_target.currentText() == "Prod"
            return await submit(dlg)

        select(window, alpha.key)
        assert with_dialog(qloop, ctrl, ctrl.new_group(), fill) is None
        return emu_named(emu, "/devicegroups", name)[0]

    async def no_targets(dlg):
        dlg.type.setCurrentIndex(dlg.type.findData("factoryfixture_devicegroup"))
        dlg.name.edit.setText("Too early")
        await submit(dlg)
        return dlg.targets_hint.text()

    select(window, alpha.key)
    assert "create them first" in with_dialog(qloop, ctrl, ctrl.new_group(), no_targets)
    prod = create("production_devicegroup", "Prod", load_code=False)
    assert prod["attributes"]["load_code_after_blessing"] is False
    dut = create("dut_devicegroup", "DUT")
    fixture = create("factoryfixture_devicegroup", "Fixture")
    rels = fixture["relationships"]
    assert rels["production_target"]["id"] == prod["id"]
    assert rels["dut_target"]["id"] == dut["id"]
    for g in (prod, dut, fixture):
        assert window.model.nodes[(GROUP, g["id"])].parent.key == alpha.key


def test_px300_for_a_non_commercial_owner_disables_the_other_types(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    shared = by_name(window, PRODUCT, "Shared Product")  # owned by demo-collab: not commercial

    async def fill(dlg):
        dlg.type.setCurrentIndex(dlg.type.findData("pre_production_devicegroup"))
        dlg.name.edit.setText("Line")
        error = await submit(dlg)
        item = dlg.type.model().item(dlg.type.findData("production_devicegroup"))
        return error, item.isEnabled(), dlg.type_hint.text()

    select(window, shared.key)
    error, enabled, hint = with_dialog(qloop, ctrl, ctrl.new_group(), fill)
    assert error == ("403 PX300 Invalid Permission: Production device group types require a "
                     "commercial account.")
    assert not enabled and "commercial account" in hint

    async def again(dlg):  # the next dialog for this owner starts with them disabled
        item = dlg.type.model().item(dlg.type.findData("dut_devicegroup"))
        return item.isEnabled(), dlg.current_type()

    select(window, shared.key)
    assert with_dialog(qloop, ctrl, ctrl.new_group(), again) == (False,
                                                                "development_devicegroup")


def test_duplicate_group_name_cx101_verbatim(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    alpha = by_name(window, PRODUCT, "Alpha")
    emu.post("/devicegroups", json={"data": {
        "type": "development_devicegroup", "attributes": {"name": "Twin"},
        "relationships": {"product": {"type": "product", "id": alpha.id}}}})

    async def fill(dlg):
        dlg.name.edit.setText("Alpha Dev")
        await submit(dlg)
        local = dlg.name.hint.text()
        dlg.name.edit.setText("Twin")
        return local, await submit(dlg)

    select(window, alpha.key)
    local, server = with_dialog(qloop, ctrl, ctrl.new_group(), fill)
    assert "already named" in local
    assert server == "409 CX101 Duplicate Resource: Devicegroups must have unique names."


def test_edit_group_env_vars_with_row_validation(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    dev = by_name(window, GROUP, "Alpha Dev")
    emu.control("DELETE", "/requests")

    async def fill(dlg):
        assert not dlg.load_code.isVisible()  # development groups have no such setting
        env = dlg.env
        row = env.add_row(EnvRow("1bad", "v"))
        await submit(dlg)
        bad = env.hint.text()
        env.table.item(row, KEY).setText("API_URL")
        env.table.item(row, VALUE).setText("https://x.example")
        row2 = env.add_row(EnvRow("RETRIES", "3", NUMBER))
        assert env.table.item(row2, KEY).text() == "RETRIES"
        dlg.name.edit.setText("Alpha Dev 2")
        return bad, await submit(dlg)

    select(window, dev.key)
    bad, error = with_dialog(qloop, ctrl, ctrl.edit_selected(), fill)
    assert bad.startswith("Row 1: Keys start with a letter") and error is None
    assert len(requests(emu, "PATCH", "/devicegroups/")) == 1
    attrs = emu.get(f"/devicegroups/{dev.id}").json()["data"]["attributes"]
    assert attrs["env_vars"] == {"API_URL": "https://x.example", "RETRIES": 3}
    assert attrs["name"] == "Alpha Dev 2"
    assert window.model.nodes[dev.key].payload.env_vars == attrs["env_vars"]
    assert window.journal.entries[-1].action == "Edit device group"


def test_region_is_set_on_create_only_and_checked_before_sending(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    alpha = by_name(window, PRODUCT, "Alpha")
    emu.control("DELETE", "/requests")

    async def too_long(dlg):
        dlg.type.setCurrentIndex(dlg.type.findData("development_devicegroup"))
        hidden = not dlg.region.isVisible()  # other types have no region
        dlg.type.setCurrentIndex(dlg.type.findData("production_devicegroup"))
        assert dlg.region.isVisible() and not dlg.region.isReadOnly()
        dlg.name.edit.setText("Prod EU")
        dlg.region.setText("r" * 65)
        error = await submit(dlg)
        return hidden, error, dlg.region_hint.text()

    select(window, alpha.key)
    hidden, error, hint = with_dialog(qloop, ctrl, ctrl.new_group(), too_long)
    assert hidden and error is not None  # the dialog stayed open
    assert "at most 64 characters" in hint and "has 65" in hint
    assert requests(emu, "POST", "/devicegroups") == []

    async def fill(dlg):
        dlg.type.setCurrentIndex(dlg.type.findData("production_devicegroup"))
        dlg.name.edit.setText("Prod EU")
        dlg.region.setText("r" * 64)
        return await submit(dlg)

    select(window, alpha.key)
    assert with_dialog(qloop, ctrl, ctrl.new_group(), fill) is None
    [made] = emu_named(emu, "/devicegroups", "Prod EU")
    assert emu.get(f"/devicegroups/{made['id']}").json()["data"]["attributes"]["region"] == \
        "r" * 64
    node = window.model.nodes[(GROUP, made["id"])]
    assert node.payload.attributes["region"] == "r" * 64

    async def edit(dlg):  # shown, read-only; a save does not send it (PATCH refuses it)
        shown = (dlg.region.isVisible(), dlg.region.isReadOnly(), dlg.region.text())
        dlg.name.edit.setText("Prod EU 2")
        return shown, await submit(dlg)

    select(window, node.key)
    shown, error = with_dialog(qloop, ctrl, ctrl.edit_selected(), edit)
    assert shown == (True, True, "r" * 64) and error is None
    [patch] = requests(emu, "PATCH", "/devicegroups/")
    assert patch["status"] == 200 and "region" not in patch["body"]
    assert emu.get(f"/devicegroups/{made['id']}").json()["data"]["attributes"]["name"] == \
        "Prod EU 2"


# -- devices ---------------------------------------------------------------------------------
def test_rename_device_and_clear_its_name(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    device = by_name(window, DEVICE, "Alpha 1")
    select(window, device.key)

    async def fill(dlg):
        dlg.name.edit.setText("Kitchen")
        return await submit(dlg)

    assert with_dialog(qloop, ctrl, ctrl.rename_selected(), fill) is None
    assert emu.get(f"/devices/{device.id}").json()["data"]["attributes"]["name"] == "Kitchen"
    assert window.model.nodes[device.key].payload.name == "Kitchen"

    async def clear(dlg):
        dlg.name.edit.setText("")
        return await submit(dlg)

    assert with_dialog(qloop, ctrl, ctrl.rename_selected(), clear) is None
    assert emu.get(f"/devices/{device.id}").json()["data"]["attributes"]["name"] is None


def test_remove_devices_unassigning_first_with_confirmation(make_window, emu, qloop, headless):
    window = make_window()
    reset = resets(window)
    loose = by_name(window, DEVICE, "Loose offline")
    assigned = by_name(window, DEVICE, "Alpha 2")
    select(window, loose.key, assigned.key)
    qloop.run(window.manage.delete_selected())  # no answer → nothing removed
    assert emu.get(f"/devices/{loose.id}").status_code == 200
    headless["Unassign and remove"] = True
    qloop.run(window.manage.delete_selected())
    for node in (loose, assigned):
        assert emu.get(f"/devices/{node.id}").status_code == 404
        assert node.key not in window.model.nodes
    assert not reset
    assert sorted(r[2] for r in window.manage.last_results) == ["ok", "ok"]
    actions = [(e.action, e.target) for e in window.journal.entries]
    assert ("Unassign", "Alpha 2") in actions and ("Remove device", "Loose offline") in actions


def test_move_all_devices_of_a_group(make_window, emu, qloop):
    window = make_window()
    ctrl = window.manage
    dev = by_name(window, GROUP, "Alpha Dev")
    ids = [n.id for n in dev.children]
    select(window, dev.key)

    async def pick(dlg):
        target = next(i for i in range(dlg.list.count())
                      if dlg.list.item(i).data(Qt.ItemDataRole.UserRole) == "")
        dlg.list.setCurrentRow(target)
        dlg.ok.click()

    with_dialog(qloop, ctrl, ctrl.move_all(dev.payload), pick)
    assert window.model.nodes[dev.key].children == []
    for device_id in ids:
        assert window.model.nodes[(DEVICE, device_id)].parent.key == UNASSIGNED_KEY
        assert "devicegroup" not in emu.get(f"/devices/{device_id}").json()["data"][
            "relationships"]
    assert [e.action for e in window.journal.entries] == ["Unassign"] * 3


# -- restarts and the journal ------------------------------------------------------------------
def test_restart_gives_a_result_per_device_and_journals_it(make_window, emu, qloop, headless,
                                                           tmp_path):
    window = make_window()
    a1, a2 = by_name(window, DEVICE, "Alpha 1"), by_name(window, DEVICE, "Alpha 2")
    group = by_name(window, GROUP, "Alpha Dev")
    # Alpha 2 leaves its group behind the window's back: its restart is refused (CX107).
    emu.delete(f"/devicegroups/{group.id}/relationships/devices",
               json={"data": [{"type": "device", "id": a2.id}]})
    headless["Conditional restart"] = True
    select(window, a1.key, a2.key, group.key)
    qloop.run(window.restart_selected(True))
    results = {name: result for name, _, result in window.manage.last_results}
    assert results["Alpha 1"] == "ok" and results["Alpha Dev"] == "ok"
    assert results["Alpha 2"] == ("409 CX107 Device Not Assigned: Cannot restart a device that "
                                  "is not assigned to a devicegroup.")
    entries = [(e.action, e.target, e.result) for e in window.journal.entries]
    assert ("Conditional restart", "Alpha 2", results["Alpha 2"]) in entries
    path = tmp_path / "activity.csv"
    assert window.activity_dock.export(str(path)) == 3
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["time", "action", "target", "result"]
    assert rows[1:] and {r[2] for r in rows[1:]} == {"Alpha 1", "Alpha 2", "Alpha Dev"}
    assert window.activity_dock.model.rowCount() == 3


def test_shortcuts_and_action_states(make_window):
    window = make_window()
    a = window.manage_actions
    assert a["new_product"].shortcut().toString() == "Ctrl+N"
    assert a["new_group"].shortcut().toString() == "Ctrl+Shift+N"
    assert a["rename"].shortcut().toString() == "F2"
    assert a["edit"].shortcut().toString() == "Ctrl+E"
    assert a["delete"].shortcut().toString() == "Del"
    select(window, by_name(window, DEVICE, "Alpha 1").key)
    assert a["delete"].text() == "&Remove from account…" and not a["edit"].isEnabled()
    assert a["new_group"].isEnabled()  # the device's product
    select(window, by_name(window, GROUP, "Alpha Dev").key)
    assert a["edit"].isEnabled() and a["move_all"].isEnabled()
    assert a["delete"].text() == "&Delete…"
