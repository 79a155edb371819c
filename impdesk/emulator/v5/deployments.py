"""Deployments (§3.5): list, create (with the compile check), read, update, delete."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .. import resources
from ..clock import iso
from ..errors import ApiError
from ..framework import (
    Request,
    Response,
    Router,
    apply_changes,
    check_data_id,
    check_description,
    data_object,
    no_content,
    ok,
    page_document,
    parse_query,
    relationship,
)
from ..model import GROUP_TYPES, Account, Deployment, DeviceGroup
from ..squirrel import compile_errors
from ..store import Store

CREATE_ATTRS = ("device_code", "agent_code", "description", "origin", "tags", "flagged")
PATCH_ATTRS = ("description", "flagged", "tags")
TAG = re.compile(r"[A-Za-z0-9_\-*.]+")
MAX_TAGS_CHARS = 500
MAX_ORIGIN = 255
GROUP_WORDS = (*GROUP_TYPES, "devicegroup")


def register(router: Router) -> None:
    router.add("GET", "/deployments", list_deployments)
    router.add("POST", "/deployments", create_deployment, body=True)
    router.add("GET", "/deployments/{deployment}", get_deployment)
    router.add("PATCH", "/deployments/{deployment}", update_deployment, body=True)
    router.add("DELETE", "/deployments/{deployment}", delete_deployment)


def _render(req: Request, store: Store):
    return lambda dep: resources.deployment(req.base, store, dep)


# -- shared helpers (also usable by other modules) -------------------------------------------
def sha_of(agent_code: str, device_code: str) -> str:
    """SHA-256 hex of agent_code immediately followed by device_code (§3.5.1)."""
    return hashlib.sha256((agent_code + device_code).encode("utf-8", "surrogatepass")).hexdigest()


def group_deployments(store: Store, group_id: str) -> list[Deployment]:
    """The group's deployments, oldest first (creation order)."""
    return sorted((d for d in store.deployments.values() if d.group_id == group_id),
                  key=lambda d: d.seq)


def refresh_group_pointers(store: Store, group: DeviceGroup) -> None:
    """Keep `current_deployment` on the newest deployment and the minimum on an existing one."""
    deps = group_deployments(store, group.id)
    newest = deps[-1].id if deps else None
    if group.current_deployment_id != newest:
        group.current_deployment_id = newest
    if group.min_supported_deployment_id not in store.deployments:
        group.min_supported_deployment_id = newest


def newest_key(dep: Deployment) -> tuple[float, int]:
    return dep.created_at, dep.seq


# -- list -----------------------------------------------------------------------------------
def _flagged(value: str) -> bool | None:
    if value == "true":
        return True
    if value == "false":
        return False
    if value == "any":
        return None
    raise ValueError(value)


def _tags(value: str) -> tuple[str, ...]:
    return tuple(t for t in value.split(",") if t)


FILTERS = {
    "owner.id": None,
    "creator.id": None,
    "flagger.id": None,
    "product.id": str.lower,
    "devicegroup.id": str.lower,
    "sha": str.lower,
    "flagged": _flagged,
    "tags": _tags,
}


def _matches(store: Store, me: Account, dep: Deployment, f: dict[str, Any]) -> bool:
    group = store.groups.get(dep.group_id)
    if group is None or not store.group_visible(me, group):
        return False
    for key, attr in (("owner.id", "owner_id"), ("creator.id", "creator_id"),
                      ("flagger.id", "flagger_id")):
        if key in f and getattr(dep, attr) != f[key]:
            return False
    if "flagger.id" in f and not dep.flagged:
        return False
    if "product.id" in f and dep.product_id != f["product.id"]:
        return False
    if "devicegroup.id" in f and dep.group_id != f["devicegroup.id"]:
        return False
    if "sha" in f and dep.sha != f["sha"]:
        return False
    if f.get("flagged") is not None and dep.flagged is not f["flagged"]:
        return False
    return not ("tags" in f and not set(f["tags"]) <= set(dep.tags))


