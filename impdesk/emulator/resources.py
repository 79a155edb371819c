"""Rendering of entities as JSON:API resource objects (§1.4, bare relationships §1.5)."""

from __future__ import annotations

from typing import Any

from .clock import iso
from .model import (
    FIXTURE_TYPES,
    PRODUCTION_TYPES,
    Account,
    Deployment,
    Device,
    DeviceGroup,
    LoginKey,
    Product,
    RefreshToken,
    Webhook,
)
from .store import Store

AGENT_URL = "https://agent.electricimp.com/{}"


def ident(type_: str, id_: str) -> dict[str, str]:
    return {"type": type_, "id": id_}


def _resource(base: str, type_: str, id_: str, path: str, attributes: dict, rels: dict) -> dict:
    return {
        "type": type_,
        "id": id_,
        "links": {"self": f"{base}/{path}/{id_}"},
        "attributes": attributes,
        "relationships": rels,
    }


def account(base: str, acct: Account) -> dict:
    attrs = {"username": acct.username, "email": acct.email}
    return _resource(base, "account", acct.id, "accounts", attrs, {})


def product(base: str, p: Product) -> dict:
    attrs = {
        "name": p.name,
        "description": p.description,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }
    rels = {"owner": ident("account", p.owner_id), "creator": ident("account", p.creator_id)}
    return _resource(base, "product", p.id, "products", attrs, rels)


def devicegroup(base: str, store: Store, g: DeviceGroup) -> dict:
    attrs: dict[str, Any] = {
        "name": g.name,
        "description": g.description,
        "region": g.region,
    }
    if g.type in PRODUCTION_TYPES:
        attrs["load_code_after_blessing"] = bool(g.load_code_after_blessing)
    attrs["env_vars"] = g.env_vars
    attrs["created_at"] = iso(g.created_at)
    attrs["updated_at"] = iso(g.updated_at)
    rels: dict[str, Any] = {
        "product": ident("product", g.product_id),
        "owner": ident("account", store.group_owner_id(g)),
        "creator": ident("account", g.creator_id),
    }
    if g.current_deployment_id:
        rels["current_deployment"] = ident("deployment", g.current_deployment_id)
    if g.min_supported_deployment_id:
        rels["min_supported_deployment"] = ident("deployment", g.min_supported_deployment_id)
    if g.type in FIXTURE_TYPES:
        for rel, target_id in (("production_target", g.production_target_id),
                               ("dut_target", g.dut_target_id)):
            target = store.groups.get(target_id or "")
            if target is not None:
                rels[rel] = ident(target.type, target.id)
    return _resource(base, g.type, g.id, "devicegroups", attrs, rels)


def device(base: str, store: Store, d: Device) -> dict:
    group = store.group_of(d)
    assigned = group is not None
    attrs = {
        "name": d.name,
        "agent_id": d.agent_id if assigned else None,
        "agent_url": AGENT_URL.format(d.agent_id) if assigned else None,
        "device_online": d.device_online,
        "device_state_changed_at": iso(d.device_state_changed_at),
        "agent_running": assigned,
        "agent_state_changed_at": iso(d.agent_state_changed_at),
        "last_enrolled_at": iso(d.last_enrolled_at),
        "imp_type": d.imp_type,
        "ip_address": d.ip_address if d.device_online else None,
        "mac_address": d.mac_address,
        "free_memory": d.free_memory,
        "rssi": d.rssi,
        "swversion": d.swversion,
        "plan_id": d.plan_id,
    }
    rels: dict[str, Any] = {"owner": ident("account", d.owner_id)}
    if group is not None:
        rels["devicegroup"] = ident(group.type, group.id)
        rels["product"] = ident("product", group.product_id)
    return _resource(base, "device", d.id, "devices", attrs, rels)


def deployment(base: str, store: Store, dep: Deployment) -> dict:
    group = store.groups.get(dep.group_id)
    attrs = {
        "device_code": dep.device_code,
        "agent_code": dep.agent_code,
        "description": dep.description,
        "origin": dep.origin,
        "tags": list(dep.tags),
        "flagged": dep.flagged,
        "sha": dep.sha,
        "created_at": iso(dep.created_at),
        "updated_at": iso(dep.updated_at),
    }
    rels: dict[str, Any] = {}
    if group is not None:
        rels["devicegroup"] = ident(group.type, group.id)
    rels["product"] = ident("product", dep.product_id)
    rels["owner"] = ident("account", dep.owner_id)
    rels["creator"] = ident("account", dep.creator_id)
    if dep.flagged and dep.flagger_id:
        rels["flagger"] = ident("account", dep.flagger_id)
    return _resource(base, "deployment", dep.id, "deployments", attrs, rels)


def webhook(base: str, store: Store, w: Webhook) -> dict:
    group = store.groups[w.group_id]
    attrs = {
        "url": w.url,
        "event": w.event,
        "content_type": w.content_type,
        "created_at": iso(w.created_at),
        "updated_at": iso(w.updated_at),
    }
    rels = {"devicegroup": ident(group.type, group.id)}
    return _resource(base, "webhook", w.id, "webhooks", attrs, rels)


def login_key(base: str, k: LoginKey) -> dict:
    attrs = {
        "description": k.description,
        "usages": k.usages,
        "created_at": iso(k.created_at),
        "last_used_at": iso(k.last_used_at),
    }
    rels = {"owner": ident("account", k.account_id)}
    return _resource(base, "login_key", k.id, "accounts/me/login_keys", attrs, rels)


def refresh_token(base: str, r: RefreshToken) -> dict:
    attrs = {"created_at": iso(r.created_at), "last_used_at": iso(r.last_used_at)}
    rels = {"owner": ident("account", r.account_id)}
    return _resource(base, "refresh_token", r.id, "accounts/me/refresh_tokens", attrs, rels)
