"""Device groups (§3.3): CRUD, restarts, assignment with per-device results, minimum deployment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, ErrorItem
from .records import FIXTURE_TYPES, Deployment, DeviceGroup

ASSIGN_CHUNK = 100  # the service takes at most 100 identifiers per request (§3.3.9)


@dataclass
class BulkResult:
    """Per-device outcome of an assign/unassign: what was applied and why others failed."""

    applied: list[str] = field(default_factory=list)
    failed: dict[str, ErrorItem] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def _ref(type_: str, id_: str) -> dict[str, str]:
    return {"type": type_, "id": id_}


class DeviceGroupsMixin:
    """Device group operations."""

    def list_device_groups(self: Any, product_id: str | None = None, type_: str | None = None,
                           owner_id: str | None = None, **kw: Any) -> list[DeviceGroup]:
        filters = {k: v for k, v in (("product.id", product_id), ("type", type_),
                                     ("owner.id", owner_id)) if v}
        return self.list("/devicegroups", filters or None, name="device groups", **kw)

    def get_device_group(self: Any, group_id: str) -> DeviceGroup:
        return self.get_resource(f"/devicegroups/{group_id}")

    def create_device_group(self: Any, product_id: str, type_: str, name: str,
                            description: str | None = None, *,
                            production_target: tuple[str, str] | None = None,
                            dut_target: tuple[str, str] | None = None,
                            **attributes: Any) -> DeviceGroup:
        """Create a group; fixture types need (type, id) of their production and DUT targets."""
        attrs: dict[str, Any] = {"name": name, **attributes}
        if description is not None:
            attrs["description"] = description
        rels: dict[str, Any] = {"product": _ref("product", product_id)}
        if type_ in FIXTURE_TYPES or production_target or dut_target:
            if production_target:
                rels["production_target"] = _ref(*production_target)
            if dut_target:
                rels["dut_target"] = _ref(*dut_target)
        return self.create("/devicegroups", type_, attrs, rels)

    def update_device_group(self: Any, group: DeviceGroup, attributes: dict | None = None,
                            production_target: tuple[str, str] | None = None,
                            dut_target: tuple[str, str] | None = None) -> DeviceGroup:
        """PATCH with the group's own concrete type (§7.1 #32)."""
        rels: dict[str, Any] = {}
        if production_target:
            rels["production_target"] = _ref(*production_target)
        if dut_target:
            rels["dut_target"] = _ref(*dut_target)
        return self.update(f"/devicegroups/{group.id}", group.type, group.id, attributes or {},
                           rels or None)

    def delete_device_group(self: Any, group_id: str) -> None:
        self.request("DELETE", f"/devicegroups/{group_id}")

    def restart_device_group(self: Any, group_id: str, conditional: bool = False) -> None:
        """Restart every device of the group (conditional: only those not on current code)."""
        action = "conditional_restart" if conditional else "restart"
        self.request("POST", f"/devicegroups/{group_id}/{action}", retry=False)

    def assign_devices(self: Any, group_id: str, device_ids: Iterable[str]) -> BulkResult:
        """Assign (or move) devices in chunks of 100; never raises for per-device failures."""
        return self._bulk("POST", group_id, device_ids, None)

    def unassign_devices(self: Any, group_id: str, device_ids: Iterable[str],
                         unbond_key: str | None = None) -> BulkResult:
        """Unassign devices; production groups need the account's unbond key (§3.3.10)."""
        headers = {"X-Electricimp-Key": unbond_key} if unbond_key else None
        return self._bulk("DELETE", group_id, device_ids, headers)

    def _bulk(self: Any, method: str, group_id: str, device_ids: Iterable[str],
              headers: dict | None) -> BulkResult:
        ids = list(dict.fromkeys(device_ids))
        result = BulkResult()
        for start in range(0, len(ids), ASSIGN_CHUNK):
            chunk = ids[start:start + ASSIGN_CHUNK]
            body = {"data": [_ref("device", d) for d in chunk]}
            try:
                self.request(method, f"/devicegroups/{group_id}/relationships/devices",
                             json=body, headers=headers)
            except ApiError as exc:
                per_device = {_meta_id(item): item for item in exc.errors if _meta_id(item)}
                if exc.status != 400 or not per_device:
                    raise  # the whole request failed (e.g. PX301, NF100 for the group)
                result.failed.update(per_device)
                result.applied.extend(d for d in chunk if d not in per_device)
                continue
            result.applied.extend(chunk)
        return result

    def set_min_supported_deployment(self: Any, group_id: str, deployment_id: str) -> None:
        self.request("PUT", f"/devicegroups/{group_id}/relationships/min_supported_deployment",
                     json={"data": _ref("deployment", deployment_id)})

    def current_deployment(self: Any, group: DeviceGroup) -> Deployment | None:
        if not group.current_deployment_id:
            return None
        return self.get_resource(f"/deployments/{group.current_deployment_id}")


def _meta_id(item: ErrorItem) -> str | None:
    meta = item.meta
    if isinstance(meta, dict) and meta.get("id") is not None:
        return str(meta["id"])
    return None
