"""Sign-in, 2FA, login keys, refresh tokens, token expiry and renewal (§2) over real HTTP."""

from __future__ import annotations

import threading

import pytest

from impdesk.api import (
    AuthenticationError,
    Client,
    InvalidOtp,
    MemoryTokenStore,
    NotFound,
    OtpRequired,
    PermissionDenied,
)
from tests.api.conftest import FakeClock, clear_log, password, requests_log


def token_exchanges(emu) -> list[dict]:
    return [r for r in requests_log(emu) if r["method"] == "POST" and r["path"] == "/v5/auth/token"]


def test_login_and_me(client, emu):
    me = client.me()
    assert me.username == "demo" and client.signed_in
    assert client.token_store.load()  # the refresh token was kept
    auth = next(r for r in requests_log(emu) if r["path"] == "/v5/auth")
    assert auth["headers"]["Content-Type"] == "application/json"
    assert "Authorization" not in auth["headers"]
    get = next(r for r in requests_log(emu) if r["path"] == "/v5/accounts/me")
    assert get["headers"]["Authorization"].startswith("Bearer ")
    assert get["headers"]["User-Agent"].startswith("impdesk/")


def test_login_by_email_case_insensitive(make_client, emu):
    c = make_client(login=None)
    c.login("DEMO@example.com", password(emu))
    assert c.me().username == "demo"


@pytest.mark.parametrize("ident, pw", [("demo", "wrong"), ("nobody", "x"), ("demo", "")])
def test_wrong_credentials(make_client, ident, pw):
    c = make_client(login=None)
    with pytest.raises(AuthenticationError) as info:
        c.login(ident, pw)
    assert info.value.code == "PX100" and info.value.status == 401
    assert not c.signed_in


def test_not_signed_in(make_client):
    c = make_client(login=None)
    with pytest.raises(AuthenticationError):
        c.me()
    with pytest.raises(AuthenticationError):
        c.login_with_refresh_token()  # nothing saved


def test_two_factor_login(make_client, emu):
    c = make_client(login=None)
    with pytest.raises(OtpRequired) as info:
        c.login("demo-2fa", password(emu, "demo-2fa"))
    login_token = info.value.login_token
    assert login_token and info.value.status == 403 and info.value.code == "PX200"
    # a wrong code: InvalidOtp, and the same login token stays usable
    otp = emu.otp()
    wrong = f"{(int(otp) + 500000) % 1000000:06d}"
    with pytest.raises(InvalidOtp) as bad:
        c.complete_login(login_token, wrong)
    assert bad.value.code == "PX201" and isinstance(bad.value, AuthenticationError)
    c.complete_login(login_token, f"  {emu.otp()} ")  # surrounding whitespace is trimmed
    assert c.me().username == "demo-2fa"
    step2 = [r for r in requests_log(emu) if r["path"] == "/v5/auth"][-1]
    assert "X-Electricimp-OTP-Token" in step2["headers"]  # the header form (§2.3)
    assert '"password"' not in (step2["body"] or "")


def test_two_factor_dead_login_token(make_client, emu):
    c = make_client(login=None)
    with pytest.raises(OtpRequired) as info:
        c.login("demo-2fa", password(emu, "demo-2fa"))
    emu.control("POST", "/tokens/expire", {"kind": "login"})
    with pytest.raises(AuthenticationError) as dead:
        c.complete_login(info.value.login_token, emu.otp())
    assert dead.value.code == "PX202" and not isinstance(dead.value, InvalidOtp)


def test_login_key_lifecycle(client, make_client, emu):
    pw = password(emu)
    with pytest.raises(PermissionDenied) as denied:
        client.create_login_key("not the password", "CI")
    assert denied.value.code == "PX203"
    key = client.create_login_key(pw, "CI key")
    assert key.attributes["description"] == "CI key"
    assert [k.id for k in client.list_login_keys()] == [key.id]
    assert client.update_login_key(key.id, pw, "renamed").attributes["description"] == "renamed"

    other = make_client(login=None)
    other.login_with_key(key.id)
    assert other.me().username == "demo"
    assert other.token_store.load() is None  # a key login issues no refresh token
    assert client.get_login_key(key.id).attributes["usages"] == 1

    client.delete_login_key(key.id, pw)
    with pytest.raises(NotFound):
        client.get_login_key(key.id)
    late = make_client(login=None)
    with pytest.raises(AuthenticationError) as dead:  # client fix: was a bare NotFound
        late.login_with_key(key.id)
    assert dead.value.code == "NF103"


