"""Device groups (§3.3): CRUD, restarts, device (un)assignment and the minimum deployment."""

from __future__ import annotations

import json
import math
import re
import secrets
from typing import Any

from .. import life, resources
from ..errors import DETAIL_GROUP_FLAGGED, ApiError, error_object
from ..framework import (
    Request,
    Response,
    Router,
    apply_changes,
    check_data_id,
    check_description,
    check_name,
    data_object,
    identifier_list,
    no_content,
    ok,
    page_document,
    parse_query,
    relationship,
)
from ..model import (
    DUT_TYPES,
    FIXTURE_PAIRING,
    FIXTURE_TYPES,
    GROUP_TYPES,
    PRODUCTION_TYPES,
    Account,
    Device,
    DeviceGroup,
    Product,
)
from ..store import HEX16, MAC, Store

GENERIC = "devicegroup"
TARGETS = ("production_target", "dut_target")
CREATE_ATTRS = ("name", "description", "region", "load_code_after_blessing", "env_vars")
PATCH_ATTRS = ("name", "description", "load_code_after_blessing", "env_vars")
ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
ENV_MAX_BYTES = 16 * 1024


def register(router: Router) -> None:
    router.add("GET", "/devicegroups", list_groups)
    router.add("POST", "/devicegroups", create_group, body=True)
    router.add("GET", "/devicegroups/{group}", get_group)
    router.add("PATCH", "/devicegroups/{group}", update_group, body=True)
    router.add("DELETE", "/devicegroups/{group}", delete_group)
    router.add("POST", "/devicegroups/{group}/restart", restart_group)
    router.add("POST", "/devicegroups/{group}/conditional_restart", conditional_restart_group)
    router.add("POST", "/devicegroups/{group}/relationships/devices", assign_devices, body=True)
    router.add("DELETE", "/devicegroups/{group}/relationships/devices", unassign_devices,
               body=True)
    router.add("PUT", "/devicegroups/{group}/relationships/min_supported_deployment",
               set_min_supported, body=True)


def _me(req: Request) -> Account:
    assert req.account is not None
    return req.account


def _render(req: Request, store: Store, group: DeviceGroup) -> dict:
    return {"data": resources.devicegroup(req.base, store, group)}


# -- list and get ------------------------------------------------------------------------------
def _group_type(value: str) -> str:
    if value not in GROUP_TYPES:
        raise ValueError(value)
    return value


def list_groups(app: Any, req: Request) -> Response:
    filters, page = parse_query(req, {"owner.id": None, "product.id": None, "type": _group_type})
    store: Store = app.store
    me = _me(req)
    with store.lock:
        owner = store.resolve_account_id(me, filters["owner.id"]) if "owner.id" in filters \
            else None
        product_id = filters["product.id"].lower() if "product.id" in filters else None
        gtype = filters.get("type")

        def build() -> list[DeviceGroup]:
            visible = {p.id: p for p in store.products.values() if store.product_visible(me, p)}
            items = [
                g for g in store.groups.values()
                if g.product_id in visible
                and (owner is None or visible[g.product_id].owner_id == owner)
                and (product_id is None or g.product_id == product_id)
                and (gtype is None or g.type == gtype)
            ]
            return sorted(items, key=lambda g: (g.created_at, g.id))

        items = store.cached_list(("devicegroups", me.id, owner, product_id, gtype), build)
        return ok(page_document(req, items, page,
                                lambda g: resources.devicegroup(req.base, store, g)))


def get_group(app: Any, req: Request, group: str) -> Response:
    store: Store = app.store
    with store.lock:
        return ok(_render(req, store, store.group_or_404(_me(req), group)))


