"""Deployments from the GUI against the emulator: deploy, compile errors, history, rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeySequence

from impdesk import settings as keys
from impdesk.core.tree import DEVICE, GROUP
from impdesk.gui import dialogs
from impdesk.gui.deploy import CONDITIONAL, NOTHING, RESTART
from impdesk.gui.deploy.code import (
    MAX_TAG_CHARS,
    CodeFileError,
    compiler_messages,
    parse_tags,
    read_code_file,
    side_by_side,
    tags_problem,
)
from impdesk.gui.deploy.dialog import DeployDialog
from impdesk.gui.deploy.highlight import CodeView
from impdesk.gui.deploy.history import HistoryDialog
from impdesk.gui.tree_model import Column

AGENT = '// agent\nhttp.onrequest(function(req, res) { res.send(200, "ok"); });\n'
DEVICE_CODE = ('// device\nfunction tick() {\n    server.log("tick");\n    imp.wakeup(5, tick);\n'
               '}\ntick();\n')


async def until(condition, timeout: float = 5.0):
    """Let the loop run until condition() is truthy (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not (value := condition()):
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
    return value


async def drain(tasks) -> None:
    await until(lambda: len(tasks) == 0, 15.0)


def group_by_name(emu, name: str) -> dict:
    return next(g for g in emu.list_all("/devicegroups") if g["attributes"]["name"] == name)


def deployments_of(emu, group_id: str) -> list[dict]:
    return emu.list_all("/deployments", params={"filter[devicegroup.id]": group_id})


def current_of(emu, group_id: str) -> str:
    return emu.get(f"/devicegroups/{group_id}").json()["data"]["relationships"][
        "current_deployment"]["id"]


def select(window, key) -> None:
    index = window.proxy.mapFromSource(window.model.index_of(key))
    window.view.selectionModel().clearSelection()
    window.view.setCurrentIndex(index)


def write_code(tmp_path, agent: str = AGENT, device: str = DEVICE_CODE) -> tuple[str, str]:
    a, d = tmp_path / "agent.nut", tmp_path / "device.nut"
    a.write_text(agent, encoding="utf-8")
    d.write_text(device, encoding="utf-8")
    return str(a), str(d)


@pytest.fixture
def alpha(emu):
    return group_by_name(emu, "Alpha Dev")


def open_dialog(window, qloop, group_key) -> DeployDialog:
    select(window, group_key)
    feature = window.deploy
    assert feature.act_deploy.isEnabled()
    feature.current_dialog = None
    feature.act_deploy.trigger()
    return qloop.run(until(lambda: feature.current_dialog))


def open_history(window, qloop, group_key) -> HistoryDialog:
    select(window, group_key)
    history = window.deploy.open_history()
    qloop.run(history.reload())
    return history


def restarts(emu, device_id: str) -> int:
    logs = emu.list_all(f"/devices/{device_id}/logs")
    return sum(entry["msg"] == "Device restarting" for entry in logs)


# -- actions and the tree --------------------------------------------------------------------------
def test_tree_shows_each_groups_current_deployment(make_window, qloop, emu, alpha):
    window = make_window()
    current = emu.get(f"/deployments/{current_of(emu, alpha['id'])}").json()["data"]
    expected = f"{current['attributes']['sha'][:7]} · second build"
    index = window.model.index_of((GROUP, alpha["id"]), Column.DEPLOYMENT)
    qloop.run(until(lambda: window.model.data(index) == expected))


def test_deploy_action_needs_exactly_one_group(make_window, alpha):
    window = make_window()
    feature = window.deploy
    assert feature.act_deploy.shortcut() == QKeySequence("Ctrl+D")
    assert feature.act_deploy in window.context_actions
    assert feature.act_deploy in window.toolbar.actions()
    device = next(k for k in window.model.nodes if k[0] == DEVICE)
    select(window, device)
    assert not feature.act_deploy.isEnabled()
    select(window, (GROUP, alpha["id"]))
    assert feature.act_deploy.isEnabled() and feature.act_history.isEnabled()


# -- deploying -------------------------------------------------------------------------------------
@pytest.mark.parametrize("after", [NOTHING, RESTART, CONDITIONAL])
def test_deploy_from_files_with_each_restart_option(make_window, qloop, emu, alpha, tmp_path,
                                                    settings, after):
    emu.config(simulation={"restart_delay_s": 0})
    devices = [d for d in emu.list_all("/devices")
               if (d["relationships"].get("devicegroup") or {}).get("id") == alpha["id"]
               and d["attributes"]["device_online"]]
    before = {d["id"]: restarts(emu, d["id"]) for d in devices}
    count = len(deployments_of(emu, alpha["id"]))
    window = make_window()
    dialog = open_dialog(window, qloop, (GROUP, alpha["id"]))
    agent_path, device_path = write_code(tmp_path)
    dialog.paths["agent_code"].setText(agent_path)
    dialog.paths["device_code"].setText(device_path)
    assert dialog.sizes["agent_code"].text().endswith("bytes")
    dialog.description.setText("from files")
    dialog.tags.setText("release, v1.2")
    dialog.set_after(after)
    dialog.submit.click()
    qloop.run(drain(dialog.tasks))
    assert not shiboken6.isValid(dialog)  # accepted and closed

    deps = deployments_of(emu, alpha["id"])
    assert len(deps) == count + 1
    new = deps[0]
    assert window.deploy.last_outcome.deployment.id == new["id"]
    assert current_of(emu, alpha["id"]) == new["id"]
    attrs = new["attributes"]
    assert (attrs["agent_code"], attrs["device_code"]) == (AGENT, DEVICE_CODE)
    assert attrs["description"] == "from files" and attrs["tags"] == ["release", "v1.2"]
    assert attrs["origin"] == "impdesk"
    after_counts = {d: restarts(emu, d) for d in before}
    if after == NOTHING:
        assert after_counts == before  # a deployment alone restarts nothing (§3.8.4)
    else:
        assert all(after_counts[d] == before[d] + 1 for d in before), after_counts
    # the tree shows the new current deployment; the file paths are remembered for the group
    index = window.model.index_of((GROUP, alpha["id"]), Column.DEPLOYMENT)
    assert window.model.data(index) == f"{attrs['sha'][:7]} · from files"
    assert settings.value(f"{keys.DEPLOY_FILES}/{alpha['id']}/agent_code") == agent_path
    again = open_dialog(window, qloop, (GROUP, alpha["id"]))
    assert again.paths["device_code"].text() == device_path
    again.reject()


def test_deploy_current_code_and_make_it_the_minimum(make_window, qloop, emu, alpha):
    old = emu.get(f"/deployments/{current_of(emu, alpha['id'])}").json()["data"]
    window = make_window()
    dialog = open_dialog(window, qloop, (GROUP, alpha["id"]))
    dialog.from_current.setChecked(True)
    dialog.make_minimum.setChecked(True)
    dialog.flagged.setChecked(True)
    dialog.submit.click()
    qloop.run(drain(dialog.tasks))
    group = emu.get(f"/devicegroups/{alpha['id']}").json()["data"]
    new_id = group["relationships"]["current_deployment"]["id"]
    assert new_id != old["id"]
    assert group["relationships"]["min_supported_deployment"]["id"] == new_id
    new = emu.get(f"/deployments/{new_id}").json()["data"]["attributes"]
    assert new["sha"] == old["attributes"]["sha"] and new["flagged"] is True


def test_compile_error_lists_items_and_creates_nothing(make_window, qloop, emu, alpha,
                                                       tmp_path):
    count = len(deployments_of(emu, alpha["id"]))
    current = current_of(emu, alpha["id"])
    window = make_window()
    dialog = open_dialog(window, qloop, (GROUP, alpha["id"]))
    broken = 'local x = 1;\nfunction f() {\n    server.log("a");\n'
    agent_path, device_path = write_code(tmp_path, device=broken)
    dialog.paths["agent_code"].setText(agent_path)
    dialog.paths["device_code"].setText(device_path)
    dialog.submit.click()
    qloop.run(drain(dialog.tasks))

    assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted
    assert dialog.messages.isVisible()
    assert dialog.messages.lines() == ["device_code:4:1 expected '}'"]
    assert "nothing was deployed" in dialog.error.text()
    dialog.messages.list.setCurrentRow(0)
    assert dialog.messages.code.toPlainText() == broken
    assert dialog.messages.code.textCursor().blockNumber() == 3
    assert len(deployments_of(emu, alpha["id"])) == count  # nothing created
    assert current_of(emu, alpha["id"]) == current
    dialog.messages.set_messages(compiler_messages([
        {"file": "agent_code", "row": 2, "column": 20, "text": "expected ')'"}]),
        {"agent_code": AGENT})
    assert dialog.messages.shown_line == AGENT.splitlines()[1]


def test_invalid_input_is_refused_before_sending(make_window, qloop, emu, alpha, tmp_path):
    count = len(deployments_of(emu, alpha["id"]))
    window = make_window()
    dialog = open_dialog(window, qloop, (GROUP, alpha["id"]))
    dialog.submit.click()
    assert "agent code file" in dialog.error.text()
    agent_path, device_path = write_code(tmp_path)
    dialog.paths["agent_code"].setText(agent_path)
    dialog.paths["device_code"].setText(device_path)
    dialog.tags.setText("good, bad!tag")
    dialog.submit.click()
    assert "bad!tag" in dialog.error.text() and len(dialog.tasks) == 0
    dialog.tags.setText("")
    (tmp_path / "latin1.nut").write_bytes(b"\xff\xfe caf\xe9")
    dialog.paths["device_code"].setText(str(tmp_path / "latin1.nut"))
    dialog.submit.click()
    assert "not UTF-8" in dialog.error.text() and len(dialog.tasks) == 0
    assert len(deployments_of(emu, alpha["id"])) == count


# -- history ---------------------------------------------------------------------------------------
def test_history_lists_newest_first_with_roles(make_window, qloop, emu, alpha):
    window = make_window()
    history = open_history(window, qloop, (GROUP, alpha["id"]))
    model = history.model
    assert [model.index(r, 2).data() for r in range(model.rowCount())] == [
        "second build", "first build"]
    assert model.index(0, 6).data() == "current"
    assert model.index(1, 6).data() == "minimum supported"
    assert model.index(0, 5).data() == "demo"
    sha = deployments_of(emu, alpha["id"])[0]["attributes"]["sha"]
    assert model.index(0, 0).data() == sha[:7]
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole).bold()
    history.select_ids([model.deployment(1).id])
    assert "build 1" in history.code_views["device_code"].toPlainText()
    assert history.code_views["device_code"].isReadOnly()