def test_login_key_limit(client, emu):
    pw = password(emu)
    emu.config(login_keys_per_account=2)
    client.create_login_key(pw)
    client.create_login_key(pw)
    from impdesk.api import Conflict
    with pytest.raises(Conflict) as info:
        client.create_login_key(pw)
    assert info.value.code == "CX115"


def test_key_session_renews_with_the_key(make_client, client, emu):
    """A key session renews by key, not by a refresh token left in the store (client fix)."""
    key = client.create_login_key(password(emu))
    store = MemoryTokenStore("stale-refresh-token-of-another-session")
    c = make_client(login=None, token_store=store)
    c.login_with_key(key.id)
    emu.control("POST", "/tokens/expire", {"kind": "access"})
    clear_log(emu)
    assert c.me().username == "demo"
    (exchange,) = token_exchanges(emu)
    assert '"key"' in exchange["body"] and exchange["status"] == 200


def test_login_with_refresh_token(client, make_client):
    saved = client.token_store.load()
    c = make_client(login=None, token_store=MemoryTokenStore(saved))
    c.login_with_refresh_token()
    assert c.me().username == "demo"
    d = make_client(login=None)
    d.login_with_refresh_token(saved)
    assert d.token_store.load() == saved and d.me().username == "demo"


def test_sign_out_revokes_the_refresh_token(client, emu):
    saved = client.token_store.load()
    records_before = client.list_refresh_tokens()
    client.sign_out()
    assert not client.signed_in and client.token_store.load() is None
    log = requests_log(emu)
    assert any(r["method"] == "DELETE" and r["path"].startswith("/v5/accounts/me/refresh_tokens/")
               and r["status"] == 204 for r in log)
    again = emu.http.post(emu.base + "/auth/token", json={"token": saved}, timeout=10)
    assert again.status_code == 404 and again.json()["errors"][0]["code"] == "NF103"
    assert len(records_before) == 1
    with pytest.raises(AuthenticationError):
        client.me()


def test_sign_out_without_revoke_keeps_server_token(client, emu):
    saved = client.token_store.load()
    client.sign_out(revoke=False)
    again = emu.http.post(emu.base + "/auth/token", json={"token": saved}, timeout=10)
    assert again.status_code == 200


# -- expiry and renewal (§2.5) -----------------------------------------------------------
def test_expired_token_mid_listing_refreshes_and_replays_once(make_client, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 450})
    c = make_client()
    clear_log(emu)

    def progress(name, done, total, items):
        if done == 2:
            emu.control("POST", "/tokens/expire", {"kind": "access"})

    devices = c.list_devices(progress=progress, concurrent=False)
    assert len(devices) == 456
    log = requests_log(emu)
    assert [r["status"] for r in log if r["status"] == 401] == [401]
    assert len(token_exchanges(emu)) == 1
    pages = [r for r in log if r["path"] == "/v5/devices" and r["status"] == 200]
    assert len(pages) == 5


def test_expired_token_during_concurrent_pages_single_flight(make_client, emu):
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 650})
    c = make_client()
    clear_log(emu)

    def progress(name, done, total, items):
        if done == 1:  # every concurrent page fetch will meet the expired token
            emu.control("POST", "/tokens/expire", {"kind": "access"})

    assert len(c.list_devices(progress=progress)) == 656
    assert len(token_exchanges(emu)) == 1  # one renewal shared by all page threads
    log = requests_log(emu)
    failed = [r for r in log if r["status"] == 401]
    assert 1 <= len(failed) <= 6
    ok_pages = [r for r in log if r["path"] == "/v5/devices" and r["status"] == 200]
    assert len(ok_pages) == 7


def test_injected_401_on_page_3(make_client, emu):
    """fail_next 401 queued between pages (the path regex does not see the query string)."""
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 450})
    c = make_client()
    clear_log(emu)

    def progress(name, done, total, items):
        if done == 2:
            emu.control("POST", "/faults/fail_next",
                        {"count": 1, "status": 401, "method": "GET", "path": "^/v5/devices$"})

    assert len(c.list_devices(progress=progress, concurrent=False)) == 456
    log = requests_log(emu)
    statuses = [(r["query"], r["status"]) for r in log if r["path"] == "/v5/devices"]
    assert [s for _, s in statuses] == [200, 200, 401, 200, 200, 200]
    assert "3" in statuses[2][0] and statuses[2][0] == statuses[3][0]  # page 3 replayed
    assert len(token_exchanges(emu)) == 1


