"""Device group relationships (§3.3.9-§3.3.11): assign and unassign devices, minimum deployment."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from .. import life, resources
from ..errors import ApiError, error_object
from ..framework import Request, Response, Router, identifier_list, no_content, ok
from ..model import DUT_TYPES, FIXTURE_TYPES, PRODUCTION_TYPES, Account, Device, DeviceGroup
from ..store import HEX16, MAC, Store


def register(router: Router) -> None:
    router.add("POST", "/devicegroups/{group}/relationships/devices", assign_devices, body=True)
    router.add("DELETE", "/devicegroups/{group}/relationships/devices", unassign_devices,
               body=True)
    router.add("PUT", "/devicegroups/{group}/relationships/min_supported_deployment",
               set_min_supported, body=True)


def _me(req: Request) -> Account:
    assert req.account is not None
    return req.account


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


# -- assign / unassign (§3.3.9, §3.3.10, §4.3) ------------------------------------------------
def _dedupe_key(device: Device | None, sent: str) -> tuple[str, str]:
    if device is not None:
        return ("device", device.id)
    return ("unknown", sent.lower() if HEX16.match(sent) or MAC.match(sent) else sent)


def _item_error(code: str, sent: str, **fmt: Any) -> dict:
    return error_object(code, meta={"type": "device", "id": sent}, **fmt)


def _multi_result(errors: list[dict]) -> Response:
    if errors:
        raise ApiError(errors[0]["code"], errors=errors, status=400)
    return no_content()


def _assign_rule(store: Store, device: Device, target: DeviceGroup) -> str | None:
    """The first broken per-device rule of §3.3.9 (rules 2-5), or None."""
    current = store.group_of(device)
    if target.type in DUT_TYPES:
        return "CX110"
    same_kind = (current is not None and current.type == target.type
                 and current.product_id == target.product_id)
    if target.type in PRODUCTION_TYPES and not same_kind:
        return "CX110"
    if current is not None and current.type in PRODUCTION_TYPES and not same_kind:
        return "CX111"
    if device.imp_type == "imp001" and target.type in FIXTURE_TYPES:
        return "CX112"
    return None


def _distinct_devices(store: Store, me: Account,
                      items: list[dict]) -> Iterator[tuple[str, Device | None]]:
    """(id as sent, device or None) per item; a device listed twice comes once (§3.3.9)."""
    seen: set[tuple[str, str]] = set()
    for item in items:
        sent = item["id"]
        device = store.find_device(me, sent)
        key = _dedupe_key(device, sent)
        if key not in seen:
            seen.add(key)
            yield sent, device


def assign_devices(app: Any, req: Request, group: str) -> Response:
    items = identifier_list(req)
    store: Store = app.store
    me = _me(req)
    with store.lock:
        target = store.group_or_404(me, group)
        errors: list[dict] = []
        for sent, device in _distinct_devices(store, me, items):
            if device is None:
                errors.append(_item_error("NF100", sent, type="device", id=sent))
                continue
            if device.group_id == target.id:
                continue  # already there: success without effect
            code = _assign_rule(store, device, target)
            if code is not None:
                errors.append(_item_error(code, sent))
                continue
            life.assign(store, device, target)
        return _multi_result(errors)


def _check_unbond_key(store: Store, req: Request, target: DeviceGroup) -> None:
    if target.type != "production_devicegroup":
        return
    owner = store.accounts.get(store.group_owner_id(target))
    given = req.header("X-Electricimp-Key")
    if owner is None or not owner.unbond_key or given is None or not secrets.compare_digest(
            given.encode("utf-8", "replace"), owner.unbond_key.encode("utf-8", "replace")):
        raise ApiError("PX301")


def unassign_devices(app: Any, req: Request, group: str) -> Response:
    items = identifier_list(req)
    store: Store = app.store
    me = _me(req)
    with store.lock:
        target = store.group_or_404(me, group)
        _check_unbond_key(store, req, target)  # before any device is touched
        errors: list[dict] = []
        for sent, device in _distinct_devices(store, me, items):
            if device is None:
                errors.append(_item_error("NF100", sent, type="device", id=sent))
            elif device.group_id != target.id:
                errors.append(_item_error("NF104", sent, id=sent))
            else:
                life.unassign(store, device)
        return _multi_result(errors)


# -- min_supported_deployment (§3.3.11) --------------------------------------------------------
def set_min_supported(app: Any, req: Request, group: str) -> Response:
    doc = req.json()
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or "type" not in data or not isinstance(data.get("id"), str):
        raise ApiError("VX101")
    if data["type"] != "deployment":
        raise ApiError("VX102", sent=_short(str(data["type"])), expected="deployment")
    store: Store = app.store
    me = _me(req)
    with store.lock:
        record = store.group_or_404(me, group)
        dep = store.deployments.get(data["id"].lower())
        dep_group = store.groups.get(dep.group_id) if dep is not None else None
        if dep is None or dep_group is None or not store.group_visible(me, dep_group):
            raise ApiError("NF101", name="deployment", id=data["id"])
        if dep.group_id != record.id:
            raise ApiError("CX114")
        current = store.deployments.get(record.min_supported_deployment_id or "")
        if current is not None and dep.seq < current.seq:
            raise ApiError("CX113")
        if record.min_supported_deployment_id != dep.id:
            record.min_supported_deployment_id = dep.id
            record.updated_at = store.clock.now()
        return ok({"data": resources.deployment(req.base, store, dep)})