def test_diff_of_two_deployments(make_window, qloop, alpha):
    window = make_window()
    history = open_history(window, qloop, (GROUP, alpha["id"]))
    newer, older = history.model.deployments
    history.select_ids([newer.id, older.id])
    assert history.buttons["compare"].isEnabled()
    diff = qloop.run(history.compare_selected())
    rows = diff.tables["device_code"].rows
    changed = [r for r in rows if r.tag != "equal"]
    assert changed and all("build 1" in r.left and "build 2" in r.right for r in changed)
    table = diff.tables["device_code"]
    row = rows.index(changed[0])
    assert table.item(row, 1).text() == changed[0].left
    assert table.item(row, 3).text() == changed[0].right
    assert "differ" in diff.summary.text()


@pytest.mark.parametrize("answer", [True, RESTART])
def test_rollback_redeploys_the_old_code(make_window, qloop, emu, alpha, headless, answer):
    emu.config(simulation={"restart_delay_s": 0})
    online = [d["id"] for d in emu.list_all("/devices")
              if (d["relationships"].get("devicegroup") or {}).get("id") == alpha["id"]
              and d["attributes"]["device_online"]]
    before = {d: restarts(emu, d) for d in online}
    headless["Redeploy"] = answer  # True: confirmed with the default, "nothing"
    window = make_window()
    history = open_history(window, qloop, (GROUP, alpha["id"]))
    old = history.model.deployments[1]
    history.select_ids([old.id])
    new = qloop.run(history.rollback())
    deps = deployments_of(emu, alpha["id"])
    assert len(deps) == 3 and deps[0]["id"] == new.id == current_of(emu, alpha["id"])
    attrs = deps[0]["attributes"]
    assert attrs["sha"] == old.sha and attrs["device_code"] == old.attr("device_code")
    assert history.model.deployments[0].id == new.id  # the table is up to date
    bumped = 1 if answer == RESTART else 0
    assert {d: restarts(emu, d) for d in online} == {d: n + bumped for d, n in before.items()}


