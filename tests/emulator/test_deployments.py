"""Contract tests for /deployments, min_supported_deployment and the compile check (§3.5)."""

from __future__ import annotations

import hashlib

import pytest

from tests.emulator.helpers import (
    TS_RE,
    UUID_RE,
    account_id,
    advance,
    alpha_dev,
    assert_error,
    assert_ok,
    assert_resource,
    create_group,
    create_product,
    deploy,
    deployment_body,
    group,
    ident,
)


@pytest.fixture
def grp(emu):
    return create_group(emu, create_product(emu)["id"])


def sha(agent: str, device: str) -> str:
    return hashlib.sha256((agent + device).encode()).hexdigest()


def flag(emu, dep_id, value, as_user="demo"):
    doc = {"data": {"type": "deployment", "id": dep_id, "attributes": {"flagged": value}}}
    return emu.patch(f"/deployments/{dep_id}", json=doc, as_user=as_user)


def set_min(emu, group_id, dep_id, type_="deployment"):
    return emu.put(
        f"/devicegroups/{group_id}/relationships/min_supported_deployment",
        json={"data": {"type": type_, "id": dep_id}},
    )


# -- create ---------------------------------------------------------------------------------------


def test_create_deployment_shape(emu, grp):
    demo = account_id(emu, "demo")
    dcode, acode = 'server.log("d");', 'server.log("a \u00e9");'
    d = deploy(
        emu,
        grp,
        dcode,
        acode,
        description="my build",
        origin="impdesk",
        tags=["TAG1", "v1.0"],
        flagged=False,
    )
    assert_resource(d, "deployment", emu.base)
    assert UUID_RE.match(d["id"])
    a = d["attributes"]
    assert set(a) == {
        "device_code",
        "agent_code",
        "description",
        "origin",
        "tags",
        "flagged",
        "sha",
        "created_at",
        "updated_at",
    }
    assert (a["device_code"], a["agent_code"]) == (dcode, acode)
    assert a["description"] == "my build" and a["origin"] == "impdesk"
    assert a["tags"] == ["TAG1", "v1.0"]
    assert a["flagged"] is False
    assert a["sha"] == sha(acode, dcode)
    assert TS_RE.match(a["created_at"]) and TS_RE.match(a["updated_at"])
    rels = d["relationships"]
    assert rels["devicegroup"] == ident(grp)
    assert rels["product"] == grp["relationships"]["product"]
    assert rels["owner"] == {"type": "account", "id": demo}
    assert rels["creator"] == {"type": "account", "id": demo}
    assert "flagger" not in rels
    assert d["links"]["self"] == f"{emu.base}/deployments/{d['id']}"
    assert assert_ok(emu.get(f"/deployments/{d['id']}")) == d


def test_defaults(emu, grp):
    d = deploy(emu, grp)
    a = d["attributes"]
    assert a["device_code"] == "" and a["agent_code"] == ""
    assert a["description"] is None and a["origin"] is None
    assert a["tags"] == [] and a["flagged"] is False
    assert a["sha"] == hashlib.sha256(b"").hexdigest()


def test_sha_order_and_identity(emu, grp):
    a = deploy(emu, grp, "DEV", "AGENT")
    b = deploy(emu, grp, "DEV", "AGENT")
    c = deploy(emu, grp, "AGENT", "DEV")
    assert a["attributes"]["sha"] == b["attributes"]["sha"] == sha("AGENT", "DEV")
    assert c["attributes"]["sha"] == sha("DEV", "AGENT")
    assert a["id"] != b["id"]


def test_generic_devicegroup_type_accepted(emu, grp):
    body = deployment_body(grp)
    body["data"]["relationships"]["devicegroup"]["type"] = "devicegroup"
    d = assert_ok(emu.post("/deployments", json=body), 201)
    assert d["relationships"]["devicegroup"] == ident(grp)


def test_wrapped_relationship_accepted(emu, grp):
    body = deployment_body(grp)
    body["data"]["relationships"]["devicegroup"] = {"data": ident(grp)}
    assert_ok(emu.post("/deployments", json=body), 201)


