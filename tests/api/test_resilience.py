"""429 bursts, 5xx retries, lost answers, steady load at the limit, and the URL rule (§1.1, §6)."""

from __future__ import annotations

import threading
import time

import pytest

from impdesk.api import (
    ApiConnectionError,
    Client,
    InsecureEndpointError,
    RateLimited,
    ServerError,
)
from impdesk.api.retry import RetryPolicy
from tests.api.conftest import clear_log, requests_log


def fail_next(emu, **rule) -> None:
    emu.control("POST", "/faults/fail_next", rule)


def group(client):
    return client.list_device_groups()[0]


# -- 429 (§6) ----------------------------------------------------------------------------------
def test_burst_of_429_is_waited_out(client, emu):
    fail_next(emu, count=3, status=429, retry_after_s=0)
    clear_log(emu)
    assert len(client.list_products()) == 3
    assert [r["status"] for r in requests_log(emu)] == [429, 429, 429, 200]
    assert client.stats["rate_limited"] == 3


def test_429_waits_retry_after(client, emu):
    fail_next(emu, count=1, status=429, retry_after_s=1)
    started = time.perf_counter()
    client.me()
    assert 0.95 <= time.perf_counter() - started < 2.0


def test_429_on_post_is_repeated_since_not_processed(client, emu):
    """Even calls sent with retry=False (deployments) repeat a 429 (client fix)."""
    g = group(client)
    before = len(client.list_deployments(group_id=g.id))
    fail_next(emu, count=2, status=429, retry_after_s=0, method="POST")
    client.create_deployment(g.type, g.id, device_code="", agent_code="")
    assert len(client.list_deployments(group_id=g.id)) == before + 1


def test_429_gives_up_after_its_budget(make_client, emu):
    c = make_client(retry=RetryPolicy(rate_limit_attempts=2))
    fail_next(emu, count=5, status=429, retry_after_s=0)
    with pytest.raises(RateLimited) as info:
        c.me()
    assert info.value.code == "PX400" and info.value.retry_after == 0
    assert len([r for r in requests_log(emu) if r["status"] == 429]) == 3


def test_standing_rate_limited_period(client, emu):
    emu.control("PUT", "/faults", {"rate_limited_for_s": 1, "retry_after_s": 1})
    started = time.perf_counter()
    assert client.me().username == "demo"
    elapsed = time.perf_counter() - started
    statuses = [r["status"] for r in requests_log(emu) if r["path"] == "/v5/accounts/me"]
    assert statuses[0] == 429 and statuses[-1] == 200
    assert 0.9 <= elapsed < 3.5


def test_real_limit_is_adopted_from_headers(make_client, emu):
    emu.config(rate_limit={"limit": 7, "window_s": 1})
    c = make_client()
    c.me()
    assert c.limiter.limit == 7


def test_steady_load_at_the_limit_sees_no_429(make_client, emu):
    emu.config(rate_limit={"limit": 10, "window_s": 1})
    c = make_client()
    c.me()  # learns the limit
    clear_log(emu)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(n):
                c.me()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(7,)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    log = requests_log(emu)
    assert errors == []
    assert len(log) == 35
    assert [r for r in log if r["status"] == 429] == []
    assert c.stats["rate_limited"] == 0
    # 35 at 10 per window: the last 5 go in the 4th window, 3 windows later (not far more)
    assert 2.9 <= elapsed < 4.2, elapsed


def test_concurrent_listing_at_the_limit_sees_no_429(make_client, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 1500})
    emu.config(rate_limit={"limit": 8, "window_s": 1})
    c = make_client()
    clear_log(emu)
    snap = c.fetch_snapshot()
    assert len(snap.devices) == 1506
    assert [r for r in requests_log(emu) if r["status"] == 429] == []


# -- 5xx ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_get_is_retried_on_5xx(client, emu, sleeps, status):
    fail_next(emu, count=2, status=status)
    clear_log(emu)
    assert client.me().username == "demo"
    assert [r["status"] for r in requests_log(emu)] == [status, status, 200]
    assert len(sleeps) == 2 and client.stats["retries"] == 2