def test_redeploy_choice_dialog_defaults_to_cancel_and_returns_the_choice(qtbot):
    choices = [(NOTHING, "&Nothing"), (RESTART, "&Restart"), (CONDITIONAL, "Cond&itional")]
    dialog = dialogs.ChoiceDialog(None, "Redeploy", "<b>v1</b> again?", "Redeploy", choices,
                                  NOTHING)
    qtbot.addWidget(dialog)
    assert dialog.text.text() == "<b>v1</b> again?"  # plain text: never bold
    assert dialog.text.textFormat() == Qt.TextFormat.PlainText
    assert dialog.cancel.isDefault() and not dialog.ok.isDefault()
    assert dialog.chosen() == NOTHING
    dialog.buttons[CONDITIONAL].click()
    with qtbot.waitSignal(dialog.accepted):
        dialog.ok.click()
    assert dialog.chosen() == CONDITIONAL


def test_redeploy_cancelled_deploys_nothing(make_window, qloop, emu, alpha, headless):
    headless["Redeploy"] = False
    window = make_window()
    history = open_history(window, qloop, (GROUP, alpha["id"]))
    history.select_ids([history.model.deployments[1].id])
    assert qloop.run(history.rollback()) is None
    assert len(deployments_of(emu, alpha["id"])) == 2


