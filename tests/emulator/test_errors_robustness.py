"""Contract tests for error envelopes, precedence, malformed input and concurrency (§1, §4)."""

from __future__ import annotations

import http.client
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emulator.helpers import (
    CATALOGUE,
    JSONAPI,
    Stream,
    alpha_dev,
    assert_error,
    assert_ok,
    create_stream,
    feed,
    online_alpha_device,
    product,
    raw_request,
    set_config,
    subscribe,
)

UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"


def raw_post(emu, path, body: bytes, as_user="demo", method="POST"):
    return raw_request(emu, method, "/v5" + path, body=body, as_user=as_user)


def check_raw_error(resp, code, auth=False):
    status, title = CATALOGUE[code]
    assert resp.status == status, (resp.status, resp.body)
    assert resp.headers["content-type"].startswith("application/json" if auth else JSONAPI)
    doc = resp.json()
    assert [(e["code"], e["status"], e["title"]) for e in doc["errors"]] == [
        (code, str(status), title)
    ]


# -- body syntax and document shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"data": }',
        b"not json",
        b"\xff\xfe\x00",
        b'{"data": "\xe9"}',
        b"{'a': 1}",
        b'{"data": {"type": "product"}} trailing',
        b'\xef\xbb\xbf{"data": 1',
    ],
)
def test_malformed_body_vx100(emu, body):
    resp = raw_post(emu, "/products", body)
    check_raw_error(resp, "VX100")
    assert resp.json()["errors"][0]["detail"] == "The request body is not valid JSON."


def test_body_over_16_mib_vx100(emu):
    name = "x" * (16 * 1024 * 1024)
    body = json.dumps({"data": {"type": "product", "attributes": {"name": name}}}).encode()
    assert len(body) > 16 * 1024 * 1024
    resp = raw_post(emu, "/products", body)
    check_raw_error(resp, "VX100")


def test_body_just_under_16_mib_is_parsed(emu):
    pad = 16 * 1024 * 1024 - 200
    body = json.dumps(
        {"data": {"type": "product", "attributes": {"name": "ok", "description": "d" * pad}}}
    ).encode()
    assert len(body) < 16 * 1024 * 1024
    resp = raw_post(emu, "/products", body)
    check_raw_error(resp, "VX106")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b"5",
        b'"data"',
        b"{}",
        b'{"data": null}',
        b'{"data": []}',
        b'{"data": 3}',
        b'{"datum": {"type": "product"}}',
        b'{"data": {"attributes": {}}}',
    ],
)
def test_bad_document_vx101(emu, body):
    check_raw_error(raw_post(emu, "/products", body), "VX101")


def test_nan_literal_refused(emu):
    resp = raw_post(emu, "/products", b'{"data": NaN}')
    assert resp.status == 400
    assert resp.json()["errors"][0]["code"] in ("VX100", "VX101")


def test_deeply_nested_json_is_400_not_500(emu):
    body = b"[" * 100_000 + b"]" * 100_000
    resp = raw_post(emu, "/products", body)
    assert resp.status == 400
    assert resp.json()["errors"][0]["code"] in ("VX100", "VX101")


@pytest.mark.parametrize(
    "attrs",
    [
        {"name": "a\u0000b"},
        {"name": "\U0001f600" * 10},
        {"name": "x", "description": 1e308},
        {"name": {"nested": "object"}},
        {"name": ["list"]},
        {"name": True},
    ],
)
def test_odd_values_never_500(emu, attrs):
    resp = emu.post("/products", json={"data": {"type": "product", "attributes": attrs}})
    assert resp.status_code in (201, 400), resp.text


def test_content_type_ignored(emu):
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/json"):
        body = json.dumps({"data": {"type": "product", "attributes": {"name": ctype}}})
        resp = emu.post("/products", data=body.encode(), headers={"Content-Type": ctype})
        assert_ok(resp, 201)
    resp = raw_request(
        emu,
        "POST",
        "/v5/products",
        body=json.dumps({"data": {"type": "product", "attributes": {"name": "none"}}}).encode(),
        headers={"Content-Type": ""},
    )
    assert resp.status == 201


@pytest.mark.parametrize("body", [b"\xff\xfe garbage", b"{", b'{"data": []}'])
def test_body_ignored_where_none_taken(emu, body):
    dev = online_alpha_device(emu)
    resp = raw_post(emu, f"/devices/{dev['id']}/restart", body)
    assert resp.status == 204 and resp.body == b""
    resp = raw_request(emu, "GET", "/v5/products", body=body)
    assert resp.status == 200
    bravo = product(emu, "Bravo")
    resp = raw_request(emu, "DELETE", f"/v5/products/{bravo['id']}", body=body)
    assert resp.status == 204