def test_get_gives_up_after_attempts(client, emu):
    fail_next(emu, count=10, status=503)
    clear_log(emu)
    with pytest.raises(ServerError) as info:
        client.me()
    assert info.value.status == 503 and info.value.code == "XX503"
    assert len(requests_log(emu)) == 4  # the first try and 3 retries


def test_post_deployment_is_not_retried_on_5xx(client, emu):
    g = group(client)
    before = len(client.list_deployments(group_id=g.id))
    fail_next(emu, count=1, status=503, method="POST")
    clear_log(emu)
    with pytest.raises(ServerError):
        client.create_deployment(g.type, g.id, device_code="", agent_code="")
    assert [r["status"] for r in requests_log(emu)] == [503]
    assert len(client.list_deployments(group_id=g.id)) == before


def test_lost_answer_of_a_deployment(client, emu):
    """The request was carried out, the answer lost: report it, never repeat it blindly."""
    g = group(client)
    before = {d.id for d in client.list_deployments(group_id=g.id)}
    fail_next(emu, count=1, status="drop", method="POST", path="^/v5/deployments$",
              after_processing=True)
    clear_log(emu)
    with pytest.raises(ApiConnectionError) as info:
        client.create_deployment(g.type, g.id, device_code="", agent_code="", description="x")
    assert info.value.may_have_been_sent is True
    posts = [r for r in requests_log(emu) if r["method"] == "POST"]
    assert len(posts) == 1
    after = client.list_deployments(group_id=g.id)
    assert len({d.id for d in after} - before) == 1  # exactly one deployment created


def test_dropped_get_is_retried(client, emu):
    fail_next(emu, count=1, status="drop", method="GET")
    assert client.me().username == "demo"


def test_dropped_restart_is_not_retried(client, emu):
    dev = next(d for d in client.list_devices() if d.devicegroup_id)
    fail_next(emu, count=1, status="drop", method="POST")
    with pytest.raises(ApiConnectionError) as info:
        client.restart_device(dev.id)
    assert info.value.may_have_been_sent


def test_unreachable_server_was_not_sent(emu):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    c = Client(f"http://127.0.0.1:{port}/v5", retry=RetryPolicy(attempts=1, base_s=0.001),
               sleep=lambda s: None)
    with pytest.raises(ApiConnectionError) as info:
        c.login("demo", "x")
    assert info.value.may_have_been_sent is False
    assert info.value.status == 0


# -- the URL rule (§1.1) ---------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "http://api.electricimp.com/v5", "http://10.0.0.1:8080/v5", "http://example.com/v5",
    "ftp://127.0.0.1/v5", "127.0.0.1:8000/v5", "https://user:pw@api.electricimp.com/v5",
])
def test_insecure_base_urls_refused(url):
    with pytest.raises(InsecureEndpointError):
        Client(url)


@pytest.mark.parametrize("url", [
    "https://api.electricimp.com/v5", "https://api.az.electricimp.io/v5/",
    "http://127.0.0.1:1234/v5", "http://localhost:1234/v5", "http://[::1]:1234/v5",
])
def test_accepted_base_urls(url):
    assert Client(url).base_url == url.rstrip("/")


def test_foreign_links_refused_before_a_token_is_sent(client, emu):
    """A server handing back links to another origin: refused, and nothing is sent there."""
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 150})
    client.http.headers["Host"] = "evil.example:80"  # the emulator builds links from Host
    clear_log(emu)
    with pytest.raises(InsecureEndpointError):
        client.list_devices(concurrent=False)
    with pytest.raises(InsecureEndpointError):
        client.list_devices()
    assert [r["query"] for r in requests_log(emu)] == [
        "page%5Bnumber%5D=1&page%5Bsize%5D=100"] * 2  # only our own first pages went out


@pytest.mark.parametrize("link", [
    "https://127.0.0.1:{port}/v5/devices", "http://127.0.0.1:1/v5/devices",
    "http://localhost:{port}/v5/devices", "relative/path", "ftp://127.0.0.1:{port}/v5",
])
def test_url_check_of_server_given_links(client, emu, link):
    port = emu.base.split(":")[2].split("/")[0]
    with pytest.raises(InsecureEndpointError):
        client.request("GET", link.format(port=port))
    assert client.url(f"http://127.0.0.1:{port}/v5/x") == f"http://127.0.0.1:{port}/v5/x"
