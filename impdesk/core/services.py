"""AccountService: the GUI's one door to the account (blocking; run it off the UI thread)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..api.client import Client
from ..api.device_groups import BulkResult
from ..api.errors import ApiError, ErrorItem
from ..api.records import Device, DeviceGroup
from ..api.snapshot import Snapshot
from .readback import read_back
from .rules import Verdict, check_move
from .tree import Key, Plan, TreeNode, TreeShape, build_shape, plan_for_nodes

log = logging.getLogger(__name__)


@dataclass
class MoveOutcome:
    """The result of moving devices: per device, applied or refused (with the reason)."""

    target_group_id: str | None
    applied: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # device id → reason shown to users
    previous_groups: dict[str, str | None] = field(default_factory=dict)  # for undo


class AccountService:
    """Holds the signed-in client and the latest snapshot; every method blocks on the network."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.snapshot = Snapshot()
        self._indexes: dict[int, tuple[list[Any], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # -- loading ------------------------------------------------------------------------------
    def load(self, progress: Any = None) -> TreeShape:
        snap = self.client.fetch_snapshot(progress=progress)
        with self._lock:
            self.snapshot = snap
        return build_shape(snap)

    def load_progressive(self, on_structure: Callable[[TreeShape], None],
                         on_devices: Callable[[list[Device]], None],
                         progress: Any = None) -> TreeShape:
        """Load like `load()`, but hand over products and groups first, then device pages.

        Callbacks run on worker threads; device pages that arrive before the structure was
        handed over are held back until it has been.
        """
        started = time.perf_counter()
        gate = threading.Lock()
        structure_sent = False
        held: list[list[Device]] = []

        def page(devices: list[Device]) -> None:
            with gate:
                if not structure_sent:
                    held.append(devices)
                    return
            on_devices(devices)

        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="impdesk-list") as pool:
            devices_f = pool.submit(self.client.list_devices, progress=progress, on_items=page)
            products_f = pool.submit(self.client.list_products, progress=progress)
            groups_f = pool.submit(self.client.list_device_groups, progress=progress)
            accounts_f = pool.submit(self.client.list_accounts)
            snap = Snapshot(products_f.result(), groups_f.result(), [], accounts_f.result())
            snap.me = snap.accounts[0] if snap.accounts else None
            on_structure(build_shape(snap))
            with gate:
                structure_sent = True
                early, held[:] = list(held), []
            for devices in early:
                on_devices(devices)
            snap.devices = devices_f.result()
        snap.seconds = time.perf_counter() - started
        with self._lock:
            self.snapshot = snap
        return build_shape(snap)

    def shape(self) -> TreeShape:
        with self._lock:
            return build_shape(self.snapshot)

    def plan(self, nodes: dict[Key, TreeNode], shape: TreeShape) -> Plan:
        """The row operations from a tree (a copy of its node map) to `shape`; run it on a
        worker thread, apply the plan on the UI thread (10,000 rows compare in ~50 ms)."""
        return plan_for_nodes(nodes, shape)

    def _by_id(self, items: list[Any]) -> dict[str, Any]:
        """An id index of one snapshot list, rebuilt only when the list object is replaced
        (every change to a snapshot replaces its list), so bulk rule checks stay linear."""
        key = id(items)
        cached = self._indexes.get(key)
        if cached is None or cached[0] is not items:
            if len(self._indexes) > 8:
                self._indexes.clear()
            cached = self._indexes[key] = (items, {item.id: item for item in items})
        return cached[1]

    def group(self, group_id: str | None) -> DeviceGroup | None:
        if not group_id:
            return None
        return self._by_id(self.snapshot.device_groups).get(group_id)

    def device(self, device_id: str) -> Device | None:
        return self._by_id(self.snapshot.devices).get(device_id)

    # -- rules and moves --------------------------------------------------------------------------
    def verdicts(self, device_ids: list[str], target_group_id: str | None) -> dict[str, Verdict]:
        """The §3.3.9/§3.3.10 rules for each device before anything is sent."""
        target = self.group(target_group_id)
        out: dict[str, Verdict] = {}
        for device_id in device_ids:
            device = self.device(device_id)
            if device is None:
                out[device_id] = Verdict(False, "The device is no longer in the account.")
                continue
            out[device_id] = check_move(device, self.group(device.devicegroup_id), target)
        return out

    def move_devices(self, device_ids: list[str], target_group_id: str | None,
                     unbond_key: str | None = None) -> MoveOutcome:
        """Assign (or unassign, target None) after the local rules; reports per device."""
        outcome = MoveOutcome(target_group_id)
        verdicts = self.verdicts(device_ids, target_group_id)
        allowed = [d for d, v in verdicts.items() if v.allowed]
        for device_id, verdict in verdicts.items():
            if not verdict.allowed and not verdict.no_op:
                outcome.refused[device_id] = verdict.reason
        for device_id in allowed:
            device = self.device(device_id)
            outcome.previous_groups[device_id] = device.devicegroup_id if device else None
        if not allowed:
            return outcome
        if target_group_id is not None:
            result = self.client.assign_devices(target_group_id, allowed)
        else:
            result = self._unassign(allowed, unbond_key)
        outcome.applied = list(result.applied)
        for device_id, item in result.failed.items():
            outcome.refused[device_id] = _reason(item)
            outcome.previous_groups.pop(device_id, None)
        self._refresh_devices(outcome.applied, target_group_id)
        return outcome

    def _unassign(self, device_ids: list[str], unbond_key: str | None) -> BulkResult:
        """Unassign grouped by source group (the API takes one group per call)."""
        by_group: dict[str, list[str]] = {}
        for device_id in device_ids:
            device = self.device(device_id)
            if device and device.devicegroup_id:
                by_group.setdefault(device.devicegroup_id, []).append(device_id)
        total = BulkResult()
        for group_id, ids in by_group.items():
            group = self.group(group_id)
            key = unbond_key if group and group.type == "production_devicegroup" else None
            try:
                result = self.client.unassign_devices(group_id, ids, unbond_key=key)
            except ApiError as exc:
                item = exc.errors[0] if exc.errors else ErrorItem(exc.status, exc.code, "",
                                                                  str(exc))
                total.failed.update({d: item for d in ids})
                continue
            total.applied.extend(result.applied)
            for device_id, item in result.failed.items():
                # NF104: the device had already left the group; the goal is met (§4.5).
                if item.code == "NF104":
                    total.applied.append(device_id)
                else:
                    total.failed[device_id] = item
        return total

    def _refresh_devices(self, device_ids: list[str], target_group_id: str | None) -> None:
        """Re-read moved devices so the snapshot reflects what the server did."""
        if not device_ids:
            return
        with self._lock:
            there = sum(1 for d in self.snapshot.devices if d.devicegroup_id == target_group_id)
        fresh = read_back(self.client, device_ids, target_group_id, there)
        with self._lock:
            self.snapshot.devices = [fresh.get(d.id, d) for d in self.snapshot.devices]


def _reason(item: ErrorItem) -> str:
    """Server error text shown verbatim: `title: detail` (§4.5)."""
    return ": ".join(t for t in (item.title, item.detail) if t) or (item.code or "Refused")
