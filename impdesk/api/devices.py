"""Devices (§3.4): lists, lookup by any identifier, rename, delete, restarts, history logs."""

from __future__ import annotations

from typing import Any

from .records import Device, LogEntry

UNASSIGNED = "null"  # filter[devicegroup.owner.id]=null selects unassigned devices (§5.4)


class DevicesMixin:
    """Device operations."""

    def list_devices(self: Any, *, product_id: str | None = None, group_id: str | None = None,
                     owner_id: str | None = None, unassigned: bool = False,
                     group_type: str | None = None, **kw: Any) -> list[Device]:
        filters = {k: v for k, v in (
            ("product.id", product_id), ("devicegroup.id", group_id), ("owner.id", owner_id),
            ("devicegroup.owner.id", UNASSIGNED if unassigned else None),
            ("devicegroup.type", group_type)) if v}
        return self.list("/devices", filters or None, name="devices", **kw)

    def get_device(self: Any, identifier: str) -> Device:
        """A device by id, MAC address (with colons) or agent id."""
        return self.get_resource(f"/devices/{identifier}")

    def rename_device(self: Any, device_id: str, name: str | None) -> Device:
        return self.update(f"/devices/{device_id}", "device", device_id, {"name": name or None})

    def delete_device(self: Any, device_id: str) -> None:
        """Remove a device from the account (refused for production or assigned devices)."""
        self.request("DELETE", f"/devices/{device_id}")

    def restart_device(self: Any, device_id: str, conditional: bool = False) -> None:
        action = "conditional_restart" if conditional else "restart"
        self.request("POST", f"/devices/{device_id}/{action}", retry=False)

    def device_logs_page(self: Any, device_id: str, page: int = 1,
                         size: int = 100) -> tuple[list[LogEntry], bool]:
        """One page of history (newest first from the API); returns (entries, more pages?)."""
        doc = self.request("GET", f"/devices/{device_id}/logs",
                           params={"page[number]": page, "page[size]": size})
        entries = [LogEntry.from_json(e, device_id) for e in doc.get("data") or []
                   if isinstance(e, dict)]
        more = bool((doc.get("links") or {}).get("next")) and bool(entries)
        return entries, more

    def device_logs(self: Any, device_id: str, limit: int | None = None) -> list[LogEntry]:
        """History in time order (oldest first), at most `limit` of the newest entries."""
        out: list[LogEntry] = []
        page = 1
        while True:
            entries, more = self.device_logs_page(device_id, page)
            out.extend(entries)
            if not more or (limit is not None and len(out) >= limit):
                break
            page += 1
        out = out[:limit] if limit is not None else out
        # Stable sort by time: the order of the service is not relied upon (§7.1 #24).
        return sorted(dict.fromkeys(out), key=lambda e: e.ts)
