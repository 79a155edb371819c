"""POST /auth (password, 2FA) and POST /auth/token (refresh token, login key) — §2."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from ..clock import iso
from ..errors import ApiError
from ..framework import Request, Response, Router
from ..model import Account, LoginToken
from ..totp import verify


def register(router: Router) -> None:
    router.add("POST", "/auth", login, auth=False, body=True)
    router.add("POST", "/auth/token", token, auth=False, body=True)


def _token_answer(req: Request, acct: Account, with_refresh: bool) -> Response:
    store = req.app.store
    access = base64.b64encode(secrets.token_bytes(48)).decode()
    record = store.issue_access_token(acct, access)
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": int(store.config["access_token_lifetime_s"]),
        "expires_at": iso(record.expires_at),
    }
    if with_refresh:
        refresh = secrets.token_hex(32)
        store.issue_refresh_token(acct, refresh)
        body["refresh_token"] = refresh
    return Response(200, body)


def login(app: Any, req: Request) -> Response:
    body = req.json()
    store = app.store
    if isinstance(body, dict) and "login_token" in body:
        return _second_step(app, req, body)
    if not isinstance(body, dict):
        raise ApiError("VX103", name="id")
    for key in ("id", "password"):
        if not isinstance(body.get(key), str):
            raise ApiError("VX103", name=key)
    with store.lock:
        acct = store.account_by_login(body["id"])
        if acct is None or not secrets.compare_digest(
                acct.password.encode(), body["password"].encode()):
            raise ApiError("PX100")
        if acct.two_factor:
            token = secrets.token_urlsafe(32)
            expires = store.clock.now() + float(store.config["login_token_lifetime_s"])
            store.login_tokens[token] = LoginToken(token, acct.id, expires)
            raise ApiError("PX200", meta={"login_token": token, "expires_at": iso(expires)})
        return _token_answer(req, acct, with_refresh=True)


def _second_step(app: Any, req: Request, body: dict) -> Response:
    store = app.store
    if not isinstance(body["login_token"], str):
        raise ApiError("VX103", name="login_token")
    otp = req.header("X-Electricimp-OTP-Token")
    if otp is None:
        otp = body.get("password") if isinstance(body.get("password"), str) else None
    with store.lock:
        record = store.login_tokens.get(body["login_token"])
        if (record is None or record.used or record.wrong_otps >= 5
                or record.expires_at <= store.clock.now()
                or record.account_id not in store.accounts):
            raise ApiError("PX202")
        acct = store.accounts[record.account_id]
        if otp is None or not acct.totp_secret or not verify(acct.totp_secret, otp):
            record.wrong_otps += 1
            raise ApiError("PX201")
        record.used = True
        return _token_answer(req, acct, with_refresh=True)


def token(app: Any, req: Request) -> Response:
    body = req.json()
    store = app.store
    if not isinstance(body, dict):
        raise ApiError("VX103", name="token")
    has_token, has_key = "token" in body, "key" in body
    if has_token == has_key:
        raise ApiError("VX103", name="token")
    name = "token" if has_token else "key"
    if not isinstance(body[name], str):
        raise ApiError("VX103", name=name)
    with store.lock:
        now = store.clock.now()
        if has_token:
            record = store.refresh_token_by_value(body["token"])
            if record is None or record.account_id not in store.accounts:
                raise ApiError("NF103")
            record.last_used_at = now
            acct = store.accounts[record.account_id]
        else:
            key = store.login_keys.get(body["key"])
            if key is None or key.account_id not in store.accounts:
                raise ApiError("NF103")
            key.usages += 1
            key.last_used_at = now
            acct = store.accounts[key.account_id]
        return _token_answer(req, acct, with_refresh=False)