def test_deployment_updates_group(emu, grp):
    d1 = deploy(emu, grp)
    g = assert_ok(emu.get(f"/devicegroups/{grp['id']}"))
    assert g["relationships"]["current_deployment"] == {"type": "deployment", "id": d1["id"]}
    assert g["relationships"]["min_supported_deployment"] == {"type": "deployment", "id": d1["id"]}
    d2 = deploy(emu, grp)
    g = assert_ok(emu.get(f"/devicegroups/{grp['id']}"))
    assert g["relationships"]["current_deployment"]["id"] == d2["id"]
    assert g["relationships"]["min_supported_deployment"]["id"] == d1["id"]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["a", "b", "a", "c", "b"], ["a", "b", "c"]),
        (["A-b_c*d.e", "09"], ["A-b_c*d.e", "09"]),
        ([], []),
        (["t" * 500], ["t" * 500]),
    ],
)
def test_tags_valid(emu, grp, tags, expected):
    assert deploy(emu, grp, tags=tags)["attributes"]["tags"] == expected


@pytest.mark.parametrize(
    "tags",
    [
        [""],
        ["a b"],
        ["a,b"],
        ["x/y"],
        ["\u00e9"],
        ["t" * 501],
        ["t" * 250, "u" * 251],
        [1],
        "abc",
        None,
    ],
)
def test_tags_invalid_vx111(emu, grp, tags):
    resp = emu.post("/deployments", json=deployment_body(grp, tags=tags))
    if not isinstance(tags, list) or (tags and not isinstance(tags[0], str)):
        assert resp.status_code == 400
        assert error_in(resp, {"VX111", "VX104"})
    else:
        assert_error(resp, "VX111")


def error_in(resp, codes):
    return resp.json()["errors"][0]["code"] in codes


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d["data"]["relationships"].pop("devicegroup"), "VX107"),
        (lambda d: d["data"].pop("relationships"), "VX107"),
        (lambda d: d["data"]["relationships"].update(devicegroup="x"), "VX107"),
        (
            lambda d: d["data"]["relationships"].update(product={"type": "product", "id": "x"}),
            "VX107",
        ),
        (lambda d: d["data"]["relationships"]["devicegroup"].update(type="product"), "VX102"),
        (
            lambda d: d["data"]["relationships"]["devicegroup"].update(
                type="production_devicegroup"
            ),
            "VX102",
        ),
        (lambda d: d["data"]["attributes"].pop("device_code"), "VX103"),
        (lambda d: d["data"]["attributes"].pop("agent_code"), "VX103"),
        (lambda d: d["data"]["attributes"].update(device_code=5), "VX104"),
        (lambda d: d["data"]["attributes"].update(agent_code=None), "VX104"),
        (lambda d: d["data"]["attributes"].update(flagged="yes"), "VX104"),
        (lambda d: d["data"]["attributes"].update(sha="0" * 64), "VX104"),
        (lambda d: d["data"]["attributes"].update(color="red"), "VX104"),
        (lambda d: d["data"]["attributes"].update(origin="o" * 256), "VX104"),
        (lambda d: d["data"]["attributes"].update(description="d" * 256), "VX106"),
        (lambda d: d["data"].update(type="deployments"), "VX102"),
        (lambda d: d["data"].pop("type"), "VX101"),
    ],
)
def test_create_validation(emu, grp, mutate, code):
    body = deployment_body(grp)
    mutate(body)
    assert_error(emu.post("/deployments", json=body), code)
    assert emu.list_all("/deployments", params={"filter[devicegroup.id]": grp["id"]}) == []


def test_description_and_origin_boundaries(emu, grp):
    d = deploy(emu, grp, description="d" * 255, origin="o" * 255)
    assert len(d["attributes"]["description"]) == 255


