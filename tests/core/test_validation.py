"""Input checks made before anything is sent (names, descriptions, env vars)."""

from __future__ import annotations

import pytest

from impdesk.api.records import Account, DeviceGroup, Product
from impdesk.api.snapshot import Snapshot
from impdesk.core.validation import (
    NUMBER,
    STRING,
    EnvRow,
    check_description,
    check_device_name,
    check_env_rows,
    check_env_vars,
    check_name,
    check_region,
    env_size,
    group_names,
    product_names,
    rows_from_env,
)


@pytest.mark.parametrize("name", ["", " ", "\t \n", "x" * 81])
def test_bad_names_are_refused(name):
    assert check_name(name) is not None


@pytest.mark.parametrize("name", ["x", "x" * 80, " padded ", "<b>x</b>"])
def test_good_names_pass(name):
    assert check_name(name) is None


def test_names_are_unique_exactly_within_their_scope():
    assert "already named" in check_name("Alpha", {"Alpha"})
    assert check_name("alpha", {"Alpha"}) is None  # exact, case-sensitive comparison
    assert "of this product" in check_name("Dev", {"Dev"}, "device group")


def test_device_names_may_be_empty_but_not_too_long():
    assert check_device_name("") is None
    assert check_device_name("x" * 80) is None
    assert check_device_name("x" * 81) is not None


def test_descriptions_up_to_255():
    assert check_description(None) is None
    assert check_description("d" * 255) is None
    assert "255" in check_description("d" * 256)


def test_region_1_to_64_on_production_types_only():
    for type_ in ("production_devicegroup", "pre_production_devicegroup"):
        assert check_region("eu-west", type_) is None
        assert check_region("r" * 64, type_) is None
        assert "at most 64" in check_region("r" * 65, type_)
    assert check_region("", "development_devicegroup") is None  # absent: nothing to check
    assert check_region(None, "dut_devicegroup") is None
    assert "Only production" in check_region("eu", "development_devicegroup")


def _snap():
    me, other = Account("me", "account"), Account("other", "account")

    def product(pid, name, owner):
        return Product(pid, "product", {"name": name}, {"owner": ("account", owner)})

    groups = [DeviceGroup("g1", "development_devicegroup", {"name": "Dev"},
                          {"product": ("product", "p1")}),
              DeviceGroup("g2", "development_devicegroup", {"name": "Other"},
                          {"product": ("product", "p2")})]
    snap = Snapshot([product("p1", "Mine", "me"), product("p2", "Theirs", "other")], groups, [],
                    [me, other])
    snap.me = me
    return snap


def test_scopes_products_per_owner_and_groups_per_product():
    snap = _snap()
    assert product_names(snap, None) == {"Mine"}
    assert product_names(snap, "other") == {"Theirs"}
    assert product_names(snap, "me", exclude_id="p1") == set()
    assert group_names(snap, "p1") == {"Dev"}
    assert group_names(snap, "p1", exclude_id="g1") == set()


@pytest.mark.parametrize("key", ["a", "A1_b", "x" * 64])
def test_env_keys_that_pass(key):
    env, errors, overall = check_env_rows([EnvRow(key, "v")])
    assert env == {key: "v"} and not errors and overall is None


@pytest.mark.parametrize("key", ["1a", "_a", "a-b", "a b", "x" * 65, "ä"])
def test_env_keys_that_fail_name_their_row(key):
    env, errors, _ = check_env_rows([EnvRow("ok", "1"), EnvRow(key, "v")])
    assert env == {"ok": "1"} and list(errors) == [1]


def test_env_rows_types_duplicates_blank_rows_and_size():
    rows = [EnvRow("N", "3", NUMBER), EnvRow("F", "2.5", NUMBER), EnvRow("S", "3", STRING),
            EnvRow("", ""), EnvRow("N", "4", NUMBER), EnvRow("X", "abc", NUMBER)]
    env, errors, overall = check_env_rows(rows)
    assert env == {"N": 3, "F": 2.5, "S": "3"}
    assert set(errors) == {4, 5} and "twice" in errors[4] and "not a number" in errors[5]
    assert overall is None
    big = [EnvRow("BIG", "x" * (16 * 1024))]
    _, errors, overall = check_env_rows(big)
    assert not errors and "16 KiB" in overall


def test_env_round_trip_and_whole_object_checks():
    env = {"url": "https://example.com", "version": 1, "ratio": 0.5}
    rows = rows_from_env(env)
    assert [r.kind for r in rows] == [STRING, NUMBER, NUMBER]
    assert check_env_rows(rows)[0] == env
    assert check_env_vars(env) is None
    assert check_env_vars({"ok": True}) is not None  # booleans are not numbers
    assert check_env_vars({"1x": "v"}) is not None
    assert check_env_vars({"k": float("nan")}) is not None
    assert env_size({"a": "é"}) == len('{"a":"é"}'.encode())