def test_flag_unflag_and_edit(make_window, qloop, emu, alpha):
    window = make_window()
    history = open_history(window, qloop, (GROUP, alpha["id"]))
    dep = history.model.deployments[0]
    history.select_ids([dep.id])
    qloop.run(history.toggle_flag())
    assert emu.get(f"/deployments/{dep.id}").json()["data"]["attributes"]["flagged"] is True
    assert history.buttons["flag"].text() == "Unflag"
    assert history.model.index(0, 4).data() == "⚑ flagged"
    qloop.run(history.toggle_flag())
    assert emu.get(f"/deployments/{dep.id}").json()["data"]["attributes"]["flagged"] is False
    qloop.run(history.edit(values=("renamed build", ["v2", "stable"])))
    attrs = emu.get(f"/deployments/{dep.id}").json()["data"]["attributes"]
    assert (attrs["description"], attrs["tags"]) == ("renamed build", ["v2", "stable"])
    index = window.model.index_of((GROUP, alpha["id"]), Column.DEPLOYMENT)
    assert window.model.data(index) == f"{dep.sha[:7]} · renamed build"


def test_delete_rules(make_window, qloop, emu, alpha, headless):
    headless["Delete"] = True
    window = make_window()
    history = open_history(window, qloop, (GROUP, alpha["id"]))
    newer, older = history.model.deployments
    history.select_ids([older.id])  # the minimum supported deployment
    assert not history.buttons["delete"].isEnabled()
    assert "minimum supported" in history.reason.text()
    history.select_ids([newer.id])
    assert not history.buttons["delete"].isEnabled() and "current" in history.reason.text()
    # if the local rules were out of date, the service's refusal is shown verbatim
    assert not qloop.run(history.delete(older, check=False))
    assert "CX106" in history.error.text()
    assert emu.get(f"/deployments/{older.id}").status_code == 200
    # move the minimum up: the older one may go, unless it is flagged
    resp = emu.put(f"/devicegroups/{alpha['id']}/relationships/min_supported_deployment",
                   json={"data": {"type": "deployment", "id": newer.id}})
    assert resp.status_code == 200
    qloop.run(history.reload())
    flagged = qloop.run(history.toggle_flag(history.model.deployments[1]))
    history.select_ids([older.id])
    assert not history.buttons["delete"].isEnabled() and "flagged" in history.reason.text()
    assert not qloop.run(history.delete(flagged, check=False))
    assert "CX105" in history.error.text()
    qloop.run(history.toggle_flag())
    assert history.buttons["delete"].isEnabled() and history.reason.text() == ""
    assert qloop.run(history.delete())
    assert emu.get(f"/deployments/{older.id}").status_code == 404
    assert [d.id for d in history.model.deployments] == [newer.id]