def test_group_unknown_or_invisible_nf101(emu, grp):
    body = deployment_body(
        {"type": "development_devicegroup", "id": "00000000-0000-0000-0000-000000000000"}
    )
    assert_error(emu.post("/deployments", json=body), "NF101")
    assert_error(emu.post("/deployments", json=deployment_body(grp), as_user="demo-2fa"), "NF101")


def test_validation_before_nf101(emu):
    body = deployment_body(
        {"type": "development_devicegroup", "id": "00000000-0000-0000-0000-000000000000"}
    )
    del body["data"]["attributes"]["device_code"]
    assert_error(emu.post("/deployments", json=body), "VX103")


def test_collaborator_deploys_to_shared_group(emu):
    shared = group(emu, "Shared Dev")
    d = deploy(emu, shared, "x();")
    assert d["relationships"]["owner"]["id"] == account_id(emu, "demo-collab")
    assert d["relationships"]["creator"]["id"] == account_id(emu, "demo")


# -- compile check --------------------------------------------------------------------------------

COMPILE_CASES = [
    ("a}", 1, 2, "unexpected '}'"),
    ("f(1));", 1, 5, "unexpected ')'"),
    ("x]", 1, 2, "unexpected ']'"),
    ("f(]", 1, 3, "expected ')'"),
    ("a = { b = [ 1 );", 1, 15, "expected ']'"),
    ("function f() {\n  g(\n}", 3, 1, "expected ')'"),
    ("f({", 1, 4, "expected '}'"),
    ("f(\nab", 2, 3, "expected ')'"),
    ("{[", 1, 3, "expected ']'"),
    ('x = "abc\ny";', 1, 5, "newline in a constant"),
    ('ok();\n  s = "open\n', 2, 7, "newline in a constant"),
    ("a();\n/* never closed", 2, 1, 'missing "*/" in comment'),
    ('x = @"never\nclosed', 1, 5, "unfinished string"),
]


@pytest.mark.parametrize(("code", "row", "column", "text"), COMPILE_CASES)
@pytest.mark.parametrize("file", ["device_code", "agent_code"])
def test_compile_error_findings(emu, grp, code, row, column, text, file):
    attrs = {"device_code": "", "agent_code": "", file: code}
    resp = emu.post("/deployments", json=deployment_body(grp, **attrs))
    err = assert_error(resp, "CX005")
    assert err["detail"] == "The code could not be compiled."
    assert err["meta"] == [
        {"file": file, "type": "error", "row": row, "column": column, "text": text}
    ]
    assert emu.list_all("/deployments", params={"filter[devicegroup.id]": grp["id"]}) == []
    g = assert_ok(emu.get(f"/devicegroups/{grp['id']}"))
    assert "current_deployment" not in g["relationships"]


def test_compile_errors_both_files_agent_first(emu, grp):
    resp = emu.post(
        "/deployments", json=deployment_body(grp, device_code="a)\nb)", agent_code="((")
    )
    err = assert_error(resp, "CX005")
    assert err["meta"] == [
        {"file": "agent_code", "type": "error", "row": 1, "column": 3, "text": "expected ')'"},
        {"file": "device_code", "type": "error", "row": 1, "column": 2, "text": "unexpected ')'"},
    ]


@pytest.mark.parametrize(
    "code",
    [
        "// )\nf();",
        "# ]\nf();",
        "/* ) ] } \n multi-line */ f();",
        's = "\\")";',
        's = "(\\\\";',
        's = @"a "" ) \n ( still string";',
        "c = ')'; d = '\\n'; e = '(';",
        "function f(a, b) { local t = [1, 2, {x = 3}]; return t[0]; }",
        "",
        's = "/* not a comment"; f();',
        'x = 1; // "quote in comment',
    ],
)
def test_code_that_compiles(emu, grp, code):
    d = deploy(emu, grp, code, code)
    assert d["attributes"]["device_code"] == code


def test_compile_error_after_validation(emu, grp):
    body = deployment_body(grp, device_code="(", tags=["bad tag"])
    assert_error(emu.post("/deployments", json=body), "VX111")


# -- list, get, filters ---------------------------------------------------------------------------


