"""Contract tests for /products (§3.2)."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import (
    TS_RE,
    UUID_RE,
    account_id,
    advance,
    assert_error,
    assert_ok,
    assert_resource,
    create_group,
    create_product,
    product,
)


def body(name="Weather Station", **more):
    attrs = {"name": name}
    rels = more.pop("relationships", None)
    attrs.update(more)
    doc = {"data": {"type": "product", "attributes": attrs}}
    if rels is not None:
        doc["data"]["relationships"] = rels
    return doc


def patch_body(pid, **attrs):
    return {"data": {"type": "product", "id": pid, "attributes": attrs}}


def test_list_products_small_seed(emu):
    items = emu.list_all("/products")
    assert sorted(p["attributes"]["name"] for p in items) == ["Alpha", "Bravo", "Shared Product"]
    for p in items:
        assert_resource(p, "product", emu.base)
        assert set(p["attributes"]) == {"name", "description", "created_at", "updated_at"}
        assert set(p["relationships"]) == {"owner", "creator"}
        assert TS_RE.match(p["attributes"]["created_at"])
    keys = [(p["attributes"]["created_at"], p["id"]) for p in items]
    assert keys == sorted(keys)


def test_create_product(emu):
    demo = account_id(emu, "demo")
    resp = emu.post("/products", json=body("Weather Station", description="Outdoor sensor"))
    p = assert_ok(resp, 201)
    assert_resource(p, "product", emu.base)
    assert UUID_RE.match(p["id"])
    assert p["attributes"]["name"] == "Weather Station"
    assert p["attributes"]["description"] == "Outdoor sensor"
    assert TS_RE.match(p["attributes"]["created_at"])
    assert p["attributes"]["created_at"] == p["attributes"]["updated_at"]
    assert p["relationships"] == {
        "owner": {"type": "account", "id": demo},
        "creator": {"type": "account", "id": demo},
    }
    assert p["links"]["self"] == f"{emu.base}/products/{p['id']}"
    assert assert_ok(emu.get(f"/products/{p['id']}")) == p
    assert p["id"] in [x["id"] for x in emu.list_all("/products")]
    # newest is last in created_at order
    assert emu.list_all("/products")[-1]["id"] == p["id"]


def test_create_product_ignores_data_id(emu):
    doc = body("With id")
    doc["data"]["id"] = "11111111-1111-1111-1111-111111111111"
    p = assert_ok(emu.post("/products", json=doc), 201)
    assert p["id"] != "11111111-1111-1111-1111-111111111111"


def test_description_defaults_to_null(emu):
    p = assert_ok(emu.post("/products", json=body("No description")), 201)
    assert p["attributes"]["description"] is None


def test_create_product_with_explicit_self_owner(emu):
    demo = account_id(emu, "demo")
    p = assert_ok(
        emu.post(
            "/products", json=body("Mine", relationships={"owner": {"type": "account", "id": demo}})
        ),
        201,
    )
    assert p["relationships"]["owner"]["id"] == demo


def test_create_product_owner_wrapped_form_accepted(emu):
    demo = account_id(emu, "demo")
    p = assert_ok(
        emu.post(
            "/products",
            json=body(
                "Wrapped", relationships={"owner": {"data": {"type": "account", "id": demo}}}
            ),
        ),
        201,
    )
    assert p["relationships"]["owner"] == {"type": "account", "id": demo}


def test_create_product_for_collaborated_owner(emu):
    collab = account_id(emu, "demo-collab")
    demo = account_id(emu, "demo")
    p = assert_ok(
        emu.post(
            "/products",
            json=body("For collab", relationships={"owner": {"type": "account", "id": collab}}),
        ),
        201,
    )
    assert p["relationships"]["owner"]["id"] == collab
    assert p["relationships"]["creator"]["id"] == demo
    # shared with the caller automatically, and visible to the owner
    assert_ok(emu.get(f"/products/{p['id']}"))
    assert_ok(emu.get(f"/products/{p['id']}", as_user="demo-collab"))


def test_create_product_owner_not_collaborated_px300(emu):
    demo = account_id(emu, "demo")
    resp = emu.post(
        "/products",
        json=body("Nope", relationships={"owner": {"type": "account", "id": demo}}),
        as_user="demo-collab",
    )
    assert_error(resp, "PX300")


@pytest.mark.parametrize("who", ["demo-2fa", "unknown"])
def test_create_product_owner_invisible_nf101(emu, who):
    oid = (
        account_id(emu, "demo-2fa") if who == "demo-2fa" else "00000000-0000-0000-0000-0000000000ff"
    )
    resp = emu.post(
        "/products", json=body("Nope", relationships={"owner": {"type": "account", "id": oid}})
    )
    assert_error(resp, "NF101")


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        ({"data": {"type": "product", "attributes": {}}}, "VX103"),
        ({"data": {"type": "product", "attributes": {"description": "x"}}}, "VX103"),
        (body(""), "VX105"),
        (body("   "), "VX105"),
        (body("x" * 81), "VX105"),
        (body("ok", description="d" * 256), "VX106"),
        (body("ok", color="red"), "VX104"),
        (body("ok", created_at="2020-01-01T00:00:00.000Z"), "VX104"),
        (body(5), "VX104"),
        (body("ok", description=7), "VX104"),
        (body("ok", relationships={"owner": {"type": "product", "id": "x"}}), "VX107"),
        (body("ok", relationships={"creator": {"type": "account", "id": "x"}}), "VX107"),
        ({"data": {"type": "device", "attributes": {"name": "x"}}}, "VX102"),
        ({"data": {"attributes": {"name": "x"}}}, "VX101"),
        ({"data": []}, "VX101"),
        ({"data": "x"}, "VX101"),
        ({}, "VX101"),
        ([], "VX101"),
    ],
)
def test_create_product_validation(emu, doc, code):
    before = len(emu.list_all("/products"))
    assert_error(emu.post("/products", json=doc), code)
    assert len(emu.list_all("/products")) == before


def test_create_product_name_boundaries(emu):
    assert_ok(emu.post("/products", json=body("x" * 80)), 201)
    assert_ok(emu.post("/products", json=body("y")), 201)
    assert_ok(emu.post("/products", json=body("z", description="d" * 255)), 201)


def test_duplicate_name_cx100_case_sensitive(emu):
    assert_error(emu.post("/products", json=body("Alpha")), "CX100")
    assert_ok(emu.post("/products", json=body("alpha")), 201)
    assert_ok(emu.post("/products", json=body("Alpha ")), 201)


def test_duplicate_name_only_per_owner(emu):
    collab = account_id(emu, "demo-collab")
    # "Alpha" belongs to demo; demo-collab's products may use it
    p = assert_ok(
        emu.post(
            "/products",
            json=body("Alpha", relationships={"owner": {"type": "account", "id": collab}}),
        ),
        201,
    )
    assert p["relationships"]["owner"]["id"] == collab
    resp = emu.post(
        "/products",
        json=body("Shared Product", relationships={"owner": {"type": "account", "id": collab}}),
    )
    assert_error(resp, "CX100")


def test_validation_before_reference_before_permission(emu):
    # §4.2: attribute validation (9) before referenced resources (10) before permission (11)
    unknown = {"owner": {"type": "account", "id": "00000000-0000-0000-0000-0000000000ff"}}
    assert_error(emu.post("/products", json=body("", relationships=unknown)), "VX105")
    demo = account_id(emu, "demo")
    resp = emu.post(
        "/products",
        json=body("Alpha", relationships={"owner": {"type": "account", "id": demo}}),
        as_user="demo-collab",
    )
    assert_error(resp, "PX300")


def test_get_product_unknown_nf100(emu):
    assert_error(emu.get("/products/00000000-0000-0000-0000-000000000000"), "NF100")


def test_get_product_case_insensitive_id(emu):
    alpha = product(emu, "Alpha")
    assert assert_ok(emu.get(f"/products/{alpha['id'].upper()}"))["id"] == alpha["id"]


def test_invisible_product_nf100(emu):
    alpha = product(emu, "Alpha")
    assert_error(emu.get(f"/products/{alpha['id']}", as_user="demo-2fa"), "NF100")
    assert_error(emu.get(f"/products/{alpha['id']}", as_user="demo-collab"), "NF100")
    resp = emu.patch(
        f"/products/{alpha['id']}", json=patch_body(alpha["id"], name="x"), as_user="demo-2fa"
    )
    assert_error(resp, "NF100")


def test_patch_product(emu):
    p = create_product(emu, "Before")
    advance(emu, 2)
    got = assert_ok(emu.patch(f"/products/{p['id']}", json=patch_body(p["id"], name="After")))
    assert got["attributes"]["name"] == "After"
    assert got["attributes"]["description"] is None
    assert got["attributes"]["created_at"] == p["attributes"]["created_at"]
    assert got["attributes"]["updated_at"] > p["attributes"]["updated_at"]
    assert assert_ok(emu.get(f"/products/{p['id']}")) == got


def test_patch_description_null_clears(emu):
    p = create_product(emu, description="something")
    got = assert_ok(emu.patch(f"/products/{p['id']}", json=patch_body(p["id"], description=None)))
    assert got["attributes"]["description"] is None
    assert got["attributes"]["name"] == p["attributes"]["name"]


def test_patch_without_id_and_without_change(emu):
    p = create_product(emu, "Same")
    advance(emu, 2)
    doc = {"data": {"type": "product", "attributes": {"name": "Same"}}}
    got = assert_ok(emu.patch(f"/products/{p['id']}", json=doc))
    assert got["attributes"]["updated_at"] == p["attributes"]["updated_at"]
    doc = {"data": {"type": "product", "attributes": {}}}
    got = assert_ok(emu.patch(f"/products/{p['id']}", json=doc))
    assert got == p


@pytest.mark.parametrize(
    ("attrs", "code"),
    [
        ({"name": ""}, "VX105"),
        ({"name": "x" * 81}, "VX105"),
        ({"description": "d" * 256}, "VX106"),
        ({"created_at": "2020-01-01T00:00:00.000Z"}, "VX104"),
        ({"owner": "x"}, "VX104"),
        ({"name": "Alpha"}, "CX100"),
    ],
)
def test_patch_product_invalid(emu, attrs, code):
    p = create_product(emu, "Patch me")
    assert_error(emu.patch(f"/products/{p['id']}", json=patch_body(p["id"], **attrs)), code)
    assert assert_ok(emu.get(f"/products/{p['id']}")) == p


def test_patch_relationship_vx107(emu):
    p = create_product(emu)
    doc = patch_body(p["id"])
    doc["data"]["relationships"] = {"owner": {"type": "account", "id": account_id(emu, "demo")}}
    assert_error(emu.patch(f"/products/{p['id']}", json=doc), "VX107")


def test_patch_document_errors(emu):
    p = create_product(emu)
    other = product(emu, "Alpha")
    assert_error(emu.patch(f"/products/{p['id']}", json=patch_body(other["id"], name="n")), "VX101")
    assert_error(
        emu.patch(f"/products/{p['id']}", json={"data": {"attributes": {"name": "n"}}}), "VX101"
    )
    doc = {"data": {"type": "devicegroup", "id": p["id"], "attributes": {"name": "n"}}}
    assert_error(emu.patch(f"/products/{p['id']}", json=doc), "VX102")
    # id in another accepted form (upper case) identifies the same product
    got = emu.patch(f"/products/{p['id']}", json=patch_body(p["id"].upper(), name="Upper"))
    assert assert_ok(got)["attributes"]["name"] == "Upper"


def test_collaborator_can_patch_shared_product(emu):
    shared = product(emu, "Shared Product")
    got = assert_ok(
        emu.patch(f"/products/{shared['id']}", json=patch_body(shared["id"], description="by demo"))
    )
    assert got["attributes"]["description"] == "by demo"
    assert (
        assert_ok(emu.get(f"/products/{shared['id']}", as_user="demo-collab"))["attributes"][
            "description"
        ]
        == "by demo"
    )


def test_delete_product(emu):
    bravo = product(emu, "Bravo")
    assert_ok(emu.delete(f"/products/{bravo['id']}"), 204)
    assert_error(emu.get(f"/products/{bravo['id']}"), "NF100")
    assert_error(emu.delete(f"/products/{bravo['id']}"), "NF100")


def test_delete_product_with_groups_cx102(emu):
    alpha = product(emu, "Alpha")
    assert_error(emu.delete(f"/products/{alpha['id']}"), "CX102")
    p = create_product(emu)
    g = create_group(emu, p["id"])
    assert_error(emu.delete(f"/products/{p['id']}"), "CX102")
    assert_ok(emu.delete(f"/devicegroups/{g['id']}"), 204)
    assert_ok(emu.delete(f"/products/{p['id']}"), 204)


def test_filter_owner(emu):
    demo, collab = account_id(emu, "demo"), account_id(emu, "demo-collab")
    mine = emu.list_all("/products", params={"filter[owner.id]": "me"})
    assert sorted(p["attributes"]["name"] for p in mine) == ["Alpha", "Bravo"]
    assert emu.list_all("/products", params={"filter[owner.id]": demo}) == mine
    assert emu.list_all("/products", params={"filter[owner.id]": demo.upper()}) == mine
    theirs = emu.list_all("/products", params={"filter[owner.id]": collab})
    assert [p["attributes"]["name"] for p in theirs] == ["Shared Product"]
    none = emu.list_all(
        "/products", params={"filter[owner.id]": "00000000-0000-0000-0000-000000000000"}
    )
    assert none == []


def test_products_other_filters_refused(emu):
    assert_error(emu.get("/products", params={"filter[product.id]": "x"}), "VX108")
    assert_error(emu.get("/products", params={"filter[name]": "Alpha"}), "VX108")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_products_collection_methods_405(emu, method):
    resp = emu.request(method, "/products")
    assert_error(resp, "VX120")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"GET", "POST"}


def test_product_item_method_405(emu):
    alpha = product(emu, "Alpha")
    resp = emu.post(f"/products/{alpha['id']}", json=body("x"))
    assert_error(resp, "VX120")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"GET", "PATCH", "DELETE"}
