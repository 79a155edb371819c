"""Contract tests for authentication: /auth, 2FA, /auth/token and access tokens (§2)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import struct
import time

import pytest

from tests.emulator.helpers import TS_RE, advance, assert_error, assert_ok

ACCESS_RE = re.compile(r"^[A-Za-z0-9+/]{62}[A-Za-z0-9+/=]{2}$")
REFRESH_RE = re.compile(r"^[0-9a-f]{64}$")
LOGIN_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def auth(emu, body=None, headers=None, data=None, path="/auth"):
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return emu.post(path, json=body, data=data, as_user=None, headers=hdrs)


def password(emu, user="demo"):
    return emu.accounts()[user]["password"]


def parse_ts(value: str) -> dt.datetime:
    assert TS_RE.match(value), value
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def emu_now(emu) -> dt.datetime:
    return parse_ts(emu.control("GET", "/clock")["now"])


def totp(secret: str, at: float | None = None) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off : off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def wrong_otp(emu, user="demo-2fa") -> str:
    good = {totp(emu.accounts()[user]["totp_secret"], time.time() + d) for d in (-30, 0, 30)}
    for cand in ("000000", "111111", "222222", "333333"):
        if cand not in good:
            return cand
    raise AssertionError("unreachable")


def step1(emu, user="demo-2fa") -> dict:
    resp = auth(emu, {"id": user, "password": password(emu, user)})
    err = assert_error(resp, "PX200", auth=True)
    return err["meta"]


# -- POST /auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ident", ["demo", "DEMO", "email", "EMAIL"])
def test_login_by_username_or_email_case_insensitive(emu, ident):
    acct = emu.accounts()["demo"]
    ident = {
        "demo": "demo",
        "DEMO": "DEMO",
        "email": acct["email"],
        "EMAIL": acct["email"].upper(),
    }[ident]
    resp = auth(emu, {"id": ident, "password": acct["password"]})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"access_token", "expires_in", "expires_at", "refresh_token"}
    assert ACCESS_RE.match(body["access_token"]), body["access_token"]
    assert REFRESH_RE.match(body["refresh_token"])
    assert body["expires_in"] == 3600 and isinstance(body["expires_in"], int)
    delta = (parse_ts(body["expires_at"]) - emu_now(emu)).total_seconds()
    assert 3590 <= delta <= 3600
    me = emu.get("/accounts/me", token=body["access_token"])
    assert assert_ok(me)["attributes"]["username"] == "demo"


def test_login_issues_distinct_tokens(emu):
    body = {"id": "demo", "password": password(emu)}
    a, b = auth(emu, body).json(), auth(emu, body).json()
    assert a["access_token"] != b["access_token"]
    assert a["refresh_token"] != b["refresh_token"]


def test_access_token_lifetime_configurable(emu):
    emu.config(access_token_lifetime_s=120)
    body = auth(emu, {"id": "demo", "password": password(emu)}).json()
    assert body["expires_in"] == 120


@pytest.mark.parametrize(
    "body",
    [
        {"id": "demo", "password": "wrong"},
        {"id": "nobody", "password": "x"},
        {"id": "demo", "password": ""},
        {"id": "demo-2fa", "password": "wrong"},
    ],
)
def test_login_wrong_credentials_px100(emu, body):
    resp = auth(emu, body)
    assert_error(resp, "PX100", auth=True)


@pytest.mark.parametrize(
    "body",
    [
        {"id": "demo"},
        {"password": "x"},
        {},
        {"id": 5, "password": "x"},
        {"id": "demo", "password": None},
        [],
        "demo",
        42,
    ],
)
def test_login_bad_shape_vx103(emu, body):
    assert_error(auth(emu, body), "VX103", auth=True)


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe", b'{"id": "demo", '])
def test_login_not_json_vx100(emu, data):
    assert_error(auth(emu, data=data), "VX100", auth=True)


def test_auth_needs_no_authorization_and_ignores_a_bad_one(emu):
    resp = auth(
        emu, {"id": "demo", "password": password(emu)}, headers={"Authorization": "Bearer nonsense"}
    )
    assert resp.status_code == 200


def test_auth_get_is_405(emu):
    resp = emu.get("/auth", as_user=None)
    assert_error(resp, "VX120", auth=True)
    assert [m.strip() for m in resp.headers["Allow"].split(",")] == ["POST"]


# -- two-factor -----------------------------------------------------------------------------------


def test_2fa_step1_returns_login_token(emu):
    resp = auth(emu, {"id": "demo-2fa", "password": password(emu, "demo-2fa")})
    err = assert_error(resp, "PX200", auth=True)
    meta = err["meta"]
    assert LOGIN_TOKEN_RE.match(meta["login_token"]), meta
    delta = (parse_ts(meta["expires_at"]) - emu_now(emu)).total_seconds()
    assert 290 <= delta <= 300


def test_2fa_header_form(emu):
    meta = step1(emu)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"access_token", "expires_in", "expires_at", "refresh_token"}
    me = assert_ok(emu.get("/accounts/me", token=body["access_token"]))
    assert me["attributes"]["username"] == "demo-2fa"


def test_2fa_legacy_body_form(emu):
    meta = step1(emu)
    resp = auth(emu, {"login_token": meta["login_token"], "password": emu.otp("demo-2fa")})
    assert resp.status_code == 200, resp.text


def test_2fa_otp_computed_from_secret(emu):
    secret = emu.accounts()["demo-2fa"]["totp_secret"]
    assert re.fullmatch(r"[A-Z2-7]{16,32}", secret), secret
    meta = step1(emu)
    resp = auth(
        emu, {"login_token": meta["login_token"]}, headers={"X-Electricimp-OTP-Token": totp(secret)}
    )
    assert resp.status_code == 200, resp.text


def test_2fa_previous_step_code_accepted(emu):
    secret = emu.accounts()["demo-2fa"]["totp_secret"]
    meta = step1(emu)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": totp(secret, time.time() - 30)},
    )
    assert resp.status_code == 200, resp.text


def test_2fa_code_far_in_past_rejected(emu):
    secret = emu.accounts()["demo-2fa"]["totp_secret"]
    old = totp(secret, time.time() - 600)
    if old in {totp(secret, time.time() + d) for d in (-30, 0, 30)}:
        pytest.skip("code collision")
    meta = step1(emu)
    resp = auth(emu, {"login_token": meta["login_token"]}, headers={"X-Electricimp-OTP-Token": old})
    assert_error(resp, "PX201", auth=True)


def test_2fa_otp_whitespace_trimmed(emu):
    meta = step1(emu)
    # header values lose surrounding whitespace in HTTP itself; the body form keeps it
    resp = auth(emu, {"login_token": meta["login_token"], "password": f"  {emu.otp('demo-2fa')} "})
    assert resp.status_code == 200, resp.text


def test_2fa_header_wins_over_body(emu):
    meta = step1(emu)
    good, bad = emu.otp("demo-2fa"), wrong_otp(emu)
    resp = auth(
        emu,
        {"login_token": meta["login_token"], "password": good},
        headers={"X-Electricimp-OTP-Token": bad},
    )
    assert_error(resp, "PX201", auth=True)
    resp = auth(
        emu,
        {"login_token": meta["login_token"], "password": bad},
        headers={"X-Electricimp-OTP-Token": good},
    )
    assert resp.status_code == 200, resp.text


def test_2fa_login_token_means_second_step_id_ignored(emu):
    meta = step1(emu)
    resp = auth(
        emu,
        {"login_token": meta["login_token"], "id": "demo"},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert resp.status_code == 200, resp.text
    me = assert_ok(emu.get("/accounts/me", token=resp.json()["access_token"]))
    assert me["attributes"]["username"] == "demo-2fa"


def test_2fa_missing_otp_px201_token_still_usable(emu):
    meta = step1(emu)
    assert_error(auth(emu, {"login_token": meta["login_token"]}), "PX201", auth=True)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert resp.status_code == 200


def test_2fa_four_wrong_then_right_succeeds(emu):
    meta = step1(emu)
    bad = wrong_otp(emu)
    for _ in range(4):
        resp = auth(
            emu, {"login_token": meta["login_token"]}, headers={"X-Electricimp-OTP-Token": bad}
        )
        assert_error(resp, "PX201", auth=True)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert resp.status_code == 200, resp.text


def test_2fa_fifth_wrong_otp_voids_login_token(emu):
    meta = step1(emu)
    bad = wrong_otp(emu)
    for _ in range(5):
        resp = auth(
            emu, {"login_token": meta["login_token"]}, headers={"X-Electricimp-OTP-Token": bad}
        )
        assert_error(resp, "PX201", auth=True)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert_error(resp, "PX202", auth=True)


def test_2fa_login_token_single_use(emu):
    meta = step1(emu)
    hdr = {"X-Electricimp-OTP-Token": emu.otp("demo-2fa")}
    assert auth(emu, {"login_token": meta["login_token"]}, headers=hdr).status_code == 200
    assert_error(auth(emu, {"login_token": meta["login_token"]}, headers=hdr), "PX202", auth=True)


def test_2fa_login_token_expires(emu):
    meta = step1(emu)
    advance(emu, 301)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert_error(resp, "PX202", auth=True)


def test_2fa_login_token_valid_before_expiry(emu):
    meta = step1(emu)
    advance(emu, 250)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert resp.status_code == 200, resp.text


def test_2fa_login_token_lifetime_configurable(emu):
    emu.config(login_token_lifetime_s=10)
    meta = step1(emu)
    advance(emu, 11)
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert_error(resp, "PX202", auth=True)


def test_2fa_unknown_login_token(emu):
    resp = auth(emu, {"login_token": "A" * 43}, headers={"X-Electricimp-OTP-Token": "123456"})
    assert_error(resp, "PX202", auth=True)


def test_2fa_login_token_voided_by_control(emu):
    meta = step1(emu)
    emu.control("POST", "/tokens/expire", {"kind": "login"})
    resp = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    )
    assert_error(resp, "PX202", auth=True)


def test_otp_for_non_2fa_account_is_404(emu):
    resp = emu.http.get(emu.control_url + "/otp", params={"account": "demo"}, timeout=10)
    assert resp.status_code == 404
    assert "error" in resp.json()


# -- /auth/token ----------------------------------------------------------------------------------


def login_body(emu, user="demo") -> dict:
    resp = auth(emu, {"id": user, "password": password(emu, user)})
    assert resp.status_code == 200
    return resp.json()


def test_refresh_token_exchange(emu):
    tokens = login_body(emu)
    resp = auth(emu, {"token": tokens["refresh_token"]}, path="/auth/token")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"access_token", "expires_in", "expires_at"}
    assert body["access_token"] != tokens["access_token"]
    assert body["expires_in"] == 3600
    assert_ok(emu.get("/accounts/me", token=body["access_token"]))
    # not rotated: the same refresh token keeps working
    assert auth(emu, {"token": tokens["refresh_token"]}, path="/auth/token").status_code == 200


def test_refresh_on_2fa_account_needs_no_otp(emu):
    meta = step1(emu)
    tokens = auth(
        emu,
        {"login_token": meta["login_token"]},
        headers={"X-Electricimp-OTP-Token": emu.otp("demo-2fa")},
    ).json()
    resp = auth(emu, {"token": tokens["refresh_token"]}, path="/auth/token")
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    "body",
    [{}, {"token": "a", "key": "b"}, {"token": 5}, {"key": None}, [], "x", {"other": "x"}],
)
def test_auth_token_bad_shape_vx103(emu, body):
    assert_error(auth(emu, body, path="/auth/token"), "VX103", auth=True)


def test_auth_token_not_json_vx100(emu):
    assert_error(auth(emu, data=b"{{", path="/auth/token"), "VX100", auth=True)


@pytest.mark.parametrize("body", [{"token": "0" * 64}, {"key": "no-such-key"}])
def test_auth_token_unknown_credential_nf103(emu, body):
    assert_error(auth(emu, body, path="/auth/token"), "NF103", auth=True)


def test_refresh_token_is_case_sensitive(emu):
    tokens = login_body(emu)
    resp = auth(emu, {"token": tokens["refresh_token"].upper()}, path="/auth/token")
    assert_error(resp, "NF103", auth=True)


def test_sixth_refresh_token_revokes_oldest(emu):
    first = login_body(emu)["refresh_token"]
    others = [login_body(emu)["refresh_token"] for _ in range(5)]
    assert_error(auth(emu, {"token": first}, path="/auth/token"), "NF103", auth=True)
    for tok in others:
        assert auth(emu, {"token": tok}, path="/auth/token").status_code == 200
    records = emu.list_all("/accounts/me/refresh_tokens")
    assert len(records) == 5


def test_refresh_tokens_per_account_configurable(emu):
    emu.config(refresh_tokens_per_account=2)
    toks = [login_body(emu)["refresh_token"] for _ in range(3)]
    assert_error(auth(emu, {"token": toks[0]}, path="/auth/token"), "NF103", auth=True)
    assert auth(emu, {"token": toks[1]}, path="/auth/token").status_code == 200


def test_refresh_tokens_revoked_by_control(emu):
    tok = login_body(emu)["refresh_token"]
    emu.control("POST", "/tokens/expire", {"kind": "refresh"})
    assert_error(auth(emu, {"token": tok}, path="/auth/token"), "NF103", auth=True)


def test_tokens_expire_limited_to_account(emu):
    demo_tok = login_body(emu)
    collab_tok = login_body(emu, "demo-collab")
    emu.control("POST", "/tokens/expire", {"kind": "all", "account": "demo-collab"})
    assert_error(emu.get("/accounts/me", token=collab_tok["access_token"]), "PX101")
    assert_error(
        auth(emu, {"token": collab_tok["refresh_token"]}, path="/auth/token"), "NF103", auth=True
    )
    assert_ok(emu.get("/accounts/me", token=demo_tok["access_token"]))
    assert auth(emu, {"token": demo_tok["refresh_token"]}, path="/auth/token").status_code == 200


# -- using access tokens --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Basic ZGVtbzpkZW1v", "Bearer", "Bearer ", "Token abc", "Bearer not-a-token"],
)
def test_missing_or_invalid_token_px100(emu, header):
    headers = {} if header is None else {"Authorization": header}
    resp = emu.get("/products", as_user=None, headers=headers)
    assert_error(resp, "PX100")


def test_bearer_scheme_case_insensitive(emu):
    tok = emu.login()
    for scheme in ("bearer", "BEARER", "BeArEr"):
        resp = emu.get("/products", as_user=None, headers={"Authorization": f"{scheme} {tok}"})
        assert resp.status_code == 200, resp.text


def test_access_token_case_sensitive(emu):
    tok = emu.login()
    swapped = tok.swapcase()
    if swapped == tok:
        pytest.skip("token without letters")
    assert_error(emu.get("/products", token=swapped), "PX100")


def test_access_token_expires_with_clock(emu):
    tok = emu.login()
    assert_ok(emu.get("/products", token=tok))
    advance(emu, 3000)
    assert_ok(emu.get("/products", token=tok))
    advance(emu, 601)
    assert_error(emu.get("/products", token=tok), "PX101")


def test_expired_token_can_be_replaced_by_refresh(emu):
    tokens = login_body(emu)
    advance(emu, 3601)
    assert_error(emu.get("/products", token=tokens["access_token"]), "PX101")
    resp = auth(emu, {"token": tokens["refresh_token"]}, path="/auth/token")
    assert resp.status_code == 200
    assert_ok(emu.get("/products", token=resp.json()["access_token"]))


def test_access_tokens_expired_by_control(emu):
    tok = emu.login()
    counts = emu.control("POST", "/tokens/expire", {"kind": "access"})
    assert counts is not None
    assert_error(emu.get("/products", token=tok), "PX101")


def test_short_lifetime_then_clock(emu):
    emu.config(access_token_lifetime_s=5)
    tok = login_body(emu)["access_token"]
    advance(emu, 6)
    assert_error(emu.get("/accounts/me", token=tok), "PX101")


def test_revoked_refresh_token_leaves_access_token_valid(emu):
    tokens = login_body(emu)
    rec = emu.list_all("/accounts/me/refresh_tokens", token=tokens["access_token"])
    for r in rec:
        assert_ok(
            emu.delete(f"/accounts/me/refresh_tokens/{r['id']}", token=tokens["access_token"]), 204
        )
    assert_ok(emu.get("/accounts/me", token=tokens["access_token"]))
    assert_error(
        auth(emu, {"token": tokens["refresh_token"]}, path="/auth/token"), "NF103", auth=True
    )