@given(st.binary(max_size=300))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_bodies_never_5xx(emu, body):
    resp = raw_post(emu, "/devicegroups", body)
    assert resp.status in (400, 201), (resp.status, resp.body)
    doc = resp.json()
    if resp.status == 400:
        assert doc["errors"][0]["code"].startswith("VX")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=10,
    )
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_documents_never_5xx(emu, doc):
    body = {"data": {"type": "deployment", "attributes": doc, "relationships": doc}}
    resp = emu.post("/deployments", json=body)
    assert resp.status_code < 500, resp.text
    assert resp.status_code in (201, 400, 404), resp.text


# -- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v5/nope",
        "/v5/products/x/y/z",
        "/v5/devices/0000000000000000/nope",
        "/",
        "/nope",
        "/v4/products",
        "/v5",
        "/v5/accounts/me/capabilities",
        "/v5/devicegroups/x/relationships/nope",
        "/_emulatorx",
    ],
)
def test_unknown_paths_nf102(emu, path):
    resp = raw_request(emu, "GET", path, as_user=None)
    check_raw_error(resp, "NF102")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/products", {"GET", "POST"}),
        ("PUT", "/devices", {"GET"}),
        ("POST", "/devices/0000000000000000", {"GET", "PATCH", "DELETE"}),
        ("GET", "/auth/token", {"POST"}),
        ("PATCH", "/devicegroups", {"GET", "POST"}),
        ("PUT", f"/deployments/{UNKNOWN_UUID}", {"GET", "PATCH", "DELETE"}),
        ("GET", "/logstream", {"POST"}),
        ("POST", f"/devices/{'0' * 16}/logs", {"GET"}),
        ("GET", f"/devicegroups/{UNKNOWN_UUID}/restart", {"POST"}),
        ("POST", f"/logstream/{UNKNOWN_UUID}/0000000000000000", {"PUT", "DELETE"}),
        ("PATCH", "/accounts/me/refresh_tokens/x", {"DELETE"}),
        ("POST", "/webhooks/x", {"GET", "PATCH", "DELETE"}),
    ],
)
def test_known_path_wrong_method_405(emu, method, path, allow):
    resp = raw_request(emu, method, "/v5" + path, as_user=None, body=b"{")
    check_raw_error(resp, "VX120", auth=path.startswith("/auth"))
    assert {m.strip() for m in resp.headers["allow"].split(",")} == allow


def test_nf102_detail(emu):
    resp = emu.get("/nope")
    err = assert_error(resp, "NF102")
    assert err["detail"].startswith("No endpoint matches GET ")


# -- precedence -----------------------------------------------------------------------------------


def test_routing_before_auth(emu):
    check_raw_error(raw_request(emu, "GET", "/v5/nope", as_user=None), "NF102")
    check_raw_error(raw_request(emu, "PUT", "/v5/products", as_user=None), "VX120")


def test_auth_before_body(emu):
    check_raw_error(raw_post(emu, "/products", b"{", as_user=None), "PX100")


def test_body_before_path_resource(emu):
    check_raw_error(raw_post(emu, "/devices/00000000000000aa", b"{", method="PATCH"), "VX100")
    resp = emu.patch(
        "/devices/00000000000000aa", json={"data": {"type": "product", "attributes": {}}}
    )
    assert_error(resp, "VX102")
    resp = emu.patch(f"/products/{UNKNOWN_UUID}", json={"data": []})
    assert_error(resp, "VX101")
    resp = emu.patch(
        f"/products/{UNKNOWN_UUID}", json={"data": {"type": "product", "attributes": {"name": ""}}}
    )
    assert_error(resp, "NF100")


def test_injected_failure_before_routing_and_auth(emu):
    emu.control("POST", "/faults/fail_next", {"count": 2, "status": 503})
    r1 = raw_request(emu, "GET", "/v5/nope", as_user=None)
    check_raw_error(r1, "XX503")
    r2 = raw_request(emu, "GET", "/v5/products", as_user=None)
    check_raw_error(r2, "XX503")
    check_raw_error(raw_request(emu, "GET", "/v5/nope", as_user=None), "NF102")


def test_reference_before_permission_before_constraint(emu):
    shared = product(emu, "Shared Product")
    doc = {
        "data": {
            "type": "production_devicegroup",
            "attributes": {"name": "Shared Dev"},
            "relationships": {"product": {"type": "product", "id": shared["id"]}},
        }
    }
    assert_error(emu.post("/devicegroups", json=doc), "PX300")
    doc["data"]["relationships"]["product"]["id"] = UNKNOWN_UUID
    assert_error(emu.post("/devicegroups", json=doc), "NF101")