def test_list_newest_first(emu, grp):
    made = [deploy(emu, grp, f"f{i}();") for i in range(4)]
    listed = emu.list_all("/deployments", params={"filter[devicegroup.id]": grp["id"]})
    assert [d["id"] for d in listed] == [d["id"] for d in reversed(made)]
    assert listed[0]["attributes"]["device_code"] == "f3();"
    everything = emu.list_all("/deployments")
    keys = [d["attributes"]["created_at"] for d in everything]
    assert keys == sorted(keys, reverse=True)
    assert [d["id"] for d in everything[:4]] == [d["id"] for d in reversed(made)]


def test_list_small_seed_counts(emu):
    assert len(emu.list_all("/deployments")) == 3
    assert (
        len(emu.list_all("/deployments", params={"filter[devicegroup.id]": alpha_dev(emu)["id"]}))
        == 2
    )
    assert len(emu.list_all("/deployments", as_user="demo-collab")) == 1
    assert emu.list_all("/deployments", as_user="demo-2fa") == []


def test_deployment_filters(emu, grp):
    demo, collab = account_id(emu, "demo"), account_id(emu, "demo-collab")
    a = deploy(emu, grp, "a();", tags=["x", "y"])
    b = deploy(emu, grp, "b();", tags=["x"], flagged=True)
    c = deploy(emu, grp, "a();", tags=["y", "z"])
    shared = group(emu, "Shared Dev")
    s = deploy(emu, shared, "s();", as_user="demo-collab")
    assert_ok(flag(emu, s["id"], True, as_user="demo-collab"))

    def f(**flt):
        params = {f"filter[{k}]": v for k, v in flt.items()}
        return [d["id"] for d in emu.list_all("/deployments", params=params)]

    pid = grp["relationships"]["product"]["id"]
    assert f(**{"product.id": pid}) == [c["id"], b["id"], a["id"]]
    assert f(**{"devicegroup.id": grp["id"], "tags": "x"}) == [b["id"], a["id"]]
    assert f(**{"devicegroup.id": grp["id"], "tags": "x,y"}) == [a["id"]]
    assert f(**{"devicegroup.id": grp["id"], "tags": "y,,z,"}) == [c["id"]]
    assert f(**{"devicegroup.id": grp["id"], "flagged": "true"}) == [b["id"]]
    assert f(**{"devicegroup.id": grp["id"], "flagged": "false"}) == [c["id"], a["id"]]
    assert f(**{"devicegroup.id": grp["id"], "flagged": "any"}) == [c["id"], b["id"], a["id"]]
    assert f(sha=sha("", "a();")) == [c["id"], a["id"]]
    assert f(sha=sha("", "a();").upper()) == [c["id"], a["id"]]
    assert f(**{"flagger.id": "me", "devicegroup.id": grp["id"]}) == [b["id"]]
    assert s["id"] in f(**{"flagger.id": collab})
    assert b["id"] not in f(**{"flagger.id": collab})
    assert s["id"] in f(**{"owner.id": collab})
    assert s["id"] not in f(**{"owner.id": demo})
    assert s["id"] in f(**{"creator.id": collab})
    assert a["id"] not in f(**{"creator.id": collab})
    assert set(f(**{"creator.id": "me"})) >= {a["id"], b["id"], c["id"]}


@pytest.mark.parametrize(
    "params",
    [
        {"filter[flagged]": "maybe"},
        {"filter[flagged]": ""},
        {"filter[devicegroup.type]": "development_devicegroup"},
        {"filter[type]": "x"},
        {"filter[name]": "x"},
    ],
)
def test_deployment_bad_filters(emu, params):
    assert_error(emu.get("/deployments", params=params), "VX108")


def test_get_unknown_nf100(emu):
    assert_error(emu.get("/deployments/00000000-0000-0000-0000-000000000000"), "NF100")


def test_invisible_deployment_nf100(emu, grp):
    d = deploy(emu, grp)
    assert_error(emu.get(f"/deployments/{d['id']}", as_user="demo-collab"), "NF100")