def list_deployments(app: Any, req: Request) -> Response:
    filters, page = parse_query(req, FILTERS)
    store: Store = app.store
    with store.lock:
        me = req.account
        assert me is not None
        for key in ("owner.id", "creator.id", "flagger.id"):
            if key in filters:
                filters[key] = store.resolve_account_id(me, filters[key])

        def build():
            items = [d for d in store.deployments.values() if _matches(store, me, d, filters)]
            return sorted(items, key=newest_key, reverse=True)

        key = ("deployments", me.id, tuple(sorted(filters.items())))
        items = store.cached_list(key, build)
        return ok(page_document(req, items, page, _render(req, store)))


# -- validation helpers ---------------------------------------------------------------------
def _check_tags(value: Any) -> list[str]:
    """Tags after the JSON-type check: character set and total length (VX111), de-duplicated."""
    tags: list[str] = []
    for tag in value:
        if not TAG.fullmatch(tag):
            raise ApiError("VX111")
        if tag not in tags:
            tags.append(tag)
    if sum(len(t) for t in tags) > MAX_TAGS_CHARS:
        raise ApiError("VX111")
    return tags


def _is_tag_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, str) for t in value)


def _check_types(attrs: dict, allowed: tuple[str, ...]) -> None:
    """VX104: unknown or not-writable attributes, wrong JSON types, `origin` too long."""
    for name, value in attrs.items():
        if name not in allowed:
            raise ApiError("VX104", name=_short(name))
        if name in ("device_code", "agent_code"):
            good = isinstance(value, str)
        elif name in ("description", "origin"):
            good = value is None or isinstance(value, str)
        elif name == "tags":
            good = _is_tag_list(value)
        else:  # flagged
            good = isinstance(value, bool)
        if not good:
            raise ApiError("VX104", name=name)
    origin = attrs.get("origin")
    if isinstance(origin, str) and len(origin) > MAX_ORIGIN:
        raise ApiError("VX104", name="origin")


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


def _resolve_group(store: Store, me: Account, rels: dict) -> tuple[DeviceGroup | None, str]:
    """The `devicegroup` relationship of a create: VX107, then VX102 (a word that names no group
    type, or the concrete type of a visible group that differs). Returns (group or None, id);
    an unknown group is NF101 only after every attribute check (§4.2)."""
    for name in rels:
        if name != "devicegroup":
            raise ApiError("VX107", name=_short(name))
    ref = relationship(rels.get("devicegroup"))
    if ref is None:
        raise ApiError("VX107", name="devicegroup")
    rtype, rid = ref
    if rtype not in GROUP_WORDS:
        raise ApiError("VX102", sent=_short(rtype), expected="devicegroup")
    group = store.groups.get(rid.lower())
    if group is None or not store.group_visible(me, group):
        return None, rid
    if rtype not in (group.type, "devicegroup"):
        raise ApiError("VX102", sent=rtype, expected=group.type)
    return group, rid


