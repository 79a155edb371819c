"""Contract tests for rate limiting: headers, 429 PX400, buckets, exemptions (§6, §8.7)."""

from __future__ import annotations

import time

import requests

from tests.emulator.helpers import (
    Stream,
    advance,
    assert_error,
    create_stream,
    wait_for,
)

RL_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def limit(emu, n, window_s=1):
    emu.config(rate_limit={"limit": n, "window_s": window_s})


def test_no_headers_when_off(emu):
    resp = emu.get("/products")
    assert resp.status_code == 200
    for h in RL_HEADERS:
        assert h not in resp.headers


def test_headers_count_down_and_429(emu):
    tok = emu.login()
    limit(emu, 5, 10)
    seen = []
    for _ in range(5):
        resp = emu.get("/products", token=tok)
        assert resp.status_code == 200
        assert resp.headers["X-RateLimit-Limit"] == "5"
        seen.append(int(resp.headers["X-RateLimit-Remaining"]))
        reset = int(resp.headers["X-RateLimit-Reset"])
        assert 1 <= reset <= 10
    assert seen == [4, 3, 2, 1, 0]
    resp = emu.get("/products", token=tok)
    err = assert_error(resp, "PX400")
    assert err["detail"].startswith("Too many requests; retry after ")
    assert resp.headers["X-RateLimit-Limit"] == "5"
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert resp.headers["Retry-After"] == resp.headers["X-RateLimit-Reset"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 10


def test_forty_first_request_refused(emu):
    tok = emu.login()
    limit(emu, 40, 10)
    codes = [emu.get("/accounts/me", token=tok).status_code for _ in range(40)]
    assert codes == [200] * 40
    resp = emu.get("/accounts/me", token=tok)
    assert_error(resp, "PX400")


def test_429_not_processed(emu):
    tok = emu.login()
    limit(emu, 1, 10)
    assert emu.get("/products", token=tok).status_code == 200
    resp = emu.post(
        "/products", token=tok, json={"data": {"type": "product", "attributes": {"name": "Ghost"}}}
    )
    assert_error(resp, "PX400")
    limit(emu, 0)
    names = [p["attributes"]["name"] for p in emu.list_all("/products", token=tok)]
    assert "Ghost" not in names


def test_errors_count(emu):
    tok = emu.login()
    limit(emu, 3, 10)
    assert emu.get("/nope", token=tok).status_code == 404
    assert emu.get("/products/00000000-0000-0000-0000-000000000000", token=tok).status_code == 404
    resp = emu.get("/products", token=tok)
    assert resp.status_code == 200
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert_error(emu.get("/nope", token=tok), "PX400")


def test_refused_requests_do_not_count_and_window_resets(emu):
    tok = emu.login()
    limit(emu, 2, 1)
    for _ in range(2):
        assert emu.get("/products", token=tok).status_code == 200
    for _ in range(5):
        assert emu.get("/products", token=tok).status_code == 429
    resp = wait_for(
        lambda: (r := emu.get("/products", token=tok)).status_code == 200 and r,
        timeout=2.5,
        interval=0.1,
    )
    assert resp.headers["X-RateLimit-Remaining"] == "1"


def test_buckets_per_token(emu):
    t1 = emu.login("demo")
    t2 = emu.login("demo-collab")
    limit(emu, 2, 10)
    for _ in range(2):
        assert emu.get("/products", token=t1).status_code == 200
    assert_error(emu.get("/products", token=t1), "PX400")
    resp = emu.get("/products", token=t2)
    assert resp.status_code == 200
    assert resp.headers["X-RateLimit-Remaining"] == "1"


def test_same_account_different_tokens_separate_buckets(emu):
    acct = emu.accounts()["demo"]

    def fresh():
        r = emu.post("/auth", as_user=None, json={"id": "demo", "password": acct["password"]})
        return r.json()["access_token"]

    t1, t2 = fresh(), fresh()
    limit(emu, 1, 10)
    assert emu.get("/products", token=t1).status_code == 200
    assert emu.get("/products", token=t1).status_code == 429
    assert emu.get("/products", token=t2).status_code == 200


def test_tokenless_requests_limited_per_address(emu):
    acct = emu.accounts()["demo"]
    tok = emu.login()
    limit(emu, 3, 10)
    body = {"id": "demo", "password": acct["password"]}
    assert emu.post("/auth", as_user=None, json=body).status_code == 200
    assert emu.post("/auth", as_user=None, json={"id": "demo", "password": "x"}).status_code == 401
    assert emu.get("/products", token="unknown-token").status_code == 401
    resp = emu.post("/auth", as_user=None, json=body)
    assert_error(resp, "PX400", auth=True)
    assert "Retry-After" in resp.headers
    assert_error(emu.post("/auth/token", as_user=None, json={"token": "x"}), "PX400", auth=True)
    # an issued token has its own bucket
    assert emu.get("/products", token=tok).status_code == 200


def test_expired_token_has_own_bucket(emu):
    tok = emu.login()
    advance(emu, 3601)
    limit(emu, 2, 10)
    for _ in range(3):
        emu.get("/products", token="unknown-token")
    assert emu.get("/products", token="unknown-token").status_code == 429
    resp = emu.get("/products", token=tok)
    assert_error(resp, "PX101")
    assert resp.headers["X-RateLimit-Remaining"] == "1"


def test_control_surface_never_limited(emu):
    tok = emu.login()
    limit(emu, 1, 10)
    emu.get("/products", token=tok)
    assert emu.get("/products", token=tok).status_code == 429
    for _ in range(30):
        resp = requests.get(emu.control_url + "/config", timeout=5)
        assert resp.status_code == 200
        assert "X-RateLimit-Limit" not in resp.headers


def test_rate_limit_precedes_routing_and_auth(emu):
    limit(emu, 1, 10)
    assert emu.get("/nope", as_user=None).status_code == 404
    assert_error(emu.get("/nope", as_user=None), "PX400")
    assert_error(emu.get("/products", as_user=None), "PX400")


def test_stream_get_counts_once_and_has_headers(emu):
    tok = emu.login()
    ls = create_stream(emu)
    limit(emu, 3, 10)
    with Stream(ls["attributes"]["url"], "json") as st:
        assert st.status_code == 200
        assert st.headers["X-RateLimit-Limit"] == "3"
        assert st.headers["X-RateLimit-Remaining"] == "2"
        st.next()
        time.sleep(0.2)
        # the stream is held open but counted once; tokenless address bucket has 2 left
        r = emu.post("/auth/token", as_user=None, json={"key": "none"})
        assert r.status_code == 404
        assert r.headers["X-RateLimit-Remaining"] == "1"
    assert emu.get("/products", token=tok).headers["X-RateLimit-Remaining"] == "2"


def test_forced_rate_limit_fault(emu):
    emu.login()
    emu.control("PUT", "/faults", {"rate_limited_for_s": 30, "retry_after_s": 7})
    resp = emu.get("/products")
    assert_error(resp, "PX400")
    assert resp.headers["Retry-After"] == "7"
    assert emu.control("GET", "/faults")["rate_limited_for_s"] == 30
    emu.control("DELETE", "/faults")
    assert emu.get("/products").status_code == 200


def test_fail_next_429(emu):
    emu.login()
    emu.control("POST", "/faults/fail_next", {"count": 2, "status": 429, "retry_after_s": 3})
    for _ in range(2):
        resp = emu.get("/products")
        assert_error(resp, "PX400")
        assert resp.headers["Retry-After"] == "3"
    assert emu.get("/products").status_code == 200


def test_startup_rate_limit_option():
    from impdesk.emulator import EmulatorServer

    n = 3
    with EmulatorServer(seed="empty", rate_limit=n) as srv:
        r = requests.get(srv.base_url + "/accounts/me", timeout=5)
        assert r.status_code == 401
        assert r.headers["X-RateLimit-Limit"] == str(n)
        assert r.headers["X-RateLimit-Remaining"] == str(n - 1)
        cfg = requests.get(srv.control_url + "/config", timeout=5).json()
        assert cfg["rate_limit"]["limit"] == n