# -- PATCH ----------------------------------------------------------------------------------------


def test_flag_sets_flagger_and_unflag_removes(emu, grp):
    d = deploy(emu, grp)
    advance(emu, 2)
    got = assert_ok(flag(emu, d["id"], True))
    assert got["attributes"]["flagged"] is True
    assert got["relationships"]["flagger"] == {"type": "account", "id": account_id(emu, "demo")}
    assert got["attributes"]["updated_at"] > d["attributes"]["updated_at"]
    got = assert_ok(flag(emu, d["id"], False))
    assert got["attributes"]["flagged"] is False
    assert "flagger" not in got["relationships"]


def test_flagger_is_last_account_to_flag(emu):
    shared = group(emu, "Shared Dev")
    d = deploy(emu, shared, as_user="demo-collab")
    got = assert_ok(flag(emu, d["id"], True, as_user="demo-collab"))
    assert got["relationships"]["flagger"]["id"] == account_id(emu, "demo-collab")
    assert_ok(flag(emu, d["id"], False, as_user="demo"))
    got = assert_ok(flag(emu, d["id"], True, as_user="demo"))
    assert got["relationships"]["flagger"]["id"] == account_id(emu, "demo")


def test_created_flagged_has_flagger(emu, grp):
    d = deploy(emu, grp, flagged=True)
    assert d["relationships"]["flagger"]["id"] == account_id(emu, "demo")


def test_patch_description_and_tags(emu, grp):
    d = deploy(emu, grp, tags=["a"], description="x")
    doc = {
        "data": {
            "type": "deployment",
            "id": d["id"],
            "attributes": {"description": None, "tags": ["b", "b", "c"]},
        }
    }
    got = assert_ok(emu.patch(f"/deployments/{d['id']}", json=doc))
    assert got["attributes"]["description"] is None
    assert got["attributes"]["tags"] == ["b", "c"]
    assert got["attributes"]["sha"] == d["attributes"]["sha"]


@pytest.mark.parametrize(
    ("attrs", "rels", "code"),
    [
        ({"device_code": "x"}, None, "VX104"),
        ({"agent_code": "x"}, None, "VX104"),
        ({"origin": "x"}, None, "VX104"),
        ({"sha": "0" * 64}, None, "VX104"),
        ({"flagged": "true"}, None, "VX104"),
        ({"description": "d" * 256}, None, "VX106"),
        ({"tags": ["bad tag"]}, None, "VX111"),
        ({}, {"devicegroup": {"type": "development_devicegroup", "id": "x"}}, "VX107"),
        ({}, {"flagger": {"type": "account", "id": "x"}}, "VX107"),
    ],
)
def test_patch_invalid(emu, grp, attrs, rels, code):
    d = deploy(emu, grp)
    data = {"type": "deployment", "id": d["id"], "attributes": attrs}
    if rels:
        data["relationships"] = rels
    assert_error(emu.patch(f"/deployments/{d['id']}", json={"data": data}), code)
    assert assert_ok(emu.get(f"/deployments/{d['id']}")) == d


def test_patch_wrong_type(emu, grp):
    d = deploy(emu, grp)
    doc = {"data": {"type": "product", "id": d["id"], "attributes": {"flagged": True}}}
    assert_error(emu.patch(f"/deployments/{d['id']}", json=doc), "VX102")


# -- min supported and delete ---------------------------------------------------------------------


def test_min_supported_rules(emu, grp):
    d1, d2, d3 = (deploy(emu, grp, f"v{i}();") for i in range(3))
    got = assert_ok(set_min(emu, grp["id"], d2["id"]))
    assert got["id"] == d2["id"] and got["type"] == "deployment"
    g = assert_ok(emu.get(f"/devicegroups/{grp['id']}"))
    assert g["relationships"]["min_supported_deployment"]["id"] == d2["id"]
    assert g["relationships"]["current_deployment"]["id"] == d3["id"]
    # again: 200 without change
    assert assert_ok(set_min(emu, grp["id"], d2["id"]))["id"] == d2["id"]
    # older than the current minimum
    assert_error(set_min(emu, grp["id"], d1["id"]), "CX113")
    # newer is fine
    assert assert_ok(set_min(emu, grp["id"], d3["id"]))["id"] == d3["id"]


