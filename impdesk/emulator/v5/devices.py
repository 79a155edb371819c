"""Devices (§3.4): list, read, rename, delete, restarts and historical logs."""

from __future__ import annotations

from typing import Any

from .. import life, resources
from ..clock import iso
from ..errors import ApiError
from ..framework import (
    Request,
    Response,
    Router,
    data_object,
    no_content,
    ok,
    page_document,
    parse_query,
)
from ..model import GROUP_TYPES, Account, Device, LogEntry
from ..store import Store

DEVICE_FILTERS = ("owner.id", "product.id", "devicegroup.id", "devicegroup.owner.id",
                  "devicegroup.type")


def register(router: Router) -> None:
    router.add("GET", "/devices", list_devices)
    router.add("GET", "/devices/{device}", get_device)
    router.add("PATCH", "/devices/{device}", update_device, body=True)
    router.add("DELETE", "/devices/{device}", delete_device)
    router.add("POST", "/devices/{device}/restart", restart_device)
    router.add("POST", "/devices/{device}/conditional_restart", conditional_restart_device)
    router.add("GET", "/devices/{device}/logs", device_logs)


def _me(req: Request) -> Account:
    assert req.account is not None
    return req.account


def _group_type(value: str) -> str:
    if value not in GROUP_TYPES:
        raise ValueError(value)
    return value


# -- list and get ------------------------------------------------------------------------------
def list_devices(app: Any, req: Request) -> Response:
    validators: dict[str, Any] = dict.fromkeys(DEVICE_FILTERS)
    validators["devicegroup.type"] = _group_type
    filters, page = parse_query(req, validators)
    store: Store = app.store
    me = _me(req)
    with store.lock:
        owner = store.resolve_account_id(me, filters["owner.id"]) if "owner.id" in filters \
            else None
        product_id = filters["product.id"].lower() if "product.id" in filters else None
        group_id = filters["devicegroup.id"].lower() if "devicegroup.id" in filters else None
        group_owner = filters.get("devicegroup.owner.id")
        if group_owner is not None and group_owner != "null":
            group_owner = store.resolve_account_id(me, group_owner)
        group_type = filters.get("devicegroup.type")
        key = ("devices", me.id, owner, product_id, group_id, group_owner, group_type)

        def build() -> list[Device]:
            visible = {p.id: p for p in store.products.values() if store.product_visible(me, p)}
            items = []
            for d in store.devices.values():
                g = store.groups.get(d.group_id) if d.group_id else None
                if d.owner_id != me.id and (g is None or g.product_id not in visible):
                    continue
                if owner is not None and d.owner_id != owner:
                    continue
                if group_owner == "null":
                    if g is not None:
                        continue
                elif group_owner is not None and (
                        g is None or store.products[g.product_id].owner_id != group_owner):
                    continue
                if g is None and (product_id or group_id or group_type):
                    continue
                if g is not None and (
                        (product_id is not None and g.product_id != product_id)
                        or (group_id is not None and g.id != group_id)
                        or (group_type is not None and g.type != group_type)):
                    continue
                items.append(d)
            items.sort(key=lambda d: (d.joined_seq, d.id))
            return items

        items = store.cached_list(key, build)
        return ok(page_document(req, items, page,
                                lambda d: resources.device(req.base, store, d)))


def get_device(app: Any, req: Request, device: str) -> Response:
    store: Store = app.store
    with store.lock:
        record = store.device_or_404(_me(req), device)
        return ok({"data": resources.device(req.base, store, record)})


# -- update and delete -------------------------------------------------------------------------
def update_device(app: Any, req: Request, device: str) -> Response:
    data = data_object(req, "device")
    if "id" in data and not isinstance(data["id"], str):
        raise ApiError("VX101")
    store: Store = app.store
    me = _me(req)
    with store.lock:
        record = store.device_or_404(me, device)
        # data.id may be any identifier form of the same device (§1.6, §3.4.1).
        if "id" in data and store.find_device(me, data["id"]) is not record:
            raise ApiError("VX101")
        attrs = data.get("attributes", {})
        name = record.name
        if "name" in attrs:
            value = attrs["name"]
            if value is None or value == "":
                name = None
            elif not isinstance(value, str):
                raise ApiError("VX104", name="name")
            elif len(value) > 80:
                raise ApiError("VX105")
            else:
                name = value
        for key in attrs:
            if key != "name":
                raise ApiError("VX104", name=key if len(key) <= 100 else key[:97] + "...")
        for key in data.get("relationships", {}):
            raise ApiError("VX107", name=key if len(key) <= 100 else key[:97] + "...")
        record.name = name
        return ok({"data": resources.device(req.base, store, record)})


def delete_device(app: Any, req: Request, device: str) -> Response:
    store: Store = app.store
    with store.lock:
        record = store.device_or_404(_me(req), device)
        if store.is_production_device(record):
            raise ApiError("CX109")
        if record.group_id is not None:
            raise ApiError("CX108")
        store.remove_device(record)
        return no_content()


# -- restarts ----------------------------------------------------------------------------------
def _assigned_device(store: Store, req: Request, device: str) -> Device:
    record = store.device_or_404(_me(req), device)
    if record.group_id is None:
        raise ApiError("CX107")
    return record


def restart_device(app: Any, req: Request, device: str) -> Response:
    store: Store = app.store
    with store.lock:
        life.restart(store, _assigned_device(store, req, device))
        return no_content()


def conditional_restart_device(app: Any, req: Request, device: str) -> Response:
    store: Store = app.store
    with store.lock:
        life.conditional_restart(store, _assigned_device(store, req, device))
        return no_content()


# -- historical logs (§3.4.8) ------------------------------------------------------------------
def _log_entry(entry: LogEntry) -> dict:
    return {"ts": iso(entry.ts), "log_type": entry.log_type, "type": entry.type,
            "msg": entry.msg}


def device_logs(app: Any, req: Request, device: str) -> Response:
    _, page = parse_query(req, {})  # any filter is VX108
    store: Store = app.store
    with store.lock:
        record = store.device_or_404(_me(req), device)
        entries = list(reversed(record.logs))  # newest first
        return ok(page_document(req, entries, page, _log_entry,
                                path=f"/devices/{record.id}/logs"))
