"""Contract tests for accounts (§3.1), login keys (§2.6) and refresh-token records (§2.7)."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import (
    TS_RE,
    UUID_RE,
    advance,
    assert_error,
    assert_ok,
    assert_resource,
)

KEYS = "/accounts/me/login_keys"


def pw(emu, user="demo") -> dict:
    return {"X-Electricimp-Password": emu.accounts()[user]["password"]}


def key_body(description="CI key", **extra) -> dict:
    attrs = {} if description is ... else {"description": description}
    return {"data": {"type": "login_key", "attributes": attrs, **extra}}


def create_key(emu, description="CI key", user="demo") -> dict:
    return assert_ok(
        emu.post(KEYS, json=key_body(description), headers=pw(emu, user), as_user=user), 201
    )


def exchange_key(emu, key_id: str):
    return emu.post(
        "/auth/token",
        json={"key": key_id},
        as_user=None,
        headers={"Content-Type": "application/json"},
    )


# -- accounts -------------------------------------------------------------------------------------


def test_accounts_me(emu):
    accts = emu.accounts()
    me = assert_ok(emu.get("/accounts/me"))
    assert_resource(me, "account", emu.base)
    assert me["id"] == accts["demo"]["id"]
    assert UUID_RE.match(me["id"])
    assert me["attributes"] == {"username": "demo", "email": accts["demo"]["email"]}
    assert me["relationships"] == {}
    assert me["links"]["self"] == f"{emu.base}/accounts/{me['id']}"


def test_accounts_by_id_and_visibility(emu):
    accts = emu.accounts()
    collab = assert_ok(emu.get(f"/accounts/{accts['demo-collab']['id']}"))
    assert collab["attributes"]["username"] == "demo-collab"
    assert_error(emu.get(f"/accounts/{accts['demo-2fa']['id']}"), "NF100")
    assert_error(emu.get("/accounts/00000000-0000-0000-0000-000000000000"), "NF100")


def test_accounts_id_case_insensitive(emu):
    aid = emu.accounts()["demo"]["id"]
    got = assert_ok(emu.get(f"/accounts/{aid.upper()}"))
    assert got["id"] == aid


def test_accounts_list_caller_first(emu):
    items = emu.list_all("/accounts")
    assert [a["attributes"]["username"] for a in items] == ["demo", "demo-collab"]
    items = emu.list_all("/accounts", as_user="demo-collab")
    assert [a["attributes"]["username"] for a in items] == ["demo-collab", "demo"]
    items = emu.list_all("/accounts", as_user="demo-2fa")
    assert [a["attributes"]["username"] for a in items] == ["demo-2fa"]


def test_accounts_filter_refused(emu):
    assert_error(emu.get("/accounts", params={"filter[owner.id]": "me"}), "VX108")


def test_accounts_capabilities_not_served(emu):
    assert_error(emu.get("/accounts/me/capabilities"), "NF102")


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_accounts_read_only(emu, method):
    resp = emu.request(method, "/accounts/me", json={"data": {"type": "account"}})
    assert_error(resp, "VX120")
    assert "GET" in resp.headers["Allow"]


def test_accounts_collection_post_405(emu):
    resp = emu.post("/accounts", json={"data": {"type": "account"}})
    assert_error(resp, "VX120")
    assert [m.strip() for m in resp.headers["Allow"].split(",")] == ["GET"]


# -- login keys -----------------------------------------------------------------------------------


def test_login_key_create_shape(emu):
    key = create_key(emu)
    assert_resource(key, "login_key", emu.base)
    assert UUID_RE.match(key["id"])
    attrs = key["attributes"]
    assert attrs["description"] == "CI key"
    assert attrs["usages"] == 0
    assert attrs["last_used_at"] is None
    assert TS_RE.match(attrs["created_at"])
    assert set(attrs) == {"description", "usages", "created_at", "last_used_at"}
    assert key["relationships"]["owner"] == {"type": "account", "id": emu.accounts()["demo"]["id"]}
    assert key["links"]["self"] == f"{emu.base}/accounts/me/login_keys/{key['id']}"


def test_login_key_description_optional_and_null(emu):
    resp = emu.post(KEYS, json=key_body(...), headers=pw(emu))
    assert assert_ok(resp, 201)["attributes"]["description"] is None
    resp = emu.post(KEYS, json=key_body(None), headers=pw(emu))
    assert assert_ok(resp, 201)["attributes"]["description"] is None


def test_login_key_description_255_ok_256_vx106(emu):
    assert_ok(emu.post(KEYS, json=key_body("d" * 255), headers=pw(emu)), 201)
    assert_error(emu.post(KEYS, json=key_body("d" * 256), headers=pw(emu)), "VX106")


@pytest.mark.parametrize(
    "headers", [{}, {"X-Electricimp-Password": "wrong"}, {"X-Electricimp-Password": ""}]
)
def test_login_key_create_needs_password(emu, headers):
    assert_error(emu.post(KEYS, json=key_body(), headers=headers), "PX203")
    assert emu.list_all(KEYS) == []


def test_login_key_password_checked_before_attributes(emu):
    # §4.2: secret headers (8) before attribute validation (9)
    resp = emu.post(KEYS, json=key_body("d" * 300), headers={"X-Electricimp-Password": "no"})
    assert_error(resp, "PX203")


def test_login_key_wrong_type_vx102(emu):
    body = {"data": {"type": "product", "attributes": {"description": "x"}}}
    assert_error(emu.post(KEYS, json=body, headers=pw(emu)), "VX102")


def test_login_key_unknown_attribute_vx104(emu):
    body = {"data": {"type": "login_key", "attributes": {"usages": 3}}}
    assert_error(emu.post(KEYS, json=body, headers=pw(emu)), "VX104")


def test_login_key_eleventh_cx115(emu):
    for i in range(10):
        create_key(emu, f"k{i}")
    err = assert_error(emu.post(KEYS, json=key_body("k10"), headers=pw(emu)), "CX115")
    assert "10" in err["detail"]
    assert len(emu.list_all(KEYS)) == 10


def test_login_key_limit_configurable(emu):
    emu.config(login_keys_per_account=2)
    create_key(emu)
    create_key(emu)
    err = assert_error(emu.post(KEYS, json=key_body(), headers=pw(emu)), "CX115")
    assert "2" in err["detail"]


def test_login_key_list_get_order(emu):
    made = [create_key(emu, f"k{i}") for i in range(3)]
    listed = emu.list_all(KEYS)
    assert [k["id"] for k in listed] == [k["id"] for k in made]
    got = assert_ok(emu.get(f"{KEYS}/{made[1]['id']}"))
    assert got == made[1]


def test_login_key_paths_accept_own_id_not_others(emu):
    key = create_key(emu)
    accts = emu.accounts()
    own = assert_ok(emu.get(f"/accounts/{accts['demo']['id']}/login_keys/{key['id']}"))
    assert own["id"] == key["id"]
    assert len(assert_ok(emu.get(f"/accounts/{accts['demo']['id']}/login_keys"))) == 1
    assert_error(emu.get(f"/accounts/{accts['demo-collab']['id']}/login_keys"), "NF100")
    assert_error(emu.get(f"/accounts/{accts['demo-collab']['id']}/login_keys/{key['id']}"), "NF100")


def test_login_key_invisible_to_other_account(emu):
    key = create_key(emu)
    assert_error(emu.get(f"{KEYS}/{key['id']}", as_user="demo-collab"), "NF100")


def test_login_key_unknown_nf100(emu):
    assert_error(emu.get(f"{KEYS}/00000000-0000-0000-0000-000000000000"), "NF100")
    assert_error(
        emu.delete(f"{KEYS}/00000000-0000-0000-0000-000000000000", headers=pw(emu)), "NF100"
    )


def test_login_key_unknown_before_password(emu):
    # §4.2: the resource in the path (7) is checked before secret headers (8)
    resp = emu.delete(
        f"{KEYS}/00000000-0000-0000-0000-000000000000", headers={"X-Electricimp-Password": "wrong"}
    )
    assert_error(resp, "NF100")


def test_login_key_exchange_counts_usage(emu):
    key = create_key(emu)
    resp = exchange_key(emu, key["id"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"access_token", "expires_in", "expires_at"}
    assert (
        assert_ok(emu.get("/accounts/me", token=body["access_token"]))["attributes"]["username"]
        == "demo"
    )
    assert exchange_key(emu, key["id"]).status_code == 200
    got = assert_ok(emu.get(f"{KEYS}/{key['id']}"))
    assert got["attributes"]["usages"] == 2
    assert TS_RE.match(got["attributes"]["last_used_at"])


def test_login_key_update(emu):
    key = create_key(emu)
    advance(emu, 2)
    body = {"data": {"type": "login_key", "id": key["id"], "attributes": {"description": "new"}}}
    got = assert_ok(emu.patch(f"{KEYS}/{key['id']}", json=body, headers=pw(emu)))
    assert got["attributes"]["description"] == "new"
    assert assert_ok(emu.get(f"{KEYS}/{key['id']}"))["attributes"]["description"] == "new"


@pytest.mark.parametrize(
    ("attrs", "code"),
    [
        ({"usages": 5}, "VX104"),
        ({"created_at": "2020-01-01T00:00:00.000Z"}, "VX104"),
        ({"description": "x" * 256}, "VX106"),
    ],
)
def test_login_key_update_invalid(emu, attrs, code):
    key = create_key(emu)
    body = {"data": {"type": "login_key", "id": key["id"], "attributes": attrs}}
    assert_error(emu.patch(f"{KEYS}/{key['id']}", json=body, headers=pw(emu)), code)


def test_login_key_update_needs_password(emu):
    key = create_key(emu)
    body = {"data": {"type": "login_key", "id": key["id"], "attributes": {"description": "n"}}}
    assert_error(emu.patch(f"{KEYS}/{key['id']}", json=body), "PX203")
    assert assert_ok(emu.get(f"{KEYS}/{key['id']}"))["attributes"]["description"] == "CI key"


def test_login_key_delete(emu):
    key = create_key(emu)
    tok = exchange_key(emu, key["id"]).json()["access_token"]
    assert_error(emu.delete(f"{KEYS}/{key['id']}"), "PX203")
    assert_ok(emu.delete(f"{KEYS}/{key['id']}", headers=pw(emu)), 204)
    assert_error(emu.get(f"{KEYS}/{key['id']}"), "NF100")
    assert_error(exchange_key(emu, key["id"]), "NF103", auth=True)
    # an access token obtained with it stays valid
    assert_ok(emu.get("/accounts/me", token=tok))


def test_login_key_is_case_sensitive_secret(emu):
    key = create_key(emu)
    resp = exchange_key(emu, key["id"].upper())
    assert_error(resp, "NF103", auth=True)


def test_login_keys_filter_refused(emu):
    assert_error(emu.get(KEYS, params={"filter[owner.id]": "me"}), "VX108")


# -- refresh-token records ------------------------------------------------------------------------


def fresh_login(emu, user="demo") -> dict:
    acct = emu.accounts()[user]
    resp = emu.post(
        "/auth",
        json={"id": user, "password": acct["password"]},
        as_user=None,
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 200
    return resp.json()


def test_refresh_token_records(emu):
    t1 = fresh_login(emu)
    fresh_login(emu)
    recs = emu.list_all("/accounts/me/refresh_tokens", token=t1["access_token"])
    assert len(recs) == 2
    for r in recs:
        assert_resource(r, "refresh_token", emu.base)
        assert UUID_RE.match(r["id"])
        assert TS_RE.match(r["attributes"]["created_at"])
        assert r["relationships"]["owner"]["id"] == emu.accounts()["demo"]["id"]
        assert t1["refresh_token"] not in str(r)
    assert recs[0]["attributes"]["created_at"] <= recs[1]["attributes"]["created_at"]


def test_refresh_token_last_used_updated(emu):
    t1 = fresh_login(emu)
    (rec,) = emu.list_all("/accounts/me/refresh_tokens", token=t1["access_token"])
    before = rec["attributes"].get("last_used_at")
    advance(emu, 5)
    resp = emu.post("/auth/token", json={"token": t1["refresh_token"]}, as_user=None)
    assert resp.status_code == 200
    (rec,) = emu.list_all("/accounts/me/refresh_tokens", token=t1["access_token"])
    after = rec["attributes"]["last_used_at"]
    assert TS_RE.match(after)
    assert before is None or after > before


def test_refresh_token_records_per_account(emu):
    fresh_login(emu)
    other = fresh_login(emu, "demo-collab")
    assert len(emu.list_all("/accounts/me/refresh_tokens", token=other["access_token"])) == 1


def test_delete_refresh_token_by_record_id(emu):
    t1 = fresh_login(emu)
    (rec,) = emu.list_all("/accounts/me/refresh_tokens", token=t1["access_token"])
    assert_ok(emu.delete(f"/accounts/me/refresh_tokens/{rec['id']}", token=t1["access_token"]), 204)
    resp = emu.post("/auth/token", json={"token": t1["refresh_token"]}, as_user=None)
    assert_error(resp, "NF103", auth=True)
    assert emu.list_all("/accounts/me/refresh_tokens", token=t1["access_token"]) == []
    assert_error(
        emu.delete(f"/accounts/me/refresh_tokens/{rec['id']}", token=t1["access_token"]), "NF100"
    )


def test_delete_refresh_token_by_value(emu):
    t1 = fresh_login(emu)
    assert_ok(
        emu.delete(f"/accounts/me/refresh_tokens/{t1['refresh_token']}", token=t1["access_token"]),
        204,
    )
    resp = emu.post("/auth/token", json={"token": t1["refresh_token"]}, as_user=None)
    assert_error(resp, "NF103", auth=True)
    assert_ok(emu.get("/accounts/me", token=t1["access_token"]))


def test_delete_unknown_or_foreign_refresh_token(emu):
    assert_error(
        emu.delete("/accounts/me/refresh_tokens/00000000-0000-0000-0000-000000000000"), "NF100"
    )
    other = fresh_login(emu, "demo-collab")
    assert_error(emu.delete(f"/accounts/me/refresh_tokens/{other['refresh_token']}"), "NF100")
    resp = emu.post("/auth/token", json={"token": other["refresh_token"]}, as_user=None)
    assert resp.status_code == 200


def test_refresh_tokens_filter_refused(emu):
    assert_error(emu.get("/accounts/me/refresh_tokens", params={"filter[owner.id]": "me"}), "VX108")


def test_login_key_patch_id_mismatch(emu):
    a, b = create_key(emu, "a"), create_key(emu, "b")
    body = {"data": {"type": "login_key", "id": b["id"], "attributes": {"description": "x"}}}
    assert_error(emu.patch(f"{KEYS}/{a['id']}", json=body, headers=pw(emu)), "VX101")