def test_copy_to_another_group_and_save_code(make_window, qloop, emu, alpha, tmp_path):
    product = alpha["relationships"]["product"]["id"]
    made = emu.post("/devicegroups", json={"data": {
        "type": "development_devicegroup", "attributes": {"name": "Alpha Staging"},
        "relationships": {"product": {"type": "product", "id": product}}}})
    assert made.status_code == 201, made.text
    target = made.json()["data"]["id"]
    window = make_window()
    history = open_history(window, qloop, (GROUP, alpha["id"]))
    dep = history.model.deployments[1]
    history.select_ids([dep.id])
    new = qloop.run(history.copy_to(group_id=target))
    assert current_of(emu, target) == new.id
    assert emu.get(f"/deployments/{new.id}").json()["data"]["attributes"]["sha"] == dep.sha
    index = window.model.index_of((GROUP, target), Column.DEPLOYMENT)
    assert window.model.data(index) == f"{dep.sha[:7]} · first build"
    assert len(deployments_of(emu, alpha["id"])) == 2  # the source group is unchanged

    paths = qloop.run(history.save_code(directory=str(tmp_path)))
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"Alpha-Dev-{dep.sha[:7]}.agent.nut",
                                                    f"Alpha-Dev-{dep.sha[:7]}.device.nut"]
    assert Path(paths[1]).read_text(encoding="utf-8") == dep.attr("device_code")


def test_group_picker_offers_other_groups(make_window, qloop, alpha):
    from impdesk.gui.deploy.extras import GroupPicker

    window = make_window()
    feature = window.deploy
    others = [(feature.group_title(g), g) for g in feature.groups() if g.id != alpha["id"]]
    picker = GroupPicker(others, "Copy to", window)
    assert picker.list.count() == len(others) >= 1
    picker.select(others[0][1].id)
    assert picker.ok.isEnabled() and picker.chosen() == others[0][1].id


# -- pieces ----------------------------------------------------------------------------------------
def test_highlighter_formats_squirrel(qtbot):
    view = CodeView()
    qtbot.addWidget(view)
    view.set_code('/* multi\nline */ local n = 0x1F; // note\nserver.log("hi");\n'
                  'function f() { return @"x\ny"; }\n')
    doc = view.document()

    def formats(line: int) -> list[tuple[str, QFont.Weight, bool]]:
        block = doc.findBlockByNumber(line)
        return [(block.text()[r.start:r.start + r.length], r.format.fontWeight(),
                 r.format.fontItalic()) for r in block.layout().formats()]

    assert formats(0) == [("/* multi", QFont.Weight.Normal, True)]
    first = formats(1)
    assert ("line */", QFont.Weight.Normal, True) in first
    assert ("local", QFont.Weight.Bold, False) in first
    assert ("0x1F", QFont.Weight.Normal, False) in first
    assert ("// note", QFont.Weight.Normal, True) in first
    assert ('"hi"', QFont.Weight.Normal, False) in formats(2)
    assert [t for t, *_ in formats(3)] == ["function", "return", '@"x']
    assert [t for t, *_ in formats(4)] == ['y"']
    assert view.isReadOnly()
    assert view.show_position(3, 5) == 'server.log("hi");'


