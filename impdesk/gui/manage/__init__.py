"""Account management: create, edit and delete products, groups and devices; activity journal."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from ...api.records import Device
from ...core.journal import Journal
from ...core.tree import DEVICE, GROUP, PRODUCT
from .controller import ManageController
from .journal_dock import JournalDock

__all__ = ["ManageController", "install"]


def install(window: Any) -> None:
    """Add the management actions, the Activity dock and `window.journal` to a MainWindow."""
    window.journal = Journal()
    ctrl = window.manage = ManageController(window, window.journal)
    window.show_restart_results = ctrl.show_restart_results
    dock = window.activity_dock = JournalDock(window.journal, window)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.resizeDocks([dock], [150], Qt.Orientation.Vertical)
    dock.hide()  # View → Activity (Ctrl+J) shows it; the tree gets the room by default
    spawn = window.tasks.spawn

    def action(text: str, coro: Any, shortcut: Any = None, tip: str = "") -> QAction:
        act = QAction(window.tr(text), window)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(window.tr(tip))
            act.setToolTip(window.tr(tip))
        act.triggered.connect(lambda: spawn(coro()))
        window.addAction(act)
        return act

    def selected_group() -> Any:
        node = ctrl.single(GROUP)
        return node.payload if node else None

    a = window.manage_actions = {
        "new_product": action("&New product…", ctrl.new_product, "Ctrl+N",
                              "Create a product"),
        "new_group": action("New device &group…", ctrl.new_group, "Ctrl+Shift+N",
                            "Create a device group in the selected product"),
        "rename": action("Re&name…", ctrl.rename_selected, "F2",
                         "Rename the selected product, device group or device"),
        "edit": action("&Edit…", ctrl.edit_selected, "Ctrl+E",
                       "Edit the selected product or device group (description, environment "
                       "variables, …)"),
        "delete": action("&Delete…", ctrl.delete_selected, QKeySequence.StandardKey.Delete,
                         "Delete the selected product or device group, or remove the selected "
                         "devices from the account"),
        "move_all": action("Move &all devices…",
                           lambda: ctrl.move_all(selected_group()), None,
                           "Move every device of the selected group to another group"),
    }
    # Delete only where the tree has focus: the filter box keeps its own Delete key.
    a["delete"].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.view.addAction(a["delete"])

    window.menus["file"].insertAction(window.menus["file"].actions()[0], a["new_product"])
    window.menus["file"].insertSeparator(window.menus["file"].actions()[1])
    edit = window.menus["edit"]
    edit.addSeparator()
    for key in ("rename", "edit", "delete"):
        edit.addAction(a[key])
    groups = window.menus["groups"]
    for key in ("new_group", "edit", "move_all", "delete"):
        groups.addAction(a[key])
    window.menus["devices"].addSeparator()
    window.menus["devices"].addAction(a["rename"])
    window.menus["devices"].addAction(a["delete"])
    toggle = dock.toggleViewAction()
    toggle.setText(window.tr("&Activity"))
    toggle.setShortcut(QKeySequence("Ctrl+J"))
    window.menus["view"].addSeparator()
    window.menus["view"].addAction(toggle)
    # Only the creating actions on the toolbar: edits and deletes act on the selection and live
    # in the menus and the tree's context menu, which keeps the filter box wide.
    for key in ("new_product", "new_group"):
        window.toolbar.insertAction(window.toolbar_separator, a[key])
    window.context_actions.extend([a["new_group"], a["rename"], a["edit"], a["move_all"],
                                   a["delete"]])

    def update(*_: Any) -> None:
        signed_in = window.service is not None
        nodes = window.selected_nodes() if signed_in else []
        one = nodes[0] if len(nodes) == 1 else None
        kinds = {n.kind for n in nodes}
        a["new_product"].setEnabled(signed_in)
        a["new_group"].setEnabled(ctrl.product_of_selection() is not None)
        a["rename"].setEnabled(one is not None and one.kind in (PRODUCT, GROUP, DEVICE))
        a["edit"].setEnabled(one is not None and one.kind in (PRODUCT, GROUP))
        a["delete"].setEnabled(bool(nodes) and (kinds == {DEVICE} or kinds <= {PRODUCT, GROUP}))
        a["delete"].setText(window.tr("&Remove from account…") if kinds == {DEVICE}
                            else window.tr("&Delete…"))
        a["move_all"].setEnabled(one is not None and one.kind == GROUP and any(
            isinstance(n.payload, Device) for n in one.children))

    window.view.selectionModel().selectionChanged.connect(update)
    window.service_changed.connect(update)
    window.tree_reloaded.connect(update)
    window.model.rowsInserted.connect(update)
    window.model.rowsRemoved.connect(update)
    update()
