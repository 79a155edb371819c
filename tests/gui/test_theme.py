"""The system switching between light and dark while impdesk runs: colours follow at once."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from impdesk.core.journal import OK
from impdesk.gui import dialogs, theme
from impdesk.gui.deploy.code import DiffRow
from impdesk.gui.deploy.extras import DARK_LEFT_COLOURS, LEFT_COLOURS, DiffTable
from impdesk.gui.deploy.highlight import DARK_COLOURS, LIGHT_COLOURS, CodeView
from impdesk.gui.logs import DARK_STATE_COLOURS, STATE_COLOURS
from impdesk.gui.logs.model import DARK_TYPE_COLOURS, TYPE_COLOURS, Column
from tests.gui.test_logs import devices_by_name, feed, msgs, open_view, reader_threads

FG = Qt.ItemDataRole.ForegroundRole


@pytest.fixture
def switch(qapp):
    """switch(dark) sets a light or dark application palette, as a desktop's switch does."""
    original = QPalette(qapp.palette())

    def set_palette(dark: bool) -> None:
        qapp.setPalette(QPalette(QColor("#303030")) if dark else QPalette(QColor("#efefef")))
        QApplication.processEvents()
        assert theme.is_dark() == dark

    set_palette(False)
    yield set_palette
    qapp.setPalette(original)
    QApplication.processEvents()


def colour(brush) -> str:
    return brush.color().name() if brush is not None else ""


def test_logs_journal_and_errors_follow_a_switch_to_dark_and_back(make_window, emu, qloop,
                                                                   qtbot, switch):
    window = make_window()
    dev = devices_by_name(window)[0]
    view = open_view(window, qloop, [dev])
    feed(emu, dev, ["it broke"], type_="device.error")
    qtbot.waitUntil(lambda: "it broke" in msgs(view), timeout=5000)
    row = next(r for r, line in enumerate(view.model.rows) if line.msg == "it broke")
    cell = view.model.index(row, Column.MESSAGE)
    window.journal.record("Rename product", "Alpha \u2192 Beta", OK)
    journal = window.activity_dock.model
    error = dialogs.error_label()
    error.setParent(view)
    assert colour(view.model.data(cell, FG)) == TYPE_COLOURS["device.error"]
    light_ok = colour(journal.data(journal.index(0, 3), FG))

    repaints = []
    view.model.dataChanged.connect(lambda *args: repaints.append(args))
    switch(True)
    assert colour(view.model.data(cell, FG)) == DARK_TYPE_COLOURS["device.error"]
    assert repaints, "the view was not told to repaint its lines"
    assert "#4a3f22" in view.notice.styleSheet()
    assert DARK_STATE_COLOURS[window.logs.session.state] in window.logs.indicator.styleSheet()
    assert error.palette().color(QPalette.ColorRole.WindowText).name() == theme.ERROR_ON_DARK
    dark_ok = colour(journal.data(journal.index(0, 3), FG))
    assert dark_ok == theme.ok_colour().name() != light_ok

    switch(False)
    assert colour(view.model.data(cell, FG)) == TYPE_COLOURS["device.error"]
    assert "#fff8e1" in view.notice.styleSheet()
    assert STATE_COLOURS[window.logs.session.state] in window.logs.indicator.styleSheet()
    assert error.palette().color(QPalette.ColorRole.WindowText).name() == theme.ERROR_ON_LIGHT
    assert colour(journal.data(journal.index(0, 3), FG)) == light_ok
    window.close()
    qtbot.waitUntil(lambda: not reader_threads(), timeout=2000)


def _keyword_colour(view: CodeView) -> str:
    block = view.document().firstBlock()
    ranges = block.layout().formats()
    first = next(r for r in ranges if r.start == 0)  # "local" starts the line
    return first.format.foreground().color().name()


def test_code_and_diff_views_recolour_and_keep_their_mark(qtbot, switch):
    view = CodeView()
    qtbot.addWidget(view)
    view.set_code("local x = 1;\nserver.log(x);\n")
    view.show_position(2, 1)
    assert _keyword_colour(view) == LIGHT_COLOURS["keyword"]
    table = DiffTable([DiffRow("equal", 1, "a", 1, "a"), DiffRow("delete", 2, "b", None, "")])
    qtbot.addWidget(table)
    assert table.item(1, 1).background().color().name() == LEFT_COLOURS["delete"]

    switch(True)
    assert _keyword_colour(view) == DARK_COLOURS["keyword"]
    marks = view.extraSelections()
    assert [m.cursor.blockNumber() for m in marks] == [1, 1]  # still line 2, now dark tints
    assert marks[0].format.background().color().name() == DARK_COLOURS["line"]
    assert table.item(1, 1).background().color().name() == DARK_LEFT_COLOURS["delete"]