# -- validation helpers ------------------------------------------------------------------------
def check_env_vars(value: Any) -> dict[str, Any]:
    """§3.3.2 env_vars: `null` means {}; anything invalid is VX112."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError("VX112")
    for key, item in value.items():
        if not ENV_KEY.fullmatch(key):
            raise ApiError("VX112")
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ApiError("VX112")
        if isinstance(item, float) and not math.isfinite(item):
            raise ApiError("VX112")  # NaN/Infinity would not round-trip as JSON
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(compact) > ENV_MAX_BYTES:
        raise ApiError("VX112")
    return dict(value)


def _check_load_code(gtype: str, attrs: dict) -> None:
    if "load_code_after_blessing" in attrs and (
            gtype not in PRODUCTION_TYPES or not isinstance(attrs["load_code_after_blessing"],
                                                            bool)):
        raise ApiError("VX104", name="load_code_after_blessing")


def _check_region(gtype: str, attrs: dict) -> str | None:
    """Create only: a 1-64 character string on (pre-)production types; `null` anywhere."""
    value = attrs.get("region")
    if value is None:
        return None
    if gtype not in PRODUCTION_TYPES or not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ApiError("VX104", name="region")
    return value


def _check_unknown_attrs(attrs: dict, allowed: tuple[str, ...]) -> None:
    for key in attrs:
        if key not in allowed:
            raise ApiError("VX104", name=_short(key))


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


def _declared_targets(gtype: str, rels: dict, required: bool) -> dict[str, str]:
    """Shape and declared type of the fixture targets (VX107, VX102): rel -> sent id."""
    out: dict[str, str] = {}
    present = [r for r in TARGETS if r in rels]
    if gtype not in FIXTURE_TYPES:
        if present:
            raise ApiError("VX107", name=present[0])
        return out
    expected = dict(zip(TARGETS, FIXTURE_PAIRING[gtype], strict=True))
    for rel in TARGETS:
        if rel not in rels:
            if required:
                raise ApiError("VX107", name=rel)
            continue
        ref = relationship(rels[rel])
        if ref is None:
            raise ApiError("VX107", name=rel)
        if ref[0] not in (*GROUP_TYPES, GENERIC):
            # §1.5.3: a group identifier's type is a concrete group type or `devicegroup`.
            raise ApiError("VX102", sent=_short(ref[0]), expected=expected[rel])
        if ref[0] not in (expected[rel], GENERIC):
            raise ApiError("VX107", name=rel)  # a group type, but wrong for the pairing
        out[rel] = ref[1]
    return out


def _resolve_targets(store: Store, me: Account, gtype: str, declared: dict[str, str],
                     product: Product | None) -> dict[str, DeviceGroup]:
    """Resolve targets: wrong type or product is VX107 (validation), then unknown NF101."""
    expected = dict(zip(TARGETS, FIXTURE_PAIRING.get(gtype, ("", "")), strict=True))
    found: dict[str, DeviceGroup | None] = {}
    for rel, tid in declared.items():
        target = store.groups.get(tid.lower())
        if target is not None and not store.group_visible(me, target):
            target = None
        found[rel] = target
        if target is None:
            continue
        if target.type != expected[rel]:
            raise ApiError("VX107", name=rel)
        if product is not None and target.product_id != product.id:
            raise ApiError("VX107", name=rel)
    return found  # type: ignore[return-value]


def _raise_unknown_targets(found: dict, declared: dict[str, str]) -> None:
    for rel in TARGETS:
        if rel in found and found[rel] is None:
            raise ApiError("NF101", name=rel, id=declared[rel])


def _name_taken(store: Store, product_id: str, name: str, exclude: str | None = None) -> bool:
    return any(g.product_id == product_id and g.name == name and g.id != exclude
               for g in store.groups.values())


# -- create ------------------------------------------------------------------------------------
def create_group(app: Any, req: Request) -> Response:
    data = data_object(req, GROUP_TYPES)
    gtype: str = data["type"]
    attrs = data.get("attributes", {})
    rels = data.get("relationships", {})
    store: Store = app.store
    me = _me(req)
    # §3.3.4 validation, in the order of its table.
    product_ref = relationship(rels.get("product"))
    if product_ref is None or product_ref[0] != "product":
        raise ApiError("VX107", name="product")
    if "name" not in attrs:
        raise ApiError("VX103", name="name")
    name = check_name(attrs["name"], required=True) or ""
    description = check_description(attrs.get("description"))
    region = _check_region(gtype, attrs)
    _check_load_code(gtype, attrs)
    _check_unknown_attrs(attrs, CREATE_ATTRS)
    env_vars = check_env_vars(attrs.get("env_vars"))
    for rel in rels:
        if rel not in ("product", *TARGETS):
            raise ApiError("VX107", name=_short(rel))
    declared = _declared_targets(gtype, rels, required=True)
    with store.lock:
        product = store.products.get(product_ref[1].lower())
        if product is not None and not store.product_visible(me, product):
            product = None
        found = _resolve_targets(store, me, gtype, declared, product)
        if product is None:
            raise ApiError("NF101", name="product", id=product_ref[1])
        _raise_unknown_targets(found, declared)
        owner = store.accounts.get(product.owner_id)
        if gtype != "development_devicegroup" and not (owner and owner.commercial):
            raise ApiError("PX300")
        if _name_taken(store, product.id, name):
            raise ApiError("CX101")
        now = store.clock.now()
        group = DeviceGroup(
            id=store.new_uuid(), type=gtype, name=name, description=description,
            product_id=product.id, creator_id=me.id, created_at=now, updated_at=now,
            region=region, env_vars=env_vars,
            load_code_after_blessing=(bool(attrs.get("load_code_after_blessing", True))
                                      if gtype in PRODUCTION_TYPES else None),
        )
        if gtype in FIXTURE_TYPES:
            group.production_target_id = found["production_target"].id  # type: ignore[union-attr]
            group.dut_target_id = found["dut_target"].id  # type: ignore[union-attr]
        store.groups[group.id] = group
        store.touch()
        return ok(_render(req, store, group), 201)


# -- update ------------------------------------------------------------------------------------
def update_group(app: Any, req: Request, group: str) -> Response:
    data = data_object(req, (*GROUP_TYPES, GENERIC))
    check_data_id(data, lambda i: i.lower() == group.lower())
    store: Store = app.store
    me = _me(req)
    with store.lock:
        record = store.group_or_404(me, group)
        if data["type"] not in (record.type, GENERIC):
            raise ApiError("VX102", sent=_short(data["type"]), expected=record.type)
        attrs = data.get("attributes", {})
        rels = data.get("relationships", {})
        changes: dict[str, Any] = {}
        if "name" in attrs:
            changes["name"] = check_name(attrs["name"], required=True)
        if "description" in attrs:
            changes["description"] = check_description(attrs["description"])
        if "region" in attrs:
            raise ApiError("VX104", name="region")  # create only
        _check_load_code(record.type, attrs)
        _check_unknown_attrs(attrs, PATCH_ATTRS)
        if "load_code_after_blessing" in attrs:
            changes["load_code_after_blessing"] = attrs["load_code_after_blessing"]
        if "env_vars" in attrs:
            changes["env_vars"] = check_env_vars(attrs["env_vars"])
        for rel in rels:
            if rel not in TARGETS:
                raise ApiError("VX107", name=_short(rel))
        declared = _declared_targets(record.type, rels, required=False)
        product = store.products[record.product_id]
        found = _resolve_targets(store, me, record.type, declared, product)
        _raise_unknown_targets(found, declared)
        for rel, target in found.items():
            changes[f"{rel}_id"] = target.id
        if "name" in changes and _name_taken(store, record.product_id, changes["name"],
                                             record.id):
            raise ApiError("CX101")
        apply_changes(record, changes, store.clock.now())
        return ok(_render(req, store, record))


# -- delete ------------------------------------------------------------------------------------
def delete_group(app: Any, req: Request, group: str) -> Response:
    store: Store = app.store
    with store.lock:
        record = store.group_or_404(_me(req), group)
        if any(d.group_id == record.id for d in store.devices.values()):
            raise ApiError("CX103")
        if any(g.id != record.id and record.id in (g.production_target_id, g.dut_target_id)
               for g in store.groups.values()):
            raise ApiError("CX104")
        deployments = [d for d in store.deployments.values() if d.group_id == record.id]
        if any(d.flagged for d in deployments):
            raise ApiError("CX105", detail=DETAIL_GROUP_FLAGGED)
        # (choice §3.3.6) the group's deployments and webhooks go with it.
        for dep in deployments:
            del store.deployments[dep.id]
        for hook in [w for w in store.webhooks.values() if w.group_id == record.id]:
            del store.webhooks[hook.id]
        del store.groups[record.id]
        store.touch()
        return no_content()


# -- restarts ----------------------------------------------------------------------------------
def restart_group(app: Any, req: Request, group: str) -> Response:
    store: Store = app.store
    with store.lock:
        record = store.group_or_404(_me(req), group)
        for device in store.devices_in(record.id):
            life.restart(store, device)
        return no_content()


def conditional_restart_group(app: Any, req: Request, group: str) -> Response:
    store: Store = app.store
    with store.lock:
        record = store.group_or_404(_me(req), group)
        for device in store.devices_in(record.id):
            life.conditional_restart(store, device)
        return no_content()


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


def assign_devices(app: Any, req: Request, group: str) -> Response:
    items = identifier_list(req)
    store: Store = app.store
    me = _me(req)
    with store.lock:
        target = store.group_or_404(me, group)
        errors: list[dict] = []
        seen: set[tuple[str, str]] = set()
        for item in items:
            sent = item["id"]
            device = store.find_device(me, sent)
            key = _dedupe_key(device, sent)
            if key in seen:
                continue  # a device listed twice is processed once
            seen.add(key)
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
        seen: set[tuple[str, str]] = set()
        for item in items:
            sent = item["id"]
            device = store.find_device(me, sent)
            key = _dedupe_key(device, sent)
            if key in seen:
                continue
            seen.add(key)
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
