"""Everything the account tree needs, loaded as concurrent lists: `Client.fetch_snapshot()`."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .records import Account, Device, DeviceGroup, Product


@dataclass
class Snapshot:
    """Products, device groups, devices and visible accounts at one moment, not yet joined."""

    products: list[Product] = field(default_factory=list)
    device_groups: list[DeviceGroup] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    me: Account | None = None
    seconds: float = 0.0

    @property
    def collaborators(self) -> list[Account]:
        """Visible accounts other than the caller (owners of shared products, collaborators)."""
        return [a for a in self.accounts if self.me is None or a.id != self.me.id]


class SnapshotMixin:
    """The three lists of the tree (plus accounts) fetched concurrently."""

    def fetch_snapshot(self: Any, progress: Any = None) -> Snapshot:
        """Load products, device groups, devices and accounts at the same time.

        `progress(name, pages_done, pages_total_or_None, items_so_far)` is called from worker
        threads as pages arrive.
        """
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="impdesk-list") as pool:
            products = pool.submit(self.list_products, progress=progress)
            groups = pool.submit(self.list_device_groups, progress=progress)
            devices = pool.submit(self.list_devices, progress=progress)
            accounts = pool.submit(self.list_accounts, progress=progress)
            snap = Snapshot(products.result(), groups.result(), devices.result(),
                            accounts.result())
        # `GET /accounts` lists the caller first (§5.5).
        snap.me = snap.accounts[0] if snap.accounts else None
        snap.seconds = time.perf_counter() - started
        return snap
