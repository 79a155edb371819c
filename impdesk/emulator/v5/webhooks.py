"""Webhooks (§3.7): list, create, read, update, delete (delivery lives in ../webhooks.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .. import resources
from ..errors import ApiError
from ..framework import (
    Request,
    Response,
    Router,
    apply_changes,
    check_data_id,
    data_object,
    no_content,
    ok,
    page_document,
    parse_query,
    relationship,
)
from ..model import GROUP_TYPES, PRODUCTION_TYPES, Account, DeviceGroup, Webhook
from ..store import Store

EVENTS = ("deployment", "blessing", "blinkup")
PRODUCTION_ONLY_EVENTS = ("blessing", "blinkup")
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
CREATE_ATTRS = ("url", "event", "content_type")
PATCH_ATTRS = ("url", "content_type")
MAX_URL = 2048
GROUP_WORDS = (*GROUP_TYPES, "devicegroup")


def register(router: Router) -> None:
    router.add("GET", "/webhooks", list_webhooks)
    router.add("POST", "/webhooks", create_webhook, body=True)
    router.add("GET", "/webhooks/{webhook}", get_webhook)
    router.add("PATCH", "/webhooks/{webhook}", update_webhook, body=True)
    router.add("DELETE", "/webhooks/{webhook}", delete_webhook)


def _render(req: Request, store: Store):
    return lambda w: resources.webhook(req.base, store, w)


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


def valid_url(url: str) -> bool:
    """An absolute http(s) URL with a host, no whitespace or control characters, ≤ 2048."""
    if not url or len(url) > MAX_URL:
        return False
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# -- list -----------------------------------------------------------------------------------
def list_webhooks(app: Any, req: Request) -> Response:
    filters, page = parse_query(req, {"devicegroup.id": str.lower})
    store: Store = app.store
    with store.lock:
        me = req.account
        assert me is not None
        gid = filters.get("devicegroup.id")

        def build():
            items = [w for w in store.webhooks.values()
                     if (gid is None or w.group_id == gid) and w.group_id in store.groups
                     and store.group_visible(me, store.groups[w.group_id])]
            return sorted(items, key=lambda w: (w.created_at, w.id))

        items = store.cached_list(("webhooks", me.id, gid), build)
        return ok(page_document(req, items, page, _render(req, store)))


# -- validation -----------------------------------------------------------------------------
def _check_url(attrs: dict) -> None:
    if "url" not in attrs:
        return
    url = attrs["url"]
    if not isinstance(url, str):
        raise ApiError("VX104", name="url")
    if not valid_url(url):
        raise ApiError("VX110")


def _check_attrs(attrs: dict, allowed: tuple[str, ...]) -> None:
    """VX104: unknown or not-writable attributes and unknown enum values (or wrong JSON types)."""
    for name in attrs:
        if name not in allowed:
            raise ApiError("VX104", name=_short(name))
    if "event" in attrs and attrs["event"] not in EVENTS:
        raise ApiError("VX104", name="event")
    if "content_type" in attrs and attrs["content_type"] not in CONTENT_TYPES:
        raise ApiError("VX104", name="content_type")


def _lookup_group(store: Store, me: Account, rels: dict) -> DeviceGroup | None:
    """The visible group the relationship names, or None (the errors come later)."""
    ref = relationship(rels.get("devicegroup"))
    if ref is None or not isinstance(ref[1], str):
        return None
    group = store.groups.get(ref[1].lower())
    return group if group is not None and store.group_visible(me, group) else None


def _resolve_group(store: Store, me: Account, rels: dict) -> DeviceGroup:
    """The `devicegroup` relationship: VX107 (missing/malformed/other), VX102, NF101."""
    for name in rels:
        if name != "devicegroup":
            raise ApiError("VX107", name=_short(name))
    ref = relationship(rels.get("devicegroup"))
    if ref is None:
        raise ApiError("VX107", name="devicegroup")
    rtype, rid = ref
    if rtype not in GROUP_WORDS:
        raise ApiError("VX102", sent=_short(rtype), expected="devicegroup")
    group = _lookup_group(store, me, rels)
    if group is None:
        raise ApiError("NF101", name="devicegroup", id=_short(rid))
    if rtype not in (group.type, "devicegroup"):
        raise ApiError("VX102", sent=rtype, expected=group.type)
    return group


# -- create, read, update, delete ---------------------------------------------------------------
def create_webhook(app: Any, req: Request) -> Response:
    data = data_object(req, "webhook")
    store: Store = app.store
    me = req.account
    assert me is not None
    attrs = data.get("attributes", {})
    rels = data.get("relationships", {})
    # The checks follow the row order of the §3.7 table.
    for name in ("url", "event"):
        if name not in attrs:
            raise ApiError("VX103", name=name)
    _check_url(attrs)
    _check_attrs(attrs, CREATE_ATTRS)
    event = attrs["event"]
    with store.lock:
        # VX113 precedes the relationship rows; it can only be judged once the group is known.
        known = _lookup_group(store, me, rels)
        if known is not None and event in PRODUCTION_ONLY_EVENTS \
                and known.type not in PRODUCTION_TYPES:
            raise ApiError("VX113", event=event, type=known.type)
        group = _resolve_group(store, me, rels)
        now = store.creation_time()
        hook = Webhook(
            id=store.new_uuid(), group_id=group.id, url=attrs["url"], event=event,
            content_type=attrs.get("content_type", CONTENT_TYPES[0]),
            created_at=now, updated_at=now,
        )
        store.webhooks[hook.id] = hook
        store.touch()
        return ok({"data": resources.webhook(req.base, store, hook)}, 201)


def get_webhook(app: Any, req: Request, webhook: str) -> Response:
    store: Store = app.store
    with store.lock:
        assert req.account is not None
        hook = store.webhook_or_404(req.account, webhook)
        return ok({"data": resources.webhook(req.base, store, hook)})


def update_webhook(app: Any, req: Request, webhook: str) -> Response:
    data = data_object(req, "webhook")
    check_data_id(data, lambda i: i.lower() == webhook.lower())
    store: Store = app.store
    with store.lock:
        assert req.account is not None
        hook = store.webhook_or_404(req.account, webhook)
        attrs = data.get("attributes", {})
        _check_url(attrs)
        _check_attrs(attrs, PATCH_ATTRS)
        rels = data.get("relationships", {})
        if rels:
            raise ApiError("VX107", name=_short(next(iter(rels))))
        changes = {key: attrs[key] for key in PATCH_ATTRS if key in attrs}
        apply_changes(hook, changes, store.clock.now())
        return ok({"data": resources.webhook(req.base, store, hook)})


def delete_webhook(app: Any, req: Request, webhook: str) -> Response:
    store: Store = app.store
    with store.lock:
        assert req.account is not None
        hook = store.webhook_or_404(req.account, webhook)
        del store.webhooks[hook.id]
        store.touch()
        return no_content()