def test_fail_next_path_regex_sees_query(make_client, emu):
    """The brief's form: a fail_next rule whose path regex names page 3 in the query."""
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 450})
    c = make_client()
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": 401,
                                              "path": r"page%5Bnumber%5D=3|page\[number\]=3"})
    clear_log(emu)
    assert len(c.list_devices(concurrent=False)) == 456
    failed = [r for r in requests_log(emu) if r["status"] == 401]
    assert len(failed) == 1 and "3" in failed[0]["query"]  # page 3 failed once, then replayed
    assert len(token_exchanges(emu)) == 1


def test_proactive_refresh_when_less_than_180s_left(make_client, emu):
    clock = FakeClock()
    c = make_client(clock=clock)
    c.me()
    emu.control("POST", "/clock", {"advance_s": 3500})
    clock.advance(3500)  # 100 s left by both clocks
    clear_log(emu)
    assert c.me().username == "demo"
    log = requests_log(emu)
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v5/auth/token", 200), ("GET", "/v5/accounts/me", 200)]
    # the new token is good for another hour: no renewal on the next call
    clock.advance(200)
    clear_log(emu)
    c.me()
    assert token_exchanges(emu) == []


def test_no_early_refresh_from_server_clock_alone(make_client, emu):
    """The deadline comes from expires_in and the local clock, never from expires_at (§2.5)."""
    c = make_client(clock=FakeClock())
    emu.control("POST", "/clock", {"advance_s": 3500})
    clear_log(emu)
    c.me()
    assert token_exchanges(emu) == []
    # the server's clock passes the expiry: a 401 PX101, one renewal, one replay
    emu.control("POST", "/clock", {"advance_s": 200})
    clear_log(emu)
    assert c.me().username == "demo"
    assert [(r["path"], r["status"]) for r in requests_log(emu)] == [
        ("/v5/accounts/me", 401), ("/v5/auth/token", 200), ("/v5/accounts/me", 200)]


def test_proactive_refresh_failure_keeps_a_still_valid_token(make_client, emu):
    """A 5xx on an early renewal does not fail a call the current token can still make."""
    clock = FakeClock()
    c = make_client(clock=clock)
    clock.advance(3500)
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": 503, "path": "/auth/token"})
    assert c.me().username == "demo"


def test_dead_refresh_token_clears_the_store(make_client, emu):
    lost = []
    c = make_client(on_auth_lost=lost.append)
    emu.control("POST", "/tokens/expire", {"kind": "all"})
    with pytest.raises(AuthenticationError) as info:
        c.me()
    assert info.value.code == "NF103"
    assert c.token_store.load() is None and not c.signed_in
    assert lost and lost[0] is info.value
    with pytest.raises(AuthenticationError):
        c.me()


def test_rate_limited_refresh_does_not_drop_the_credential(make_client, emu):
    """A 429 at /auth/token is not a dead credential (client fix)."""
    from impdesk.api import RateLimited
    from impdesk.api.retry import RetryPolicy
    c = make_client(retry=RetryPolicy(rate_limit_attempts=0))
    saved = c.token_store.load()
    emu.control("POST", "/tokens/expire", {"kind": "access"})
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": 429, "retry_after_s": 0,
                                              "path": "/auth/token"})
    with pytest.raises(RateLimited):
        c.me()
    assert c.token_store.load() == saved
    assert c.me().username == "demo"


def test_401_after_replay_is_raised(make_client, emu):
    lost = []
    c = make_client(on_auth_lost=lost.append)
    emu.control("POST", "/faults/fail_next", {"count": 2, "status": 401, "path": "/accounts/me"})
    with pytest.raises(AuthenticationError) as info:
        c.me()
    assert info.value.code == "PX101" and lost
    assert len(token_exchanges(emu)) == 1  # replayed once only


def test_many_threads_share_one_renewal(make_client, emu):
    c = make_client()
    emu.control("POST", "/tokens/expire", {"kind": "access"})
    clear_log(emu)
    errors: list[BaseException] = []

    def work():
        try:
            c.list_products()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(token_exchanges(emu)) == 1


def test_client_repr_and_session_hide_secrets(client):
    token = client._auth.access_token
    assert token not in repr(client) and token not in repr(client._auth)
    assert client.token_store.load() not in repr(client.token_store)
    assert isinstance(client, Client)
