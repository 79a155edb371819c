"""Products (§3.2)."""

from __future__ import annotations

from typing import Any

from .. import resources
from ..errors import DETAIL_PRODUCT_OWNER, ApiError
from ..framework import (
    Request,
    Response,
    Router,
    apply_changes,
    check_data_id,
    check_description,
    check_keys,
    check_name,
    data_object,
    no_content,
    ok,
    page_document,
    parse_query,
    relationship,
)
from ..model import Product
from ..store import Store


def register(router: Router) -> None:
    router.add("GET", "/products", list_products)
    router.add("POST", "/products", create_product, body=True)
    router.add("GET", "/products/{product}", get_product)
    router.add("PATCH", "/products/{product}", update_product, body=True)
    router.add("DELETE", "/products/{product}", delete_product)


def _render(req: Request):
    return lambda p: resources.product(req.base, p)


def list_products(app: Any, req: Request) -> Response:
    filters, page = parse_query(req, {"owner.id": None})
    store: Store = app.store
    with store.lock:
        me = req.account
        assert me is not None
        owner = store.resolve_account_id(me, filters["owner.id"]) if filters else None

        def build():
            items = [p for p in store.products.values() if store.product_visible(me, p)
                     and (owner is None or p.owner_id == owner)]
            return sorted(items, key=lambda p: (p.created_at, p.id))

        items = store.cached_list(("products", me.id, owner), build)
        return ok(page_document(req, items, page, _render(req)))


def _name_taken(store: Store, owner_id: str, name: str, exclude: str | None = None) -> bool:
    return any(p.owner_id == owner_id and p.name == name and p.id != exclude
               for p in store.products.values())


def create_product(app: Any, req: Request) -> Response:
    data = data_object(req, "product")
    store: Store = app.store
    me = req.account
    assert me is not None
    attrs = data.get("attributes", {})
    rels = data.get("relationships", {})
    if "name" not in attrs:
        raise ApiError("VX103", name="name")
    name = check_name(attrs["name"], required=True)
    description = check_description(attrs.get("description"))
    check_keys(data, ("name", "description"), ("owner",))
    owner_ref = None
    if "owner" in rels:
        owner_ref = relationship(rels["owner"])
        if owner_ref is None or owner_ref[0] != "account":
            raise ApiError("VX107", name="owner")
    with store.lock:
        owner_id = me.id
        if owner_ref is not None:
            owner_id = store.resolve_account_id(me, owner_ref[1])
            if owner_id not in store.visible_account_ids(me):
                raise ApiError("NF101", name="owner", id=owner_ref[1])
            if owner_id != me.id and not any(
                    p.owner_id == owner_id and me.id in p.collaborators
                    for p in store.products.values()):
                raise ApiError("PX300", detail=DETAIL_PRODUCT_OWNER)
        if _name_taken(store, owner_id, name or ""):
            raise ApiError("CX100")
        now = store.creation_time()
        product = Product(store.new_uuid(), name or "", description, owner_id, me.id, now, now)
        if owner_id != me.id:
            product.collaborators.add(me.id)
        store.products[product.id] = product
        store.touch()
        return ok({"data": resources.product(req.base, product)}, 201)


def get_product(app: Any, req: Request, product: str) -> Response:
    with app.store.lock:
        assert req.account is not None
        return ok({"data": resources.product(req.base, app.store.product_or_404(req.account,
                                                                                 product))})


def update_product(app: Any, req: Request, product: str) -> Response:
    data = data_object(req, "product")
    check_data_id(data, lambda i: i.lower() == product.lower())
    store: Store = app.store
    with store.lock:
        assert req.account is not None
        record = store.product_or_404(req.account, product)
        attrs = data.get("attributes", {})
        changes: dict[str, Any] = {}
        if "name" in attrs:
            changes["name"] = check_name(attrs["name"], required=True)
        if "description" in attrs:
            changes["description"] = check_description(attrs["description"])
        check_keys(data, ("name", "description"), ())
        if "name" in changes and _name_taken(store, record.owner_id, changes["name"], record.id):
            raise ApiError("CX100")
        apply_changes(record, changes, store.clock.now())
        return ok({"data": resources.product(req.base, record)})


def delete_product(app: Any, req: Request, product: str) -> Response:
    store: Store = app.store
    with store.lock:
        assert req.account is not None
        record = store.product_or_404(req.account, product)
        if any(g.product_id == record.id for g in store.groups.values()):
            raise ApiError("CX102")
        del store.products[record.id]
        store.touch()
        return no_content()
