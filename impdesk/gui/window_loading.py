"""Loading the account into the tree: progressive first load, precise refreshes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..api.errors import ApiError
from ..api.records import Device
from ..core import gcpause
from ..core.tree import DEVICE, PRODUCT
from .tasks import run_blocking
from .tree_model import Column, Role
from .window_constants import DRAIN_ROWS, DRAIN_SLICE_S, MESSAGE_MS, SMALL_TREE_NODES


class LoadingMixin:
    """MainWindow's loading: refresh() and the streaming of device pages into the model."""

    # -- loading ---------------------------------------------------------------------------------
    async def refresh(self, initial: bool = False, quiet: bool = False) -> None:
        """Load the account: progressive on first load, precise row updates afterwards."""
        if self.service is None or self._loading:
            return
        self._loading = True
        self.act_refresh.setEnabled(False)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        first = initial or not self.model.root.children
        if not quiet:
            self.progress.setRange(0, 0)
            self.progress.setFormat(self.tr("Loading…"))
            self.progress.setVisible(True)
        service = self.service
        with gcpause.bulk_load():  # no 30-60 ms full GC passes over the new records
            try:
                if first:
                    # Counts repaint a few times a second while pages stream in, not per page.
                    self.model.defer_counts = True
                    self._counts_timer.start()
                    shape = await run_blocking(
                        service.load_progressive,
                        lambda s: loop.call_soon_threadsafe(self._on_structure, s),
                        lambda devs: loop.call_soon_threadsafe(self._on_device_page, devs),
                        lambda *p: loop.call_soon_threadsafe(self._on_progress, *p))
                    if self._drainer is not None and not self._drainer.done():
                        await self._drainer
                    await self._drain_devices()
                else:
                    shape = await run_blocking(service.load)
                # The final, consistent state (no reset): compared on a worker, applied here.
                nodes, revision = self.model.state()
                todo = await run_blocking(service.plan, nodes, shape)
                self.model.apply(shape, todo, revision)
                self._flush_counts()
                await asyncio.sleep(0)  # let the loop breathe between the big steps
                self.tree_reloaded.emit()
                self.load_seconds = time.perf_counter() - started
                if first:
                    await asyncio.sleep(0)
                    self._expand_initial()
                    await self._fit_columns()
                    self._select_first_device()
                counts = self._counts()
                if not quiet:
                    self.statusBar().showMessage(
                        self.tr("Loaded %s in %.1f s") % (counts, self.load_seconds), MESSAGE_MS)
            except ApiError as exc:
                self.statusBar().showMessage(self.tr("Refresh failed: %s") % exc.user_message,
                                             MESSAGE_MS)
            finally:
                self._flush_counts()
                self._loading = False
                self.progress.setVisible(False)
                self._update_actions()
                self._on_selection()
                self._mark_ready_if_idle()

    def _flush_counts(self) -> None:
        self._counts_timer.stop()
        self.model.defer_counts = False
        self.model.flush_counts()

    def _on_structure(self, shape: Any) -> None:
        if self.model.root.children:
            self.model.apply(shape)
        else:
            self.model.reset_to(shape)
            # Products only: whether the account is small is known once devices are in.
            self._expand_initial(groups=False)

    def _on_device_page(self, devices: list[Device]) -> None:
        self._pending_devices.extend(devices)
        if self._drainer is None or self._drainer.done():  # devices stream in while loading
            self._drainer = self.tasks.spawn(self._drain_devices())

    def _on_progress(self, name: str, done: int, total: int | None, items: int) -> None:
        if name != "devices":
            return
        if total:
            self.progress.setRange(0, total)
            # setValue() repaints the whole window synchronously; with updates off it only
            # schedules a repaint, so a progress tick never stalls the event loop.
            self.progress.setUpdatesEnabled(False)
            self.progress.setValue(done)
            self.progress.setUpdatesEnabled(True)
        self.progress.setFormat(self.tr("Devices: %d") % items)
        self.statusBar().showMessage(self.tr("Loading devices… %d so far") % items)

    async def _drain_devices(self) -> None:
        """Insert device pages group by group (one row insert per group and slice), yielding to
        the event loop whenever a time slice is used up, so it keeps breathing."""
        budget = time.perf_counter() + DRAIN_SLICE_S
        while self._pending_devices:
            pending, self._pending_devices = self._pending_devices, []
            by_group: dict[str | None, list[Device]] = {}
            for device in pending:
                by_group.setdefault(device.devicegroup_id, []).append(device)
            for devices in by_group.values():
                for start in range(0, len(devices), DRAIN_ROWS):
                    self.model.add_devices(devices[start:start + DRAIN_ROWS])
                    if time.perf_counter() > budget:
                        await asyncio.sleep(0)
                        budget = time.perf_counter() + DRAIN_SLICE_S

    def _expand_initial(self, groups: bool = True) -> None:
        small = groups and len(self.model.nodes) <= SMALL_TREE_NODES
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, Role.KIND) in (PRODUCT, "owner"):
                self.view.expand(index)
                if small:  # small accounts open fully: every device at a glance
                    for child in range(self.proxy.rowCount(index)):
                        self.view.expand(self.proxy.index(child, 0, index))

    async def _fit_columns(self) -> None:
        """Fit the columns to their contents once devices are in, one column per loop turn
        (each measures the visible rows); the user's restored widths win."""
        if self._header_restored:
            return
        for col in range(1, len(Column)):
            await asyncio.sleep(0)
            self.view.resizeColumnToContents(col)
        self.view.setColumnWidth(0, max(self.view.columnWidth(0), 260))
        # Every column in view at first: the long texts (deployment, name) give way, down to
        # a useful minimum, and elide; their cells' tooltips hold the whole text.
        overflow = sum(self.view.columnWidth(c) for c in range(len(Column))) - (
            self.view.viewport().width())
        for col, floor in ((Column.DEPLOYMENT, 120), (Column.NAME, 240)):
            if overflow <= 0:
                break
            width = self.view.columnWidth(col)
            narrower = max(floor, width - overflow)
            overflow -= width - narrower
            self.view.setColumnWidth(col, narrower)

    def _select_first_device(self) -> None:
        if self.view.selectionModel().hasSelection():
            return
        for node in self.model.root.walk():
            if node.kind == DEVICE:
                self.select_only(node.key)
                return

    def _counts(self) -> str:
        snap = self.service.snapshot if self.service else None
        if snap is None:
            return ""
        return self.tr("%d products, %d device groups, %d devices") % (
            len(snap.products), len(snap.device_groups), len(snap.devices))

    def _mark_ready_if_idle(self) -> None:
        if self.ready is not None and not self._loading:
            self.ready.set()
