"""Device groups (§3.3): list, get, create, update, delete and restarts."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .. import life, resources
from ..errors import DETAIL_GROUP_FLAGGED, ApiError
from ..framework import (
    Request,
    Response,
    Router,
    apply_changes,
    check_data_id,
    check_description,
    check_name,
    data_object,
    no_content,
    ok,
    page_document,
    parse_query,
    relationship,
)
from ..model import (
    FIXTURE_PAIRING,
    FIXTURE_TYPES,
    GROUP_TYPES,
    PRODUCTION_TYPES,
    Account,
    DeviceGroup,
    Product,
)
from ..store import Store

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
        now = store.creation_time()
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
