"""Contract tests for pagination links, filters, ordering and path/query leniency (§1.1, §5)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.emulator.helpers import (
    alpha_dev,
    assert_error,
    assert_ok,
    create_group,
    create_product,
    deploy,
    product,
    raw_request,
)

N = 250


def reset(emu, **body):
    body.setdefault("config", {"rate_limit": {"limit": 0, "window_s": 1}})
    res = emu.control("POST", "/reset", body)
    emu._tokens.clear()
    return res


@pytest.fixture
def fleet(emu):
    reset(emu, seed="fleet", devices=N)
    return emu


def page(emu, path, **params):
    resp = emu.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def link(emu, path, number, size, filters=""):
    return f"{emu.base}{path}?{filters}page[number]={number}&page[size]={size}"


def test_default_page_size_and_first_page_links(fleet):
    emu = fleet
    doc = page(emu, "/devices")
    assert len(doc["data"]) == 20
    last = math.ceil(N / 20)
    assert doc["links"] == {
        "self": link(emu, "/devices", 1, 20),
        "first": link(emu, "/devices", 1, 20),
        "last": link(emu, "/devices", last, 20),
        "next": link(emu, "/devices", 2, 20),
    }


def test_size_clamped_to_100(fleet):
    emu = fleet
    doc = page(emu, "/devices", **{"page[size]": 500})
    assert len(doc["data"]) == 100
    assert doc["links"]["self"] == link(emu, "/devices", 1, 100)
    assert doc["links"]["last"] == link(emu, "/devices", 3, 100)
    assert doc["links"]["next"] == link(emu, "/devices", 2, 100)


def test_middle_and_last_page(fleet):
    emu = fleet
    doc = page(emu, "/devices", **{"page[size]": 100, "page[number]": 2})
    assert len(doc["data"]) == 100
    assert doc["links"]["prev"] == link(emu, "/devices", 1, 100)
    assert doc["links"]["next"] == link(emu, "/devices", 3, 100)
    doc = page(emu, "/devices", **{"page[size]": 100, "page[number]": 3})
    assert len(doc["data"]) == N - 200
    assert "next" not in doc["links"]
    assert doc["links"]["prev"] == link(emu, "/devices", 2, 100)
    assert doc["links"]["last"] == doc["links"]["self"]


def test_page_past_the_end(fleet):
    emu = fleet
    doc = page(emu, "/devices", **{"page[size]": 100, "page[number]": 4})
    assert doc["data"] == []
    assert set(doc["links"]) == {"self", "first", "last", "prev"}
    assert doc["links"]["self"] == link(emu, "/devices", 4, 100)
    assert doc["links"]["prev"] == link(emu, "/devices", 3, 100)
    doc = page(emu, "/devices", **{"page[size]": 100, "page[number]": 99})
    assert doc["data"] == [] and "next" not in doc["links"] and "prev" in doc["links"]


def test_exact_multiple(fleet):
    emu = fleet
    doc = page(emu, "/devices", **{"page[size]": 50, "page[number]": 5})
    assert len(doc["data"]) == 50
    assert "next" not in doc["links"]
    assert doc["links"]["last"] == link(emu, "/devices", 5, 50)


def test_pages_concatenate_to_full_ordered_list(fleet):
    emu = fleet
    big = emu.list_all("/devices")
    assert len(big) == N
    assert len({d["id"] for d in big}) == N
    small = []
    url = "/devices"
    params = {"page[size]": 7}
    while url:
        doc = emu.get(url, params=params).json()
        small.extend(doc["data"])
        url, params = doc["links"].get("next"), None
    assert [d["id"] for d in small] == [d["id"] for d in big]


def test_empty_collection_single_page(emu):
    doc = page(emu, "/webhooks")
    assert doc["data"] == []
    assert doc["links"] == {
        "self": link(emu, "/webhooks", 1, 20),
        "first": link(emu, "/webhooks", 1, 20),
        "last": link(emu, "/webhooks", 1, 20),
    }
    doc = page(emu, "/webhooks", **{"page[number]": 2})
    assert doc["data"] == []
    assert doc["links"]["last"] == link(emu, "/webhooks", 1, 20)
    assert doc["links"]["prev"] == link(emu, "/webhooks", 1, 20)
    assert "next" not in doc["links"]


def test_filters_sorted_and_carried(fleet):
    emu = fleet
    resp = emu.get(
        "/devices",
        params={
            "page[size]": 500,
            "filter[owner.id]": "me",
            "filter[devicegroup.type]": "development_devicegroup",
        },
    )
    doc = resp.json()
    flt = "filter[devicegroup.type]=development_devicegroup&filter[owner.id]=me&"
    total = len(
        emu.list_all("/devices", params={"filter[devicegroup.type]": "development_devicegroup"})
    )
    assert doc["links"]["self"] == link(emu, "/devices", 1, 100, flt)
    assert doc["links"]["first"] == link(emu, "/devices", 1, 100, flt)
    assert doc["links"]["last"] == link(emu, "/devices", math.ceil(total / 100), 100, flt)
    assert doc["links"]["next"] == link(emu, "/devices", 2, 100, flt)
    nxt = emu.get(doc["links"]["next"]).json()
    assert nxt["links"]["prev"] == link(emu, "/devices", 1, 100, flt)


def test_filter_values_percent_encoded_in_links(emu):
    g = alpha_dev(emu)
    deploy(emu, g, tags=["a*b", "c.d"])
    doc = page(emu, "/deployments", **{"filter[tags]": "a*b,c.d"})
    assert len(doc["data"]) == 1
    assert doc["links"]["self"] == link(emu, "/deployments", 1, 20, "filter[tags]=a%2Ab,c.d&")


def test_unknown_query_params_ignored_and_not_carried(emu):
    doc = page(emu, "/products", foo="bar", sort="name", include="owner")
    assert len(doc["data"]) == 3
    assert doc["links"]["self"] == link(emu, "/products", 1, 20)


def test_links_use_request_host(emu):
    port = emu.base.split(":")[2].split("/")[0]
    resp = emu.get("/products", headers={"Host": f"localhost:{port}"})
    doc = resp.json()
    assert (
        doc["links"]["self"] == f"http://localhost:{port}/v5/products?page[number]=1&page[size]=20"
    )
    assert all(
        p["links"]["self"].startswith(f"http://localhost:{port}/v5/products/") for p in doc["data"]
    )


@pytest.mark.parametrize(
    "query",
    [
        "page[number]=0",
        "page[number]=-1",
        "page[number]=abc",
        "page[number]=1.5",
        "page[number]=",
        "page[size]=0",
        "page[size]=-3",
        "page[size]=x",
        "page[size]=",
        "page[size]=2.0",
        "page[foo]=1",
        "page[number]=1&page[number]=2",
        "page[size]=5&page[size]=5",
    ],
)
def test_bad_page_params_vx109(emu, query):
    resp = emu.get(f"{emu.base}/products?{query}")
    assert_error(resp, "VX109")


@pytest.mark.parametrize(
    "path",
    [
        "/products",
        "/devicegroups",
        "/devices",
        "/deployments",
        "/webhooks",
        "/accounts",
        "/accounts/me/login_keys",
        "/accounts/me/refresh_tokens",
    ],
)
def test_every_list_has_links(emu, path):
    doc = page(emu, path, **{"page[size]": 1})
    assert {"self", "first", "last"} <= set(doc["links"])
    assert doc["links"]["self"] == link(emu, path, 1, 1)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/devices", "filter[owner.id]=me&filter[owner.id]=me"),
        ("/devices", "filter[owner.id]="),
        ("/devices", "filter[bogus]=1"),
        ("/devices", "filter[devicegroup.type]=nope"),
        ("/devicegroups", "filter[type]=devicegroup"),
        ("/deployments", "filter[flagged]=yes"),
        ("/deployments", "filter[tags]=a&filter[tags]=b"),
        ("/products", "filter[type]=x"),
        ("/webhooks", "filter[owner.id]=me"),
        ("/accounts/me/login_keys", "filter[owner.id]=me"),
    ],
)
def test_bad_filters_vx108(emu, path, query):
    resp = emu.get(f"{emu.base}{path}?{query}")
    assert_error(resp, "VX108")


def test_filter_checked_before_page(emu):
    # both are query problems; either way the request is refused without data
    resp = emu.get(f"{emu.base}/products?filter[bogus]=1&page[size]=0")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] in ("VX108", "VX109")


def test_filter_unknown_id_gives_empty_list(emu):
    for path, key in [
        ("/devices", "product.id"),
        ("/devicegroups", "product.id"),
        ("/deployments", "devicegroup.id"),
        ("/webhooks", "devicegroup.id"),
        ("/products", "owner.id"),
    ]:
        doc = page(emu, path, **{f"filter[{key}]": "00000000-0000-0000-0000-000000000000"})
        assert doc["data"] == []


def test_filter_me_alias_everywhere(emu):
    demo = emu.accounts()["demo"]["id"]
    for path, key in [
        ("/products", "owner.id"),
        ("/devicegroups", "owner.id"),
        ("/devices", "owner.id"),
        ("/devices", "devicegroup.owner.id"),
        ("/deployments", "owner.id"),
        ("/deployments", "creator.id"),
    ]:
        a = emu.list_all(path, params={f"filter[{key}]": "me"})
        b = emu.list_all(path, params={f"filter[{key}]": demo})
        assert a == b and a, (path, key)


def test_percent_encoded_query_keys_and_values(emu):
    demo = emu.accounts()["demo"]["id"]
    resp = raw_request(emu, "GET", "/v5/products?filter%5Bowner.id%5D=m%65&page%5Bsize%5D=1")
    assert resp.status == 200, resp.body
    doc = resp.json()
    assert len(doc["data"]) == 1
    assert doc["data"][0]["relationships"]["owner"]["id"] == demo
    assert doc["links"]["self"] == link(emu, "/products", 1, 1, "filter[owner.id]=me&")
    resp = raw_request(emu, "GET", "/v5/products?filter%5bowner%2eid%5d=me")
    assert resp.json()["links"]["self"] == link(emu, "/products", 1, 20, "filter[owner.id]=me&")


@pytest.mark.parametrize(
    "suffix",
    ["/v5//devicegroups/", "/v5/devicegroups/", "//v5/devicegroups", "/v5///devicegroups//"],
)
def test_path_leniency(emu, suffix):
    resp = raw_request(emu, "GET", suffix)
    assert resp.status == 200, resp.body
    assert len(resp.json()["data"]) == 2


def test_percent_encoded_path_segments(emu):
    g = alpha_dev(emu)
    dev = emu.list_all("/devices", params={"filter[devicegroup.id]": g["id"]})[0]
    mac = dev["attributes"]["mac_address"]
    got = assert_ok(emu.get(f"{emu.base}/devices/{mac.replace(':', '%3A')}"))
    assert got["id"] == dev["id"]
    got = assert_ok(emu.get(f"{emu.base}/devices/{mac.replace(':', '%3a').upper()}"))
    assert got["id"] == dev["id"]
    enc = "".join(f"%{ord(c):02X}" for c in "devicegroups")
    resp = raw_request(emu, "GET", f"/v5/{enc}/{g['id']}")
    assert resp.status == 200, resp.body
    assert resp.json()["data"]["id"] == g["id"]
    resp = raw_request(emu, "GET", f"/v5/devices/{mac.replace(':', '%3a')}/logs")
    assert resp.status == 200, resp.body


def test_ordering_created_at_then_id(emu):
    p = create_product(emu)
    made = [create_group(emu, p["id"]) for _ in range(5)]
    listed = emu.list_all("/devicegroups", params={"filter[product.id]": p["id"]})
    assert {g["id"] for g in listed} == {g["id"] for g in made}
    keys = [(g["attributes"]["created_at"], g["id"]) for g in listed]
    assert keys == sorted(keys)


def test_products_ordering_by_creation(emu):
    made = [create_product(emu) for _ in range(3)]
    listed = emu.list_all("/products")
    keys = [(p["attributes"]["created_at"], p["id"]) for p in listed]
    assert keys == sorted(keys)
    ids = [p["id"] for p in listed]
    assert set(ids[-3:]) == {p["id"] for p in made}
    assert product(emu, "Alpha")["id"] in ids


def test_fleet_small_pages_fast(fleet):
    emu = fleet
    session = requests.Session()
    tok = emu.login()
    url = f"{emu.base}/devices?page[size]=100"
    count = 0
    while url:
        doc = session.get(url, headers={"Authorization": f"Bearer {tok}"}, timeout=10).json()
        count += len(doc["data"])
        url = doc["links"].get("next")
    assert count == N


def _create_concurrently(emu, path, make_body, n=40, headers=None):
    tok = emu.login()
    hdrs = {"Authorization": f"Bearer {tok}", **(headers or {})}

    def one(i):
        return requests.post(emu.base + path, json=make_body(i), headers=hdrs, timeout=20)

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = [r.status_code for r in pool.map(one, range(n))]
    assert codes == [201] * n


def _assert_created_at_then_id(items):
    keys = [(i["attributes"]["created_at"], i["id"]) for i in items]
    ties = len(keys) - len({k[0] for k in keys})
    assert keys == sorted(keys), f"order violates (created_at, id); {ties} timestamp ties"


def test_tie_order_products(emu):
    _create_concurrently(
        emu, "/products", lambda i: {"data": {"type": "product", "attributes": {"name": f"t{i}"}}}
    )
    _assert_created_at_then_id(emu.list_all("/products"))


def test_tie_order_groups_and_webhooks(emu):
    p = create_product(emu)
    _create_concurrently(
        emu,
        "/devicegroups",
        lambda i: {
            "data": {
                "type": "development_devicegroup",
                "attributes": {"name": f"g{i}"},
                "relationships": {"product": {"type": "product", "id": p["id"]}},
            }
        },
    )
    groups = emu.list_all("/devicegroups", params={"filter[product.id]": p["id"]})
    _assert_created_at_then_id(groups)
    g = groups[0]
    _create_concurrently(
        emu,
        "/webhooks",
        lambda i: {
            "data": {
                "type": "webhook",
                "attributes": {"url": f"https://example.com/{i}", "event": "deployment"},
                "relationships": {"devicegroup": {"type": g["type"], "id": g["id"]}},
            }
        },
    )
    _assert_created_at_then_id(emu.list_all("/webhooks"))


def test_tie_order_login_keys(emu):
    emu.config(login_keys_per_account=40)
    pw = {"X-Electricimp-Password": emu.accounts()["demo"]["password"]}
    _create_concurrently(
        emu,
        "/accounts/me/login_keys",
        lambda i: {"data": {"type": "login_key", "attributes": {"description": f"k{i}"}}},
        headers=pw,
    )
    _assert_created_at_then_id(emu.list_all("/accounts/me/login_keys"))