def test_code_helpers(tmp_path, monkeypatch):
    assert parse_tags("a, b  c,a") == ["a", "b", "c"]
    assert tags_problem(["ok_1", "v1.2", "x-*"]) is None
    assert "'bad tag'" in (tags_problem(["ok", "bad tag"]) or "")
    assert tags_problem(["t" * (MAX_TAG_CHARS + 1)]) is not None
    assert tags_problem(["t" * 250, "u" * 250]) is None
    rows = side_by_side("a\nb\nc\n", "a\nB\nc\nd\n")
    assert [(r.tag, r.left_no, r.right_no) for r in rows] == [
        ("equal", 1, 1), ("replace", 2, 2), ("equal", 3, 3), ("insert", None, 4)]
    warnings = compiler_messages([{"status": "200", "title": "Warning", "meta": [
        {"file": "device_code", "type": "warning", "row": 3, "column": 7, "text": "unused"}]}],
        "warning")
    assert [w.line() for w in warnings] == ["device_code:3:7 warning: unused"]
    big = tmp_path / "big.nut"
    big.write_text("x" * 100)
    monkeypatch.setattr("impdesk.gui.deploy.code.MAX_CODE_BYTES", 10)
    with pytest.raises(CodeFileError, match="larger"):
        read_code_file(str(big))
    with pytest.raises(CodeFileError, match="no such file"):
        read_code_file(str(tmp_path / "missing.nut"))


def test_compiler_warnings_are_listed_and_the_deployment_stands(make_window, qloop, emu, alpha,
                                                                tmp_path):
    # The real service may answer a good deploy with warnings (§3.5.2); the emulator sends
    # them only when told to, through its compile_warnings fault.
    emu.control("PUT", "/faults", {"compile_warnings": [
        {"file": "agent_code", "row": 2, "column": 23, "text": "unused parameter 'req'"}]})
    count = len(deployments_of(emu, alpha["id"]))
    window = make_window()
    dialog = open_dialog(window, qloop, (GROUP, alpha["id"]))
    agent_path, device_path = write_code(tmp_path)
    dialog.paths["agent_code"].setText(agent_path)
    dialog.paths["device_code"].setText(device_path)
    dialog.submit.click()
    qloop.run(drain(dialog.tasks))
    assert len(deployments_of(emu, alpha["id"])) == count + 1  # warnings do not undo it
    assert dialog.isVisible() and dialog.submit.text() == "Close"
    assert dialog.messages.lines() == ["agent_code:2:23 warning: unused parameter 'req'"]
    dialog.messages.list.setCurrentRow(0)
    assert dialog.messages.shown_line == AGENT.splitlines()[1]
    dialog.submit.click()
    assert dialog.result() == dialog.DialogCode.Accepted and not dialog.isVisible()


def test_diff_never_elides_code_it_wraps_long_lines(qtbot):
    from impdesk.gui.deploy.extras import DiffTable

    long_line = "server.log(" + "x" * 300 + ");"
    table = DiffTable(side_by_side("a();\n" + long_line + "\nc();\n", "a();\nb();\nc();\n"))
    qtbot.addWidget(table)
    table.resize(600, 300)
    table.show()
    qtbot.waitExposed(table)
    assert abs(table.columnWidth(1) - table.columnWidth(3)) <= 1  # both sides stay in view
    long_row = next(r for r, row in enumerate(table.rows) if row.left == long_line)
    lines_needed = table.fontMetrics().horizontalAdvance(long_line) // table.columnWidth(1)
    assert table.rowHeight(long_row) >= table.fontMetrics().height() * lines_needed
    assert table.rowHeight(0) == table.row_height and table.wrapped == {long_row}
    table.resize(5000, 300)  # wide enough: the row shrinks back to one line
    qtbot.waitUntil(lambda: table.rowHeight(long_row) == table.row_height, timeout=2000)
