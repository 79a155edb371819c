"""The management actions: each checks input, asks, sends, journals, and updates the tree."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog

from ...api.errors import ApiError
from ...api.records import FIXTURE_TYPES, PRODUCTION_TYPES, Device, DeviceGroup, Product
from ...core.cascade import (
    SELECTION,
    CascadeReport,
    apply_report,
    error_text,
    fetch_flagged,
    plan_selection_delete,
    run_cascade,
    selection_groups,
)
from ...core.journal import OK, Journal
from ...core.manage import InputError, Manager, target_candidates
from ...core.tree import DEVICE, GROUP, PRODUCT, Key, TreeNode
from ...core.validation import group_names, product_names
from .. import dialogs
from ..move_dialog import MoveDialog
from ..tasks import run_blocking
from .cascade_dialog import CascadeDialog
from .forms import ProductDialog, RenameDialog
from .group_dialog import GroupDialog
from .results_dialog import ResultsDialog, Row

MESSAGE_MS = 8000


class ManageController(QObject):
    """Creates, edits and deletes products, groups and devices for a MainWindow."""

    def __init__(self, window: Any, journal: Journal) -> None:
        super().__init__(window)
        self.window = window
        self.journal = journal
        self.noncommercial: dict[str, str] = {}  # owner id → the server's PX300 text
        self.dialog: QDialog | None = None  # the dialog being shown (tests drive it)
        self.cascade_dialog: CascadeDialog | None = None
        self.last_report: CascadeReport | None = None
        self.last_results: list[Row] = []
        self.last_error: str | None = None

    # -- helpers ------------------------------------------------------------------------------
    @property
    def service(self) -> Any:
        return self.window.service

    @property
    def manager(self) -> Manager:
        return Manager(self.service)

    def selected(self) -> list[TreeNode]:
        return self.window.selected_nodes()

    def single(self, *kinds: str) -> TreeNode | None:
        nodes = self.selected()
        return nodes[0] if len(nodes) == 1 and nodes[0].kind in kinds else None

    def status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, MESSAGE_MS)

    def update_tree(self, select: Key | None = None) -> None:
        """Show the service's snapshot in the tree with precise row changes (no reload)."""
        w = self.window
        if w.service is None:
            return
        w.model.apply(w.service.shape())
        if select is not None and select in w.model.nodes:
            w.select_only(select)
        w._on_selection()  # details pane and action states follow the change

    async def open(self, dialog: QDialog) -> bool:
        self.dialog = dialog
        try:
            return await dialogs.ask(dialog)
        finally:
            self.dialog = None
            dialog.deleteLater()

    def failed(self, action: str, target: str, exc: BaseException | str) -> str:
        text = exc if isinstance(exc, str) else error_text(exc)
        self.journal.record(action, target, text)
        self.last_error = text
        self.status(f"{action} failed: {text}")
        return text

    async def error_box(self, title: str, text: str) -> None:
        await dialogs.warn(self.window, title, text)

    async def show_results(self, title: str, summary: str, rows: list[Row]) -> None:
        """A result per device or group (a table), unless one item simply succeeded."""
        self.last_results = rows
        if dialogs.HEADLESS_ANSWERS is not None or (len(rows) == 1 and rows[0][2] == OK):
            return
        await self.open(ResultsDialog(title, summary, rows, self.window))

    async def _call(self, action: str, target: str, fn: Any, *args: Any, **kw: Any) -> Any:
        """Run a Manager call off the UI thread; journal its failure and re-raise it."""
        try:
            with self.window.changes.sending(f"{action}: {target}"):
                return await run_blocking(fn, *args, **kw)
        except (ApiError, InputError) as exc:
            self.failed(action, target, exc)
            raise

    # -- products -----------------------------------------------------------------------------
    async def new_product(self) -> None:
        if self.service is None:
            return

        async def submit(v: dict[str, Any]) -> None:
            product = await self._call("Create product", v["name"], self.manager.create_product,
                                       v["name"], v["description"] or None)
            self.journal.record("Create product", product.name)
            self.update_tree(select=(PRODUCT, product.id))
            self.status(self.tr("Created product %s") % product.name)

        await self.open(ProductDialog(submit, product_names(self.service.snapshot, None),
                                      parent=self.window))

    async def edit_product(self, product: Product) -> None:
        async def submit(v: dict[str, Any]) -> None:
            changes = {k: v[k] for k in ("name", "description")
                       if (v[k] or None) != (getattr(product, k) or None)}
            if not changes:
                return
            updated = await self._call("Edit product", product.name,
                                       self.manager.update_product, product, **changes)
            self.journal.record("Edit product", updated.name)
            self.update_tree()

        taken = product_names(self.service.snapshot, product.owner_id, product.id)
        await self.open(ProductDialog(submit, taken, product.name, product.description, True,
                                      self.window))

    # -- groups -------------------------------------------------------------------------------
    def product_of_selection(self) -> Product | None:
        nodes = self.selected()
        if len(nodes) != 1 or self.service is None:
            return None
        node = nodes[0]
        product_id = {PRODUCT: node.id, GROUP: getattr(node.payload, "product_id", None),
                      DEVICE: getattr(node.payload, "product_id", None)}.get(node.kind)
        return next((p for p in self.service.snapshot.products if p.id == product_id), None)

    def _candidates(self, product_id: str) -> dict[str, tuple[list, list]]:
        return {t: target_candidates(self.service, product_id, t) for t in FIXTURE_TYPES}

    async def new_group(self, product: Product | None = None) -> None:
        product = product or self.product_of_selection()
        if product is None:
            self.status(self.tr("Select a product (or one of its groups) first."))
            return
        owner = product.owner_id or ""

        async def submit(v: dict[str, Any]) -> None:
            extra = {k: v[k] for k in ("env_vars", "load_code_after_blessing", "region")
                     if k in v}
            try:
                group = await self._call(
                    "Create device group", v["name"], self.manager.create_group, product.id,
                    v["type"], v["name"], v["description"] or None,
                    production_target=v.get("production_target"),
                    dut_target=v.get("dut_target"), **extra)
            except ApiError as exc:
                if exc.code == "PX300":
                    self.noncommercial[owner] = exc.user_message
                raise
            self.journal.record("Create device group", f"{product.name} / {group.name}")
            self.update_tree(select=(GROUP, group.id))
            self.status(self.tr("Created device group %s") % group.name)

        await self.open(GroupDialog(submit, product.name,
                                    group_names(self.service.snapshot, product.id),
                                    self._candidates(product.id), None,
                                    self.noncommercial.get(owner), self.window))

    async def edit_group(self, group: DeviceGroup) -> None:
        product = next((p for p in self.service.snapshot.products
                        if p.id == group.product_id), None)

        async def submit(v: dict[str, Any]) -> None:
            attrs: dict[str, Any] = {}
            if v["name"] != group.name:
                attrs["name"] = v["name"]
            if (v["description"] or None) != (group.description or None):
                attrs["description"] = v["description"] or None
            if v["env_vars"] != group.env_vars:
                attrs["env_vars"] = v["env_vars"]
            if "load_code_after_blessing" in v and v["load_code_after_blessing"] != bool(
                    group.attributes.get("load_code_after_blessing", True)):
                attrs["load_code_after_blessing"] = v["load_code_after_blessing"]
            prod = v.get("production_target")
            dut = v.get("dut_target")
            if not attrs and prod in (None, group.production_target_id) and dut in (
                    None, group.dut_target_id):
                return
            updated = await self._call("Edit device group", group.name,
                                       self.manager.update_group, group, attrs, prod, dut)
            self.journal.record("Edit device group", updated.name)
            self.update_tree()

        await self.open(GroupDialog(
            submit, product.name if product else "",
            group_names(self.service.snapshot, group.product_id or "", group.id),
            self._candidates(group.product_id or ""), group, None, self.window))

    # -- rename / edit / delete dispatch ---------------------------------------------------------
    async def rename_selected(self) -> None:
        node = self.single(PRODUCT, GROUP, DEVICE)
        if node is None or self.service is None:
            return
        snap = self.service.snapshot
        record = node.payload
        if node.kind == PRODUCT:
            what, taken, required = "product", product_names(snap, record.owner_id,
                                                             record.id), True
        elif node.kind == GROUP:
            what, taken, required = "device group", group_names(snap, record.product_id or "",
                                                                record.id), True
        else:
            what, taken, required = "device", set(), False
        action = f"Rename {what}"

        async def submit(v: dict[str, Any]) -> None:
            name = v["name"]
            if name == record.name:
                return
            if node.kind == PRODUCT:
                fn, args = self.manager.update_product, (record,)
                updated = await self._call(action, record.name, fn, *args, name=name)
            elif node.kind == GROUP:
                updated = await self._call(action, record.name, self.manager.update_group,
                                           record, {"name": name})
            else:
                updated = await self._call(action, record.display_name,
                                           self.manager.rename_device, record, name)
            old = record.display_name if node.kind == DEVICE else record.name
            new = updated.display_name if node.kind == DEVICE else updated.name
            self.journal.record(action, f"{old} \u2192 {new}")
            self.update_tree()

        await self.open(RenameDialog(what, submit, record.name, taken, required, self.window))

    async def edit_selected(self) -> None:
        node = self.single(PRODUCT, GROUP)
        if node is not None and node.kind == PRODUCT:
            await self.edit_product(node.payload)
        elif node is not None:
            await self.edit_group(node.payload)

    async def delete_selected(self) -> None:
        nodes = self.selected()
        if self.service is None or not nodes:
            return
        devices = [n.id for n in nodes if n.kind == DEVICE]
        containers = [n for n in nodes if n.kind in (PRODUCT, GROUP)]
        if devices and len(devices) == len(nodes):
            await self.remove_devices(devices)
        elif len(containers) == 1 and len(nodes) == 1:
            await self.delete_with_cascade(nodes[0].kind, nodes[0].payload)
        elif containers and len(containers) == len(nodes):
            await self.delete_selection([n.id for n in containers if n.kind == PRODUCT],
                                        [n.id for n in containers if n.kind == GROUP])
        else:
            # Removing a device from the account is a different act from deleting a
            # container (whose devices stay in the account): never both from one key press.
            self.status(self.tr("Select only devices (to remove them from the account) or "
                                "only products and device groups (to delete them)."))

    # -- cascade delete -----------------------------------------------------------------------
    async def delete_with_cascade(self, kind: str, record: Product | DeviceGroup
                                  ) -> CascadeReport | None:
        """Preview what blocks the delete and every step; confirm; run with progress; report."""
        if kind == PRODUCT:
            return await self._cascade([record.id], [], "Delete product", record.name)
        return await self._cascade([], [record.id], "Delete device group", record.name)

    async def delete_selection(self, product_ids: list[str], group_ids: list[str]
                               ) -> CascadeReport | None:
        """Several products and groups in one preview, one confirmation and one report."""
        return await self._cascade(product_ids, group_ids, "Delete",
                                   self.tr("%d selected items") % (
                                       len(product_ids) + len(group_ids)))

    async def _cascade(self, product_ids: list[str], group_ids: list[str], action: str,
                       target: str) -> CascadeReport | None:
        svc = self.service
        snap = svc.snapshot
        groups = selection_groups(snap, product_ids, group_ids)
        self.status(self.tr("Checking what depends on %s…") % target)
        try:
            flagged = await run_blocking(fetch_flagged, svc.client, [g.id for g in groups])
        except ApiError as exc:
            await self.error_box(self.tr("Delete"), self.failed(action, target, exc))
            return None
        if self.service is not svc:  # signed out while the check ran
            return None
        plan = plan_selection_delete(svc.snapshot, product_ids, group_ids, flagged)
        dialog = self.cascade_dialog = CascadeDialog(plan, self.window)
        if not await dialog.confirm():
            dialog.close()
            self.status(self.tr("Nothing was deleted."))
            return None
        unbond_key = None
        if plan.needs_unbond_key:
            unbond_key = await self.window._ask_unbond_key()
            if unbond_key is None:
                dialog.close()
                self.status(self.tr("Nothing was deleted: the unbond key is needed."))
                return None
        dialog.start()
        loop = asyncio.get_running_loop()

        def on_step(index: int, state: str, message: str) -> None:
            loop.call_soon_threadsafe(dialog.set_step, index, state, message)

        what = (plan.root_name if plan.root_kind == SELECTION
                else f"{plan.root_kind} \u201c{plan.root_name}\u201d")
        with self.window.changes.sending(self.tr("Deleting %s (%d steps)") % (
                what, len(plan.steps))):
            report = await run_blocking(run_cascade, svc.client, plan, unbond_key, on_step)
            await asyncio.sleep(0)  # let the last step updates land before the report
            await run_blocking(apply_report, svc.client, svc.snapshot, report)
        for result in report.results:
            self.journal.record(result.step.action, result.step.name or result.step.target_id,
                                OK if result.ok else result.message)
        for step in report.not_done:
            self.journal.record(step.action, step.name or step.target_id,
                                "not done: an earlier step failed")
        self.update_tree()
        dialog.finish(report)
        self.last_report = report
        self.status(report.summary())
        return report

    # -- devices ------------------------------------------------------------------------------
    async def remove_devices(self, device_ids: list[str]) -> None:
        """Delete devices from the account; production devices are refused with the reason."""
        svc = self.service
        devices = [d for d in (svc.device(i) for i in device_ids) if d is not None]
        rows: list[Row] = []
        rest: list[Device] = []
        for device in devices:
            if device.devicegroup_type in PRODUCTION_TYPES:
                try:
                    self.manager.remove_device(device)  # refuses before sending
                except InputError as exc:
                    rows.append((device.display_name, "device",
                                 self.failed("Remove device", device.display_name, exc)))
            else:
                rest.append(device)
        if rest:
            assigned = [d for d in rest if d.devicegroup_id]
            text = self.tr("Remove %d device(s) from the account?\n\n%s\n\nA removed device "
                           "and its logs are gone; it comes back only through BlinkUp.") % (
                len(rest), "\n".join(d.display_name for d in rest[:10]))
            verb = self.tr("Remove")
            if assigned:
                text += self.tr("\n\n%d of them are assigned to a device group and will be "
                                "unassigned first.") % len(assigned)
                verb = self.tr("Unassign and remove")
            if not await dialogs.confirm(self.window, self.tr("Remove devices"), text, verb):
                self.status(self.tr("Nothing was removed."))
                rest = []
            elif assigned:
                outcome = await self.window.move_devices([d.id for d in assigned], None,
                                                         record_undo=False)
                refused = outcome.refused if outcome else {d.id: "not unassigned"
                                                           for d in assigned}
                for device in [d for d in rest if d.id in refused]:
                    rows.append((device.display_name, "device", refused[device.id]))
                rest = [svc.device(d.id) or d for d in rest if d.id not in refused]
        for device in rest:
            try:
                await self._call("Remove device", device.display_name,
                                 self.manager.remove_device, device)
            except (ApiError, InputError) as exc:
                rows.append((device.display_name, "device", error_text(exc)))
                continue
            self.journal.record("Remove device", device.display_name)
            rows.append((device.display_name, "device", OK))
        self.update_tree()
        if rows:
            done = sum(1 for r in rows if r[2] == OK)
            summary = self.tr("%d removed, %d not removed.") % (done, len(rows) - done)
            self.status(summary)
            await self.show_results(self.tr("Remove devices"), summary, rows)

    async def move_all(self, group: DeviceGroup | None) -> None:
        """Move every device of a group to another group (or unassign them all)."""
        svc = self.service
        if group is None or svc is None:
            return
        ids = [d.id for d in svc.snapshot.devices if d.devicegroup_id == group.id]
        if not ids:
            self.status(self.tr("%s has no devices.") % group.name)
            return
        products = {p.id: p for p in svc.snapshot.products}
        dialog = MoveDialog(svc.snapshot.device_groups, products,
                            lambda gid: svc.verdicts(ids, gid), len(ids), self.window)
        dialog.setWindowTitle(self.tr("Move all devices of %s") % group.name)
        self.dialog = dialog
        try:
            accepted = await dialogs.ask(dialog)
            chosen = dialog.chosen() if accepted else None
        finally:
            self.dialog = None
            dialog.deleteLater()
        if chosen is not None:
            await self.window.move_devices(ids, chosen or None)

    # -- restarts -----------------------------------------------------------------------------
    async def show_restart_results(self, word: str, rows: list[Row]) -> None:
        """Called by MainWindow.restart_selected: one result per device or group."""
        done = sum(1 for r in rows if r[2] == OK)
        await self.show_results(word, self.tr("%s: %d done, %d failed.") % (
            word, done, len(rows) - done), rows)