def test_min_supported_errors(emu, grp):
    d = deploy(emu, grp)
    other = deploy(emu, alpha_dev(emu))
    path = f"/devicegroups/{grp['id']}/relationships/min_supported_deployment"
    assert_error(set_min(emu, grp["id"], other["id"]), "CX114")
    assert_error(set_min(emu, grp["id"], d["id"], type_="product"), "VX102")
    assert_error(set_min(emu, grp["id"], "00000000-0000-0000-0000-000000000000"), "NF101")
    assert_error(emu.put(path, json={"data": {"type": "deployment"}}), "VX101")
    assert_error(emu.put(path, json={"data": [{"type": "deployment", "id": d["id"]}]}), "VX101")
    assert_error(emu.put(path, json={}), "VX101")
    assert_error(emu.put(path), "VX101")
    assert_error(set_min(emu, "00000000-0000-0000-0000-000000000000", d["id"]), "NF100")
    shared = deploy(emu, group(emu, "Shared Dev"), as_user="demo-collab")
    assert_error(set_min(emu, grp["id"], shared["id"]), "CX114")
    p2 = create_product(emu, as_user="demo-2fa")
    g2 = create_group(emu, p2["id"], as_user="demo-2fa")
    invisible = deploy(emu, g2, as_user="demo-2fa")
    assert_error(set_min(emu, grp["id"], invisible["id"]), "NF101")


def test_min_supported_other_methods_405(emu, grp):
    path = f"/devicegroups/{grp['id']}/relationships/min_supported_deployment"
    resp = emu.get(path)
    assert_error(resp, "VX120")
    assert [m.strip() for m in resp.headers["Allow"].split(",")] == ["PUT"]


def test_delete_rules(emu, grp):
    d1, d2, d3 = (deploy(emu, grp, f"v{i}();") for i in range(3))
    assert_ok(set_min(emu, grp["id"], d2["id"]))
    assert_error(emu.delete(f"/deployments/{d2['id']}"), "CX106")
    assert_error(emu.delete(f"/deployments/{d3['id']}"), "CX106")
    assert_ok(emu.delete(f"/deployments/{d1['id']}"), 204)
    assert_error(emu.get(f"/deployments/{d1['id']}"), "NF100")
    assert_error(emu.delete(f"/deployments/{d1['id']}"), "NF100")
    assert d1["id"] not in [d["id"] for d in emu.list_all("/deployments")]


def test_delete_flagged_cx105_wins(emu, grp):
    d1 = deploy(emu, grp, flagged=True)
    deploy(emu, grp)
    deploy(emu, grp)
    assert_ok(
        set_min(
            emu,
            grp["id"],
            assert_ok(emu.get(f"/devicegroups/{grp['id']}"))["relationships"]["current_deployment"][
                "id"
            ],
        )
    )
    err = assert_error(emu.delete(f"/deployments/{d1['id']}"), "CX105")
    assert err["detail"] == (
        "You cannot delete flagged deployments; set the flagged attribute to false and try again."
    )
    assert_ok(flag(emu, d1["id"], False))
    assert_ok(emu.delete(f"/deployments/{d1['id']}"), 204)
    # flagged and protected at once: CX105 is checked first
    d_cur = assert_ok(emu.get(f"/devicegroups/{grp['id']}"))["relationships"]["current_deployment"]
    assert_ok(flag(emu, d_cur["id"], True))
    assert_error(emu.delete(f"/deployments/{d_cur['id']}"), "CX105")


def test_only_deployment_is_protected(emu, grp):
    d = deploy(emu, grp)
    assert_error(emu.delete(f"/deployments/{d['id']}"), "CX106")


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_collection_methods_405(emu, method):
    resp = emu.request(method, "/deployments")
    assert_error(resp, "VX120")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"GET", "POST"}
