"""Records: tolerant parsing of resource objects, relationships, timestamps, log entries (§1.5,
§1.7, §3.4.8, §7.1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from impdesk.api.errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    CompileError,
    Conflict,
    InvalidOtp,
    NotFound,
    OtpRequired,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationError,
    error_from_response,
)
from impdesk.api.records import (
    Account,
    Deployment,
    Device,
    DeviceGroup,
    LogEntry,
    LoginKey,
    Product,
    Resource,
    parse_time,
    record_from_json,
    relationship_ref,
)

DEVICE_ID = "234776801163a9ee"
GROUP = {"type": "development_devicegroup", "id": "27f8ee81-59cd-a9ad-d2a4-e430e4e19ae9"}


def device(relationships=None, **attributes) -> dict:
    obj = {"type": "device", "id": DEVICE_ID, "links": {"self": "x"},
           "attributes": {"name": None, "device_online": True, **attributes}}
    if relationships is not None:
        obj["relationships"] = relationships
    return obj


@pytest.mark.parametrize("rels", [
    {"owner": {"type": "account", "id": "a"}},
    {"owner": {"type": "account", "id": "a"}, "devicegroup": None, "product": None},
    {"owner": {"type": "account", "id": "a"}, "devicegroup": {"data": None}},
    None,  # no relationships member at all
    {"devicegroup": {}},
])
def test_unset_relationship_forms_mean_unassigned(rels):
    d = record_from_json(device(rels))
    assert isinstance(d, Device)
    assert d.devicegroup_id is None and d.devicegroup_type is None and d.product_id is None


@pytest.mark.parametrize("value", [GROUP, {"data": GROUP}])
def test_bare_and_wrapped_relationships(value):
    d = record_from_json(device({"devicegroup": value}))
    assert d.devicegroup_id == GROUP["id"]
    assert d.devicegroup_type == "development_devicegroup"


def test_relationship_ref_edge_cases():
    assert relationship_ref(None) is None
    assert relationship_ref({"data": None}) is None
    assert relationship_ref({"type": "x"}) is None
    assert relationship_ref("garbage") is None
    assert relationship_ref({"data": {"type": "t", "id": 5}}) == ("t", "5")


def test_unknown_attributes_are_kept_and_nulls_tolerated():
    d = record_from_json(device({}, future_thing={"a": 1}, agent_id="", imp_type=None))
    assert d.attributes["future_thing"] == {"a": 1}
    assert d.agent_id is None  # "" and null both mean no agent (§7.1 #53)
    assert d.imp_type == "" and d.name == "" and d.display_name == DEVICE_ID
    assert d.attr("imp_type", "?") == "?"


def test_non_object_members_are_tolerated():
    r = record_from_json({"type": "product", "id": "p", "attributes": None,
                          "relationships": ["nonsense"]})
    assert isinstance(r, Product) and r.attributes == {} and r.relationships == {}
    assert r.created_at is None and r.name == ""


def test_record_types():
    assert isinstance(record_from_json({"type": "account", "id": "a"}), Account)
    assert isinstance(record_from_json({"type": "deployment", "id": "d"}), Deployment)
    for t in ("production_devicegroup", "pre_dut_devicegroup", "new_fancy_devicegroup"):
        g = record_from_json({"type": t, "id": "g"})
        assert isinstance(g, DeviceGroup) and g.group_type == t
    assert type(record_from_json({"type": "gizmo", "id": "z"})) is Resource


def test_group_properties():
    g = record_from_json({"type": "factoryfixture_devicegroup", "id": "g", "attributes": {
        "name": "F", "env_vars": {"A": 1}}, "relationships": {
        "production_target": {"type": "production_devicegroup", "id": "p"},
        "dut_target": {"data": {"type": "dut_devicegroup", "id": "d"}},
        "current_deployment": None}})
    assert (g.production_target_id, g.dut_target_id) == ("p", "d")
    assert g.current_deployment_id is None and g.env_vars == {"A": 1} and not g.is_production


def test_deployment_tags_tolerance():
    d = record_from_json({"type": "deployment", "id": "d", "attributes": {"tags": None}})
    assert d.tags == [] and not d.flagged


def test_login_key_repr_hides_the_secret_id():
    key = record_from_json({"type": "login_key", "id": "secret-key-id",
                            "attributes": {"description": "CI"}})
    assert isinstance(key, LoginKey) and "secret-key-id" not in repr(key)


EXPECTED = datetime(2018, 1, 22, 18, 33, 59, tzinfo=UTC)


@pytest.mark.parametrize("text, micro", [
    ("2018-01-22T18:33:59Z", 0),
    ("2018-01-22T18:33:59.5Z", 500000),
    ("2018-01-22T18:33:59.53Z", 530000),
    ("2018-01-22T18:33:59.537Z", 537000),
    ("2018-01-22T18:33:59.5371Z", 537100),
    ("2018-01-22T18:33:59.53712Z", 537120),
    ("2018-01-22T18:33:59.537123Z", 537123),
    ("2018-01-22T18:33:59.537+00:00", 537000),
    ("2018-01-22T18:33:59+00:00", 0),
    ("2018-01-22T19:33:59.537+01:00", 537000),
])
def test_timestamps_with_0_to_6_fraction_digits_and_offsets(text, micro):
    assert parse_time(text) == EXPECTED.replace(microsecond=micro)


@pytest.mark.parametrize("bad", [None, "", "yesterday", 12, "2018-13-45T00:00:00Z"])
def test_bad_timestamps_give_none(bad):
    assert parse_time(bad) is None


def test_log_entry_aliases_and_missing_fields():
    e = LogEntry.from_json({"ts": "2026-11-26T10:33:59.537Z", "type": "server.log", "msg": "hi"},
                           DEVICE_ID)
    assert (e.device_id, e.type, e.log_type) == (DEVICE_ID, "device.log", None)
    assert LogEntry.from_json({"type": "server.error"}).type == "device.error"
    assert LogEntry.from_json({"type": "weird.type", "msg": None}).type == "weird.type"
    assert LogEntry.from_json({"type": "weird.type", "msg": None}).msg == ""
    streamed = LogEntry.from_json({"device_id": "abc", "ts": "t", "type": "status", "msg": ""},
                                  DEVICE_ID)
    assert streamed.device_id == "abc"
    assert e.time == datetime(2026, 11, 26, 10, 33, 59, 537000, tzinfo=UTC)


# -- error documents (§4.5) -------------------------------------------------------------------
def _doc(code, status="400", meta=None) -> bytes:
    import json
    item = {"status": status, "code": code, "title": "T", "detail": "D"}
    if meta is not None:
        item["meta"] = meta
    return json.dumps({"errors": [item]}).encode()


@pytest.mark.parametrize("status, code, cls", [
    (400, "VX104", ValidationError), (400, "CX005", CompileError), (400, "NF100", BadRequest),
    (401, "PX100", AuthenticationError), (401, "PX101", AuthenticationError),
    (401, "PX201", InvalidOtp), (401, "PX202", AuthenticationError),
    (403, "PX200", OtpRequired), (403, "PX203", PermissionDenied),
    (403, "PX301", PermissionDenied), (404, "NF103", NotFound), (409, "CX100", Conflict),
    (400, "CX110", BadRequest), (429, "PX400", RateLimited), (503, "XX503", ServerError),
    (409, "ZZ999", Conflict), (418, "ZZ999", ApiError),
])
def test_error_class_by_code_then_status(status, code, cls):
    err = error_from_response(status, _doc(code, str(status)))
    assert type(err) is cls and err.code == code and err.status == status
    assert str(err) == f"{status} {code} T: D" and err.user_message == "T: D"


def test_error_tolerance_numeric_status_legacy_and_non_json():
    err = error_from_response(409, b'{"errors":[{"status":409,"code":"CX101"}]}')
    assert isinstance(err, Conflict) and err.errors[0].status == 409
    legacy = error_from_response(500, b'{"message": "boom"}')
    assert isinstance(legacy, ServerError) and legacy.detail == "boom"
    proxy = error_from_response(502, b"<html>Bad Gateway</html>")
    assert isinstance(proxy, ServerError) and str(proxy) == "502 Bad Gateway" and proxy.code is None
    several = error_from_response(400, b'{"errors":[{"status":"404","code":"NF104"},'
                                       b'{"status":"404","code":"NF100"}]}')
    assert [e.code for e in several.errors] == ["NF104", "NF100"]


def test_compile_error_items_and_otp_required_token():
    items = [{"file": "device_code", "type": "error", "row": 1, "column": 14, "text": "x"}]
    err = error_from_response(400, _doc("CX005", meta=items))
    assert isinstance(err, CompileError) and err.items == items
    otp = error_from_response(403, _doc("PX200", "403", {"login_token": "LT", "expires_at": "x"}))
    assert isinstance(otp, OtpRequired) and otp.login_token == "LT"
    assert "LT" not in repr(otp) and "LT" not in str(otp)