def test_validation_before_constraint(emu):
    g = alpha_dev(emu)
    doc = {
        "data": {
            "type": "development_devicegroup",
            "attributes": {"name": "Alpha Dev", "description": "d" * 300},
            "relationships": {"product": g["relationships"]["product"]},
        }
    }
    assert_error(emu.post("/devicegroups", json=doc), "VX106")


# -- transport ------------------------------------------------------------------------------------


def test_content_length_and_keep_alive(emu):
    parts = urlsplit(emu.server.origin)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    tok = emu.login()
    try:
        for path in ("/v5/products", "/v5/nope", "/v5/accounts/me"):
            conn.request("GET", path, headers={"Authorization": f"Bearer {tok}"})
            resp = conn.getresponse()
            body = resp.read()
            assert resp.getheader("Content-Length") == str(len(body))
            assert resp.version == 11
        sock_before = conn.sock
        conn.request("GET", "/v5/products", headers={"Authorization": f"Bearer {tok}"})
        conn.getresponse().read()
        assert conn.sock is sock_before
    finally:
        conn.close()


def test_204_has_no_body_or_content_type(emu):
    dev = online_alpha_device(emu)
    resp = emu.post(f"/devices/{dev['id']}/restart")
    assert resp.status_code == 204
    assert resp.content == b""
    assert "Content-Type" not in resp.headers


def test_error_content_types(emu):
    assert emu.get("/nope").headers["Content-Type"].startswith(JSONAPI)
    r = emu.post("/auth", as_user=None, json={"id": "demo", "password": "bad"})
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Content-Length"] == str(len(r.content))


def _raw_socket(emu) -> socket.socket:
    parts = urlsplit(emu.server.origin)
    s = socket.create_connection((parts.hostname, parts.port), timeout=5)
    return s


def _read_all(s: socket.socket, limit_s: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            return data
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:") and len(rest) >= int(
                    line.split(b":")[1]
                ):
                    return data
    return data


@pytest.mark.parametrize(
    "payload",
    [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /v5/products HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
    ],
)
def test_garbage_requests_answered_or_closed(emu, payload):
    s = _raw_socket(emu)
    try:
        s.sendall(payload)
        data = _read_all(s)
        assert data == b"" or data.startswith(b"HTTP/1.")
        if data:
            status = int(data.split(b" ")[1])
            assert 400 <= status < 500
    finally:
        s.close()
    assert emu.get("/products").status_code == 200


def test_truncated_body_does_not_hang(emu):
    tok = emu.login()
    s = _raw_socket(emu)
    try:
        s.sendall(
            b"POST /v5/products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + tok.encode()
            + b'\r\nContent-Length: 100\r\n\r\n{"data":'
        )
        s.shutdown(socket.SHUT_WR)
        t0 = time.monotonic()
        data = _read_all(s, 6)
        assert time.monotonic() - t0 < 6
        assert data == b"" or data.startswith(b"HTTP/1.1 400")
    finally:
        s.close()
    assert emu.get("/products").status_code == 200


def test_slow_client_does_not_block_others(emu):
    s = _raw_socket(emu)
    try:
        s.sendall(b"GET /v5/products HTTP/1.1\r\nHost: x\r\n")  # never finished
        t0 = time.monotonic()
        assert emu.get("/products").status_code == 200
        assert time.monotonic() - t0 < 2
    finally:
        s.close()


# -- concurrency ----------------------------------------------------------------------------------


def test_hundreds_of_concurrent_requests(emu):
    tok = emu.login()
    dev = online_alpha_device(emu)
    paths = [
        "/products",
        "/devicegroups",
        "/devices",
        "/deployments",
        "/accounts/me",
        f"/devices/{dev['id']}",
        f"/devices/{dev['id']}/logs",
        "/nope",
    ]

    def one(i):
        path = paths[i % len(paths)]
        with requests.Session() as s:
            r = s.get(emu.base + path, headers={"Authorization": f"Bearer {tok}"}, timeout=20)
            r.json()
            return path, r.status_code

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(200)))
    assert time.monotonic() - t0 < 30
    for path, status in results:
        assert status == (404 if path == "/nope" else 200), (path, status)


def test_concurrent_writes_consistent(emu):
    tok = emu.login()

    def create(i):
        r = requests.post(
            emu.base + "/products",
            timeout=20,
            headers={"Authorization": f"Bearer {tok}"},
            json={"data": {"type": "product", "attributes": {"name": f"c{i % 50}"}}},
        )
        return r.status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(create, range(100)))
    assert codes.count(201) == 50
    assert codes.count(409) == 50
    names = [p["attributes"]["name"] for p in emu.list_all("/products")]
    assert sorted(n for n in names if n.startswith("c")) == sorted(f"c{i}" for i in range(50))


