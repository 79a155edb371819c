"""Moving devices (drag and drop, Move to…, undo) and restarting them, for the main window."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
)

from ..api.errors import ApiError
from ..api.records import Device
from ..core.services import MoveOutcome
from ..core.tree import DEVICE, GROUP
from . import dialogs
from .move_dialog import MoveDialog
from .tasks import run_blocking
from .window_constants import MESSAGE_MS


@dataclass
class LastMove:
    """What Ctrl+Z undoes: devices and the groups they came from."""

    previous_groups: dict[str, str | None]
    target_group_id: str | None


class MovesMixin:
    """MainWindow's moves and restarts: rules first, pending rows, per-device reports."""

    # -- moves -------------------------------------------------------------------------------------
    def _on_assign_requested(self, device_ids: list[str], target_group_id: str) -> None:
        self.tasks.spawn(self.move_devices(device_ids, target_group_id or None))

    async def move_selected(self) -> None:
        ids = self.selected_device_ids()
        if not ids or self.service is None:
            return
        service = self.service
        products = {p.id: p for p in service.snapshot.products}
        dialog = MoveDialog(service.snapshot.device_groups, products,
                            lambda gid: service.verdicts(ids, gid), len(ids), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        if not await dialogs.ask(dialog):
            return
        chosen = dialog.chosen()
        dialog.deleteLater()
        if chosen is not None:
            await self.move_devices(ids, chosen or None)

    async def move_devices(self, device_ids: list[str], target_group_id: str | None,
                           record_undo: bool = True) -> MoveOutcome | None:
        """Check the rules, mark rows pending, ask the server, then commit or roll back."""
        if self.service is None or not device_ids:
            return None
        service = self.service
        verdicts = service.verdicts(device_ids, target_group_id)
        allowed = [d for d, v in verdicts.items() if v.allowed]
        refused = {d: v.reason for d, v in verdicts.items() if not v.allowed and not v.no_op}
        if not allowed:
            if refused:
                self._report_refusals(refused, target_group_id)
            return None
        unbond_key = None
        if any(verdicts[d].needs_unbond_key for d in allowed):
            unbond_key = await self._ask_unbond_key()
            if unbond_key is None:
                self.statusBar().showMessage(self.tr("Move cancelled"), MESSAGE_MS)
                return None
        pending_keys = [(DEVICE, d) for d in allowed]
        self.model.set_pending(pending_keys, "moving")
        self.statusBar().showMessage(self.tr("Moving %d device(s)…") % len(allowed))
        label = (self.tr("Moving %d device(s) to %s") % (
            len(allowed), self._group_name(target_group_id)) if target_group_id
            else self.tr("Unassigning %d device(s)") % len(allowed))
        try:
            with self.changes.sending(label):
                outcome = await run_blocking(service.move_devices, allowed, target_group_id,
                                             unbond_key)
        except ApiError as exc:
            self.model.set_pending(pending_keys, None)  # rolled back: nothing moved
            self._journal_move(target_group_id, {d: str(exc) for d in allowed})
            self.statusBar().showMessage(self.tr("Move failed, nothing was moved: %s")
                                         % exc.user_message, MESSAGE_MS)
            await self._error_box(self.tr("Move failed"),
                                  self.tr("Nothing was moved.\n\n%s") % exc.user_message)
            return None
        finally:
            self.model.set_pending(pending_keys, None)
        outcome.refused.update(refused)
        self.model.apply(service.shape())
        self._journal_move(target_group_id, {**{d: "ok" for d in outcome.applied},
                                             **outcome.refused})
        target_name = self._group_name(target_group_id)
        if outcome.applied and record_undo:
            self.last_move = LastMove(dict(outcome.previous_groups), target_group_id)
        self._update_actions()
        if outcome.refused:
            self._report_refusals(outcome.refused, target_group_id, len(outcome.applied))
        else:
            self.statusBar().showMessage(
                self.tr("Moved %d device(s) to %s. Ctrl+Z undoes it.") % (
                    len(outcome.applied), target_name), MESSAGE_MS)
        return outcome

    def _journal_move(self, target_group_id: str | None, results: dict[str, str]) -> None:
        journal = getattr(self, "journal", None)
        if journal is None:
            return
        action = (self.tr("Move to %s") % self._group_name(target_group_id) if target_group_id
                  else self.tr("Unassign"))
        for device_id, result in results.items():
            device = self.service.device(device_id) if self.service else None
            journal.record(action, device.display_name if device else device_id, result)

    async def undo_move(self) -> None:
        move, self.last_move = self.last_move, None
        self._update_actions()
        if move is None:
            return
        by_group: dict[str | None, list[str]] = {}
        for device_id, group_id in move.previous_groups.items():
            by_group.setdefault(group_id, []).append(device_id)
        for group_id, ids in by_group.items():
            await self.move_devices(ids, group_id, record_undo=False)

    async def _ask_unbond_key(self) -> str | None:
        if dialogs.HEADLESS_ANSWERS is not None:
            value = dialogs.HEADLESS_ANSWERS.get("unbond_key")
            return value if isinstance(value, str) else None
        dialog = QInputDialog(self)
        dialog.setWindowTitle(self.tr("Unbond key required"))
        dialog.setLabelText(self.tr("Removing devices from a production device group needs the "
                                    "account's unbond key:"))
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        if not await dialogs.ask(dialog):
            return None
        return dialog.textValue().strip() or None

    def _group_name(self, group_id: str | None) -> str:
        if group_id is None:
            return self.tr("Unassigned devices")
        group = self.service.group(group_id) if self.service else None
        return group.name if group else group_id

    def _report_refusals(self, refused: dict[str, str], target_group_id: str | None,
                         applied: int = 0) -> None:
        lines = []
        for device_id, reason in refused.items():
            node = self.model.nodes.get((DEVICE, device_id))
            name = node.payload.display_name if node and isinstance(node.payload, Device) \
                else device_id
            lines.append(f"{name}: {reason}")
        summary = self.tr("%d moved to %s, %d refused.") % (
            applied, self._group_name(target_group_id), len(refused))
        self.statusBar().showMessage(f"{summary} {lines[0]}", MESSAGE_MS)
        self.last_refusals = lines
        if len(lines) > 1 or applied:
            self.tasks.spawn(self._error_box(self.tr("Some devices were not moved"),
                                             summary + "\n\n" + "\n".join(lines)))

    async def _error_box(self, title: str, text: str) -> None:
        await dialogs.warn(self, title, text)

    # -- restarts ------------------------------------------------------------------------------
    async def restart_selected(self, conditional: bool) -> None:
        if self.service is None:
            return
        client = self.service.client
        targets = [n for n in self.selected_nodes() if n.kind == GROUP or (
            n.kind == DEVICE and isinstance(n.payload, Device) and n.payload.devicegroup_id)]
        if not targets:
            return
        word = self.tr("Conditional restart") if conditional else self.tr("Restart")
        names = ", ".join(self.model.data(self.model.index_of(n.key), 0) for n in targets[:5])
        more = "" if len(targets) <= 5 else self.tr(" and %d more") % (len(targets) - 5)
        if not await dialogs.confirm(self, word, self.tr("%s %s%s?") % (word, names, more), word):
            return
        results: dict[str, str] = {}
        with self.changes.sending(self.tr("%s of %d item(s)") % (word, len(targets))):
            for node in targets:
                try:
                    if node.kind == GROUP:
                        await run_blocking(client.restart_device_group, node.id, conditional)
                    else:
                        await run_blocking(client.restart_device, node.id, conditional)
                    results[node.id] = "ok"
                except ApiError as exc:
                    results[node.id] = str(exc)  # status, code, title: detail (verbatim)
        failed = {k: v for k, v in results.items() if v != "ok"}
        self.last_restart_results = results
        rows = [(self.model.data(self.model.index_of(n.key), 0), n.kind, results[n.id])
                for n in targets]
        journal = getattr(self, "journal", None)
        for name, _kind, result in rows if journal is not None else ():
            journal.record(word, name, result)
        show = getattr(self, "show_restart_results", None)
        if show is not None:
            await show(word, rows)
        elif failed:
            await self._error_box(word, "\n".join(f"{k}: {v}" for k, v in failed.items()))
        self.statusBar().showMessage(self.tr("%s: %d done, %d failed") % (
            word, len(results) - len(failed), len(failed)), MESSAGE_MS)