# -- create ---------------------------------------------------------------------------------
def create_deployment(app: Any, req: Request) -> Response:
    data = data_object(req, "deployment")
    store: Store = app.store
    me = req.account
    assert me is not None
    attrs = data.get("attributes", {})
    with store.lock:
        # §4.2: the rows of the §3.5.2 table in order, except that an unknown group (NF101)
        # waits until every attribute has been validated.
        group, group_ref = _resolve_group(store, me, data.get("relationships", {}))
        for name in ("device_code", "agent_code"):
            if name not in attrs:
                raise ApiError("VX103", name=name)
        _check_types(attrs, CREATE_ATTRS)
        description = check_description(attrs.get("description"))
        tags = _check_tags(attrs.get("tags", []))
        if group is None:
            raise ApiError("NF101", name="devicegroup", id=_short(group_ref))
        agent_code, device_code = attrs["agent_code"], attrs["device_code"]
        errors = compile_errors(agent_code, device_code)
        if errors:
            raise ApiError("CX005", meta=errors)
        flagged = bool(attrs.get("flagged", False))
        # Creation times never go backwards, so "newest" by time agrees with creation order.
        # Never before an existing deployment, whatever the clock did (§3.5.1).
        now = store.creation_time(after=max(
            (d.created_at for d in store.deployments.values()), default=0.0))
        dep = Deployment(
            id=store.new_uuid(), group_id=group.id, product_id=group.product_id,
            owner_id=store.group_owner_id(group), creator_id=me.id,
            device_code=device_code, agent_code=agent_code, description=description,
            origin=attrs.get("origin"), tags=tags, flagged=flagged,
            flagger_id=me.id if flagged else None, sha=sha_of(agent_code, device_code),
            created_at=now, updated_at=now, seq=store.next_seq(),
        )
        store.deployments[dep.id] = dep
        # No device restarts: devices pick the code up on their next restart (§3.8.4).
        group.current_deployment_id = dep.id
        if group.min_supported_deployment_id not in store.deployments:
            group.min_supported_deployment_id = dep.id
        group.updated_at = max(group.updated_at, store.clock.now())
        store.touch()
        store.on_webhook_event(group.id, "deployment", {
            "deployment_id": dep.id,
            "devicegroup_id": group.id,
            "sha": dep.sha,
            "created_at": iso(dep.created_at),
        })
        data = resources.deployment(req.base, store, dep)
        warnings = app.faults.standing.get("compile_warnings") or []
        if warnings:  # the real service's shape (§3.5.2); only through the control surface
            data["meta"] = [{
                "status": "201", "title": "Compiler Warning",
                "detail": "The code compiled with warnings.",
                "meta": [{"file": w["file"], "type": "warning", "row": w["row"],
                          "column": w["column"], "text": w["text"]} for w in warnings]}]
        return ok({"data": data}, 201)


# -- read, update, delete ---------------------------------------------------------------------
def get_deployment(app: Any, req: Request, deployment: str) -> Response:
    store: Store = app.store
    with store.lock:
        assert req.account is not None
        dep = store.deployment_or_404(req.account, deployment)
        return ok({"data": resources.deployment(req.base, store, dep)})


def update_deployment(app: Any, req: Request, deployment: str) -> Response:
    data = data_object(req, "deployment")
    check_data_id(data, lambda i: i.lower() == deployment.lower())
    store: Store = app.store
    with store.lock:
        me = req.account
        assert me is not None
        dep = store.deployment_or_404(me, deployment)
        attrs = data.get("attributes", {})
        _check_types(attrs, PATCH_ATTRS)
        rels = data.get("relationships", {})
        if rels:
            raise ApiError("VX107", name=_short(next(iter(rels))))
        changes: dict[str, Any] = {}
        if "description" in attrs:
            changes["description"] = check_description(attrs["description"])
        if "tags" in attrs:
            changes["tags"] = _check_tags(attrs["tags"])
        if "flagged" in attrs:
            changes["flagged"] = attrs["flagged"]
            changes["flagger_id"] = me.id if attrs["flagged"] else None
        if apply_changes(dep, changes, store.clock.now()):
            store.touch()  # flags and tags decide filtered list membership
        return ok({"data": resources.deployment(req.base, store, dep)})


def delete_deployment(app: Any, req: Request, deployment: str) -> Response:
    store: Store = app.store
    with store.lock:
        assert req.account is not None
        dep = store.deployment_or_404(req.account, deployment)
        if dep.flagged:
            raise ApiError("CX105")
        group = store.groups.get(dep.group_id)
        if group is not None:
            protected = store.deployments.get(group.min_supported_deployment_id or "") \
                or store.deployments.get(group.current_deployment_id or "")
            if protected is not None and dep.seq >= protected.seq:
                raise ApiError("CX106")
        del store.deployments[dep.id]
        if group is not None:
            refresh_group_pointers(store, group)
        store.touch()
        return no_content()