def test_latency_is_parallel(emu):
    tok = emu.login()
    emu.control("PUT", "/faults", {"latency_ms": 400})
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    requests.get(
                        emu.base + "/accounts/me",
                        headers={"Authorization": f"Bearer {tok}"},
                        timeout=10,
                    ).status_code
                ),
                range(20),
            )
        )
    elapsed = time.monotonic() - t0
    assert codes == [200] * 20
    assert 0.4 <= elapsed < 2.5
    t0 = time.monotonic()
    assert requests.get(emu.control_url, timeout=5).status_code == 200
    assert time.monotonic() - t0 < 0.3


def test_twenty_open_streams(emu):
    set_config(emu, "logstream", streams_per_account=20)
    dev = online_alpha_device(emu)
    streams = []
    try:
        for _ in range(20):
            ls = create_stream(emu)
            stream = Stream(ls["attributes"]["url"], "json")
            streams.append(stream)
            assert stream.next().data == '{"state":"opened"}'
            assert subscribe(emu, ls["id"], dev["id"]).status_code == 204
        for stream in streams:
            assert stream.next_state() == {"state": "subscribed", "device_id": dev["id"]}
        t0 = time.monotonic()
        assert emu.get("/products").status_code == 200
        assert time.monotonic() - t0 < 1
        assert emu.control("GET", "")["counts"]["open_streams"] == 20
        feed(emu, dev["id"], ("device.log", "to all"))
        for stream in streams:
            assert stream.next_message()["msg"] == "to all"
    finally:
        for stream in streams:
            stream.close()


def test_streams_of_several_accounts(emu):
    opened = []
    try:
        for user in ("demo", "demo-collab", "demo-2fa"):
            ls = create_stream(emu, as_user=user)
            stream = Stream(ls["attributes"]["url"], "text")
            opened.append(stream)
            assert stream.next().data == "opened"
        for stream in opened:
            assert not stream.closed.is_set()
    finally:
        for stream in opened:
            stream.close()


# -- detail texts with placeholders (§4.4) --------------------------------------------------------


def test_px100_detail_variants(emu):
    err = assert_error(emu.get("/products", as_user=None), "PX100")
    assert err["detail"] == "An access token is required."
    err = assert_error(emu.get("/products", token="bogus"), "PX100")
    assert err["detail"] == "The access token is invalid."
    resp = emu.post("/auth", as_user=None, json={"id": "demo", "password": "nope"})
    err = assert_error(resp, "PX100", auth=True)
    assert err["detail"] == "The identifier or password is incorrect."


def test_templated_details(emu):
    err = assert_error(emu.request("PUT", "/products"), "VX120")
    assert err["detail"].startswith("PUT is not allowed on ")
    assert err["detail"].endswith("/products.")
    err = assert_error(emu.get("/devices/00000000000000aa"), "NF100")
    assert err["detail"] == "The device '00000000000000aa' was not found."
    err = assert_error(
        emu.post("/products", json={"data": {"type": "device", "attributes": {"name": "x"}}}),
        "VX102",
    )
    assert err["detail"] == "The type 'device' is not valid here; expected 'product'."
    err = assert_error(
        emu.post("/products", json={"data": {"type": "product", "attributes": {}}}), "VX103"
    )
    assert err["detail"] == "The attribute 'name' is required."
    err = assert_error(
        emu.post(
            "/products",
            json={"data": {"type": "product", "attributes": {"name": "x", "colour": "red"}}},
        ),
        "VX104",
    )
    assert err["detail"] == "The attribute 'colour' is not allowed here or has an invalid value."
    err = assert_error(emu.get("/products", params={"filter[bogus]": "1"}), "VX108")
    assert (
        err["detail"] == "The filter 'filter[bogus]' is not supported by this endpoint."
        or err["detail"] == "The filter 'bogus' is not supported by this endpoint."
    )
    err = assert_error(emu.get("/products", params={"page[size]": "0"}), "VX109")
    assert err["detail"] == "'page[size]' must be a whole number of at least 1."
    err = assert_error(emu.get("/nope"), "NF102")
    assert err["detail"] in ("No endpoint matches GET /v5/nope.", "No endpoint matches GET /nope.")


def test_px400_detail_names_retry_after(emu):
    tok = emu.login()
    emu.config(rate_limit={"limit": 1, "window_s": 5})
    emu.get("/products", token=tok)
    resp = emu.get("/products", token=tok)
    err = assert_error(resp, "PX400")
    n = int(resp.headers["Retry-After"])
    assert err["detail"] == f"Too many requests; retry after {n} second(s)."
