"""Accounts (§3.1), login keys (§2.6) and refresh-token records (§2.7)."""

from __future__ import annotations

import secrets
from typing import Any

from .. import resources
from ..errors import ApiError
from ..framework import (
    Request,
    Response,
    Router,
    check_data_id,
    check_description,
    check_keys,
    data_object,
    no_content,
    ok,
    page_document,
    parse_query,
)
from ..model import Account, LoginKey


def register(router: Router) -> None:
    router.add("GET", "/accounts", list_accounts)
    router.add("GET", "/accounts/{account}", get_account)
    router.add("GET", "/accounts/{account}/login_keys", list_keys)
    router.add("POST", "/accounts/{account}/login_keys", create_key, body=True)
    router.add("GET", "/accounts/{account}/login_keys/{key}", get_key)
    router.add("PATCH", "/accounts/{account}/login_keys/{key}", update_key, body=True)
    router.add("DELETE", "/accounts/{account}/login_keys/{key}", delete_key)
    router.add("GET", "/accounts/{account}/refresh_tokens", list_refresh_tokens)
    router.add("DELETE", "/accounts/{account}/refresh_tokens/{record}", delete_refresh_token)


def _own(req: Request, account: str) -> Account:
    """Login keys and refresh tokens exist only under `me` or the caller's own id."""
    assert req.account is not None
    if account != "me" and account.lower() != req.account.id:
        raise ApiError("NF100", type="account", id=account)
    return req.account


def list_accounts(app: Any, req: Request) -> Response:
    _, page = parse_query(req, {})
    store = app.store
    with store.lock:
        me = req.account
        assert me is not None
        others = sorted((store.accounts[i] for i in store.visible_account_ids(me) if i != me.id),
                        key=lambda a: (a.created_at, a.id))
        items = [me, *others]
        return ok(page_document(req, items, page, lambda a: resources.account(req.base, a)))


def get_account(app: Any, req: Request, account: str) -> Response:
    store = app.store
    with store.lock:
        assert req.account is not None
        acct_id = store.resolve_account_id(req.account, account)
        if acct_id not in store.visible_account_ids(req.account):
            raise ApiError("NF100", type="account", id=account)
        return ok({"data": resources.account(req.base, store.accounts[acct_id])})


def _check_password(req: Request, acct: Account) -> None:
    given = req.header("X-Electricimp-Password")
    if given is None or not secrets.compare_digest(given.encode(), acct.password.encode()):
        raise ApiError("PX203")


def _key_or_404(store: Any, acct: Account, key_id: str) -> LoginKey:
    key = store.login_keys.get(key_id)
    if key is None or key.account_id != acct.id:
        raise ApiError("NF100", type="login_key", id=key_id)
    return key


def list_keys(app: Any, req: Request, account: str) -> Response:
    acct = _own(req, account)
    _, page = parse_query(req, {})
    with app.store.lock:
        keys = sorted((k for k in app.store.login_keys.values() if k.account_id == acct.id),
                      key=lambda k: (k.created_at, k.id))
        return ok(page_document(req, keys, page, lambda k: resources.login_key(req.base, k)))


def create_key(app: Any, req: Request, account: str) -> Response:
    data = data_object(req, "login_key")
    acct = _own(req, account)
    store = app.store
    with store.lock:
        _check_password(req, acct)
        check_keys(data, ("description",), ())
        description = check_description(data.get("attributes", {}).get("description"))
        count = sum(1 for k in store.login_keys.values() if k.account_id == acct.id)
        limit = int(store.config["login_keys_per_account"])
        if count >= limit:
            raise ApiError("CX115", n=limit)
        key = LoginKey(store.new_uuid(), acct.id, description, store.creation_time())
        store.login_keys[key.id] = key
        return ok({"data": resources.login_key(req.base, key)}, 201)


def get_key(app: Any, req: Request, account: str, key: str) -> Response:
    acct = _own(req, account)
    with app.store.lock:
        return ok({"data": resources.login_key(req.base, _key_or_404(app.store, acct, key))})


def update_key(app: Any, req: Request, account: str, key: str) -> Response:
    data = data_object(req, "login_key")
    check_data_id(data, lambda i: i == key)
    acct = _own(req, account)
    with app.store.lock:
        record = _key_or_404(app.store, acct, key)
        _check_password(req, acct)
        check_keys(data, ("description",), ())
        attrs = data.get("attributes", {})
        if "description" in attrs:
            record.description = check_description(attrs["description"])
        return ok({"data": resources.login_key(req.base, record)})


def delete_key(app: Any, req: Request, account: str, key: str) -> Response:
    acct = _own(req, account)
    with app.store.lock:
        record = _key_or_404(app.store, acct, key)
        _check_password(req, acct)
        del app.store.login_keys[record.id]
        return no_content()


def list_refresh_tokens(app: Any, req: Request, account: str) -> Response:
    acct = _own(req, account)
    _, page = parse_query(req, {})
    with app.store.lock:
        records = [r for r in app.store.refresh_tokens.values() if r.account_id == acct.id]
        records.sort(key=lambda r: (r.created_at, r.id))
        return ok(page_document(req, records, page,
                                lambda r: resources.refresh_token(req.base, r)))


def delete_refresh_token(app: Any, req: Request, account: str, record: str) -> Response:
    acct = _own(req, account)
    store = app.store
    with store.lock:
        found = store.refresh_tokens.get(record.lower()) or store.refresh_token_by_value(record)
        if found is None or found.account_id != acct.id:
            raise ApiError("NF100", type="refresh_token", id=record)
        del store.refresh_tokens[found.id]
        return no_content()
