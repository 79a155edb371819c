"""Helpers for the emulator contract tests: assertions, fixtures-by-API, SSE reader."""

from __future__ import annotations

import codecs
import contextlib
import http.client
import json
import queue
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.emuclient import EmuClient

JSONAPI = "application/vnd.api+json"
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEVICE_ID_RE = re.compile(r"^[0-9a-f]{16}$")
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
AGENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{12}$")
DOWNLOADING_RE = re.compile(r"^Downloading new code; \d+\.\d{2}% program storage used$")

GROUP_TYPES = [
    "development_devicegroup",
    "pre_factoryfixture_devicegroup",
    "pre_dut_devicegroup",
    "pre_production_devicegroup",
    "factoryfixture_devicegroup",
    "dut_devicegroup",
    "production_devicegroup",
]

# §4.4: code -> (HTTP status, title)
CATALOGUE: dict[str, tuple[int, str]] = {
    "VX100": (400, "Malformed Request Body"),
    "VX101": (400, "Invalid Document"),
    "VX102": (400, "Invalid Type"),
    "VX103": (400, "Missing Attribute"),
    "VX104": (400, "Invalid Attribute"),
    "VX105": (400, "Invalid Name"),
    "VX106": (400, "Invalid Description"),
    "VX107": (400, "Invalid Relationship"),
    "VX108": (400, "Invalid Filter"),
    "VX109": (400, "Invalid Query Parameter"),
    "VX110": (400, "Invalid URL"),
    "VX111": (400, "Invalid Tags"),
    "VX112": (400, "Invalid Environment Variables"),
    "VX113": (400, "Invalid Webhook Event"),
    "VX120": (405, "Method Not Allowed"),
    "NF100": (404, "Resource Not Found"),
    "NF101": (404, "Related Resource Not Found"),
    "NF102": (404, "Route Not Found"),
    "NF103": (404, "Credential Not Found"),
    "NF104": (404, "Device Not In Devicegroup"),
    "PX100": (401, "Invalid Credentials"),
    "PX101": (401, "Access Token Expired"),
    "PX200": (403, "Two-Factor Authentication Required"),
    "PX201": (401, "Invalid OTP"),
    "PX202": (401, "Invalid Login Token"),
    "PX203": (403, "Invalid Password"),
    "PX300": (403, "Invalid Permission"),
    "PX301": (403, "Invalid Unbond Key"),
    "PX400": (429, "Rate Limit Exceeded"),
    "CX005": (400, "Compilation Error"),
    "CX100": (409, "Duplicate Resource"),
    "CX101": (409, "Duplicate Resource"),
    "CX102": (409, "Dependent Devicegroups Exist"),
    "CX103": (409, "Dependent Devices Exist"),
    "CX104": (409, "Devicegroup Is A Target"),
    "CX105": (409, "Resource Flagged"),
    "CX106": (409, "Deployment Protected"),
    "CX107": (409, "Device Not Assigned"),
    "CX108": (409, "Device Assigned"),
    "CX109": (409, "Production Device"),
    "CX110": (409, "Invalid Assignment"),
    "CX111": (409, "Production Device"),
    "CX112": (409, "Unsupported Device"),
    "CX113": (409, "Invalid Min Supported Deployment"),
    "CX114": (409, "Invalid Min Supported Deployment"),
    "CX115": (409, "Login Key Limit Reached"),
    "XX500": (500, "Internal Server Error"),
    "XX502": (502, "Bad Gateway"),
    "XX503": (503, "Service Unavailable"),
    "XX504": (504, "Gateway Timeout"),
}


# §4.4: the fixed detail texts (codes whose detail has no per-case placeholder)
FIXED_DETAILS: dict[str, set[str]] = {
    "VX100": {"The request body is not valid JSON."},
    "VX105": {"Names must be 1 to 80 characters long and not blank."},
    "VX106": {"Descriptions must be at most 255 characters long."},
    "VX110": {"The provided URL is invalid."},
    "VX111": {
        "Tags may contain only letters, digits, '_', '-', '*' and '.', and may total at "
        "most 500 characters."
    },
    "VX112": {
        "env_vars keys must start with a letter and contain only letters, digits and '_' "
        "(at most 64); values must be strings or numbers; at most 16 KiB in all."
    },
    "NF103": {"The refresh token or login key was not found."},
    "PX100": {
        "The identifier or password is incorrect.",
        "An access token is required.",
        "The access token is invalid.",
    },
    "PX101": {"The access token has expired."},
    "PX200": {"A one-time password is required to complete the login."},
    "PX201": {"The one-time password is missing or incorrect."},
    "PX202": {"The login token is invalid or has expired; log in again."},
    "PX203": {"The X-Electricimp-Password header is missing or incorrect."},
    "PX300": {
        "Production device group types require a commercial account.",
        "You cannot create products for this account.",
    },
    "PX301": {
        "Removing devices from a production devicegroup requires the account's unbond key "
        "in the X-Electricimp-Key header."
    },
    "CX005": {"The code could not be compiled."},
    "CX100": {"Products must have unique names."},
    "CX101": {"Devicegroups must have unique names."},
    "CX102": {"Cannot delete a product with associated devicegroups."},
    "CX103": {"Cannot delete a devicegroup with assigned devices."},
    "CX104": {
        "Cannot delete a devicegroup that is the production_target or dut_target of "
        "another devicegroup."
    },
    "CX105": {
        "You cannot delete flagged deployments; set the flagged attribute to false and try again.",
        "You cannot delete a devicegroup with flagged deployments; set the "
        "flagged attribute to false and try again.",
    },
    "CX106": {
        "You cannot delete a deployment that is its devicegroup's "
        "min_supported_deployment or newer."
    },
    "CX107": {"Cannot restart a device that is not assigned to a devicegroup."},
    "CX108": {"Cannot delete a device that is assigned to a devicegroup; unassign it first."},
    "CX109": {"Production devices cannot be deleted."},
    "CX110": {
        "Devices enter (pre-)production and (pre-)DUT devicegroups only through the factory "
        "process."
    },
    "CX111": {
        "A production device can only move to another devicegroup of the same type in the "
        "same product; unassign it with the unbond key first."
    },
    "CX112": {"imp001 devices cannot be assigned to factory fixture devicegroups."},
    "CX113": {"The min_supported_deployment cannot be older than the current one."},
    "CX114": {"The deployment does not belong to this devicegroup."},
    "XX500": {"An unexpected error occurred."},
    "XX502": {"The service is temporarily unavailable."},
    "XX503": {"The service is temporarily unavailable."},
    "XX504": {"The service did not respond in time."},
}


# -- assertions -----------------------------------------------------------------------------------


def assert_error(resp: requests.Response, code: str, *, auth: bool = False) -> dict:
    """Assert `resp` is exactly one catalogue error `code` (§4.1) and return that error object."""
    status, title = CATALOGUE[code]
    assert resp.status_code == status, (
        f"expected {status} {code}, got {resp.status_code} {resp.text}"
    )
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json" if auth else JSONAPI), ctype
    doc = resp.json()
    assert set(doc) == {"errors"}, doc
    assert len(doc["errors"]) == 1, doc
    err = doc["errors"][0]
    assert err["code"] == code, doc
    assert err["status"] == str(status), doc
    assert err["title"] == title, doc
    assert isinstance(err["detail"], str) and err["detail"], doc
    if code in FIXED_DETAILS:
        assert err["detail"] in FIXED_DETAILS[code], doc
    assert "source" not in err
    return err


def assert_ok(resp: requests.Response, status: int = 200) -> Any:
    """Assert a success status with a JSON:API body (none for 204); return the data."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code} {resp.text}"
    if status == 204:
        assert resp.content == b""
        assert "Content-Type" not in resp.headers
        return None
    assert resp.headers.get("Content-Type", "").startswith(JSONAPI), resp.headers
    assert resp.headers.get("Content-Length") == str(len(resp.content))
    doc = resp.json()
    assert "data" in doc
    return doc["data"]


def assert_resource(res: dict, rtype: str | None = None, base: str | None = None) -> None:
    """Generic resource object checks (§1.4)."""
    assert set(res) >= {"type", "id", "links", "attributes", "relationships"}, res
    if rtype is not None:
        assert res["type"] == rtype
    assert isinstance(res["attributes"], dict)
    assert isinstance(res["relationships"], dict)
    for rel in res["relationships"].values():
        assert rel is not None and set(rel) == {"type", "id"}, res["relationships"]
    assert res["links"]["self"].startswith("http")
    if base is not None:
        assert res["links"]["self"].startswith(base + "/")
    assert res["links"]["self"].endswith("/" + res["id"])


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    emu: EmuClient,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict | None = None,
    as_user: str | None = "demo",
    timeout: float = 10.0,
) -> RawResponse:
    """Send a request byte-exactly (no URL normalisation); `target` is path and query."""
    parts = urlsplit(emu.server.origin)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    hdrs = {"Content-Type": JSONAPI}
    if as_user is not None:
        hdrs["Authorization"] = f"Bearer {emu.login(as_user)}"
    hdrs.update(headers or {})
    try:
        conn.request(method, target, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


# -- finding seeded things ------------------------------------------------------------------------


def by_name(items: list[dict], name: str) -> dict:
    found = [i for i in items if i["attributes"].get("name") == name]
    assert len(found) == 1, f"{name!r} not found exactly once in {[i['attributes'] for i in items]}"
    return found[0]


def product(emu: EmuClient, name: str, as_user: str = "demo") -> dict:
    return by_name(emu.list_all("/products", as_user=as_user), name)


def group(emu: EmuClient, name: str, as_user: str = "demo") -> dict:
    return by_name(emu.list_all("/devicegroups", as_user=as_user), name)


def devices(emu: EmuClient, as_user: str = "demo", **filters: str) -> list[dict]:
    params = {f"filter[{k}]": v for k, v in filters.items()}
    return emu.list_all("/devices", as_user=as_user, params=params)


def group_devices(emu: EmuClient, group_id: str, as_user: str = "demo") -> list[dict]:
    return devices(emu, as_user=as_user, **{"devicegroup.id": group_id})


def unassigned(emu: EmuClient, as_user: str = "demo") -> list[dict]:
    return devices(emu, as_user=as_user, **{"devicegroup.owner.id": "null"})


def get_device(emu: EmuClient, ident: str, as_user: str = "demo") -> dict:
    return assert_ok(emu.get(f"/devices/{ident}", as_user=as_user))


def alpha_dev(emu: EmuClient) -> dict:
    return group(emu, "Alpha Dev")


def online_alpha_device(emu: EmuClient) -> dict:
    devs = group_devices(emu, alpha_dev(emu)["id"])
    return next(d for d in devs if d["attributes"]["device_online"])


def offline_alpha_device(emu: EmuClient) -> dict:
    devs = group_devices(emu, alpha_dev(emu)["id"])
    return next(d for d in devs if not d["attributes"]["device_online"])


def account_id(emu: EmuClient, username: str) -> str:
    return emu.accounts()[username]["id"]


# -- creating things ------------------------------------------------------------------------------


def uniq(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_product(emu: EmuClient, name: str | None = None, as_user: str = "demo", **kw) -> dict:
    attrs = {"name": name or uniq("P")}
    attrs.update(kw)
    body = {"data": {"type": "product", "attributes": attrs}}
    return assert_ok(emu.post("/products", json=body, as_user=as_user), 201)


def group_body(
    product_id: str,
    gtype: str = "development_devicegroup",
    name: str | None = None,
    targets: dict[str, dict] | None = None,
    **attrs: Any,
) -> dict:
    rels: dict[str, Any] = {"product": {"type": "product", "id": product_id}}
    rels.update(targets or {})
    return {
        "data": {
            "type": gtype,
            "attributes": {"name": name or uniq("G"), **attrs},
            "relationships": rels,
        }
    }


def create_group(
    emu: EmuClient,
    product_id: str,
    gtype: str = "development_devicegroup",
    name: str | None = None,
    as_user: str = "demo",
    targets: dict[str, dict] | None = None,
    **attrs: Any,
) -> dict:
    body = group_body(product_id, gtype, name, targets, **attrs)
    return assert_ok(emu.post("/devicegroups", json=body, as_user=as_user), 201)


def ident(res: dict) -> dict:
    return {"type": res["type"], "id": res["id"]}


def deployment_body(group_res: dict, device_code: str = "", agent_code: str = "", **attrs) -> dict:
    return {
        "data": {
            "type": "deployment",
            "attributes": {"device_code": device_code, "agent_code": agent_code, **attrs},
            "relationships": {"devicegroup": ident(group_res)},
        }
    }


def deploy(
    emu: EmuClient,
    group_res: dict,
    device_code: str = "",
    agent_code: str = "",
    as_user: str = "demo",
    **attrs,
) -> dict:
    body = deployment_body(group_res, device_code, agent_code, **attrs)
    return assert_ok(emu.post("/deployments", json=body, as_user=as_user), 201)


def assign(
    emu: EmuClient,
    group_id: str,
    *device_ids: str,
    as_user: str = "demo",
    headers: dict | None = None,
) -> requests.Response:
    body = {"data": [{"type": "device", "id": d} for d in device_ids]}
    return emu.post(
        f"/devicegroups/{group_id}/relationships/devices",
        json=body,
        as_user=as_user,
        headers=headers,
    )


def unassign(
    emu: EmuClient,
    group_id: str,
    *device_ids: str,
    as_user: str = "demo",
    headers: dict | None = None,
) -> requests.Response:
    body = {"data": [{"type": "device", "id": d} for d in device_ids]}
    return emu.delete(
        f"/devicegroups/{group_id}/relationships/devices",
        json=body,
        as_user=as_user,
        headers=headers,
    )


def factory_setup(emu: EmuClient, product_id: str, pre: bool = False) -> dict[str, Any]:
    """Create fixture/DUT/production groups in `product_id` and make one production device.

    Returns {"fixture", "dut", "production" (groups), "fixture_device", "dut_device" (device),
    "prod_device" (device id of a blessed production device)}.
    """
    p = "pre_" if pre else ""
    prod = create_group(emu, product_id, f"{p}production_devicegroup")
    dut = create_group(emu, product_id, f"{p}dut_devicegroup")
    fixture = create_group(
        emu,
        product_id,
        f"{p}factoryfixture_devicegroup",
        targets={"production_target": ident(prod), "dut_target": ident(dut)},
    )
    fixture_dev = emu.control(
        "POST", "/blinkup", {"owner": "demo", "imp_type": "imp004m", "online": True}
    )["data"]
    assert_ok(assign(emu, fixture["id"], fixture_dev["id"]), 204)
    dut_dev = emu.control(
        "POST", "/factory/blinkup", {"fixture": fixture_dev["id"], "imp_type": "imp004m"}
    )["data"]
    dut_dev2 = emu.control(
        "POST", "/factory/blinkup", {"fixture": fixture_dev["id"], "imp_type": "imp004m"}
    )["data"]
    blessed = emu.control("POST", "/factory/bless", {"device": dut_dev2["id"]})["data"]
    return {
        "fixture": fixture,
        "dut": dut,
        "production": prod,
        "fixture_device": fixture_dev["id"],
        "dut_device": dut_dev["id"],
        "prod_device": blessed["id"],
    }


# -- control surface ------------------------------------------------------------------------------


def set_config(emu: EmuClient, section: str, **values: Any) -> dict:
    """Change keys inside a nested config section, sending the whole section."""
    cfg = emu.control("GET", "/config")
    new = dict(cfg[section])
    new.update(values)
    return emu.config(**{section: new})


def restart_delay(emu: EmuClient, seconds: float) -> None:
    set_config(emu, "simulation", restart_delay_s=seconds)


def set_state(emu: EmuClient, device: str, **state: Any) -> dict:
    return emu.control("POST", f"/devices/{device}/state", state)["data"]


def feed(emu: EmuClient, device: str, *entries: tuple[str, str] | dict) -> Any:
    items = [e if isinstance(e, dict) else {"type": e[0], "msg": e[1]} for e in entries]
    return emu.control("POST", f"/devices/{device}/logs", {"entries": items})


def blinkup(emu: EmuClient, owner: str = "demo", **kw: Any) -> dict:
    return emu.control("POST", "/blinkup", {"owner": owner, **kw})["data"]


def advance(emu: EmuClient, seconds: float) -> dict:
    return emu.control("POST", "/clock", {"advance_s": seconds})


def history(emu: EmuClient, device: str, as_user: str = "demo") -> list[dict]:
    """All history entries of a device, newest first."""
    return emu.list_all(f"/devices/{device}/logs", as_user=as_user)


def status_lines(emu: EmuClient, device: str) -> list[str]:
    """The device's status messages, oldest first."""
    return [e["msg"] for e in reversed(history(emu, device)) if e["type"] == "status"]


def wait_for(pred: Callable[[], Any], timeout: float = 3.0, interval: float = 0.02) -> Any:
    """Poll `pred` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        val = pred()
        if val:
            return val
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {val!r})")
        time.sleep(interval)


def new_status_lines(
    emu: EmuClient, device: str, before: int, count: int, timeout: float = 3.0
) -> list[str]:
    """Wait until at least `count` status lines were added after the first `before` ones."""

    def check():
        lines = status_lines(emu, device)
        return lines[before:] if len(lines) >= before + count else None

    return wait_for(check, timeout)


# -- SSE ------------------------------------------------------------------------------------------


@dataclass
class Event:
    event: str  # "message", "state_change", ":" for a comment, "EOF" when the connection ended
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


EOF = "EOF"


class SSEParser:
    """Incremental SSE parser (WHATWG rules, enough for tests); also keeps the raw text."""

    def __init__(self) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")()
        self._buf = ""
        self._event = ""
        self._data: list[str] = []
        self.raw = ""

    def feed(self, chunk: bytes) -> list[Event]:
        text = self._dec.decode(chunk)
        self.raw += text
        self._buf += text
        out: list[Event] = []
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            line = line.removesuffix("\r")
            if line == "":
                if self._data or self._event:
                    out.append(Event(self._event or "message", "\n".join(self._data)))
                self._event, self._data = "", []
                continue
            if line.startswith(":"):
                out.append(Event(":", line[1:].strip()))
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                self._event = value
            elif name == "data":
                self._data.append(value)
        return out


class Stream:
    """An open SSE connection read by a background thread; events land in a queue."""

    def __init__(
        self,
        url: str,
        fmt: str | None = "json",
        headers: dict | None = None,
        read_timeout: float = 20.0,
    ) -> None:
        params = {"format": fmt} if fmt is not None else None
        self.resp = requests.get(
            url, params=params, headers=headers, stream=True, timeout=(5, read_timeout)
        )
        self.status_code = self.resp.status_code
        self.headers = self.resp.headers
        self.parser = SSEParser()
        self.q: queue.Queue[Event] = queue.Queue()
        self.closed = threading.Event()
        self._sock = self._find_sock()
        self._stopping = False
        self._thread = None
        if self.status_code == 200:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _find_sock(self) -> socket.socket | None:
        raw = self.resp.raw
        for getter in (
            lambda: raw.connection.sock,
            lambda: raw._connection.sock,
            lambda: raw._fp.fp.raw._sock,
        ):
            with contextlib.suppress(Exception):
                s = getter()
                if s is not None:
                    return s
        return None

    def _run(self) -> None:
        try:
            while True:
                chunk = self.resp.raw.read1(65536)
                if not chunk:
                    break
                for ev in self.parser.feed(chunk):
                    self.q.put(ev)
        except Exception as exc:  # connection cut, timeout, our own shutdown
            if not self._stopping:
                self.q.put(Event(EOF, repr(exc)))
                self.closed.set()
                return
        self.q.put(Event(EOF, ""))
        self.closed.set()

    def next(self, timeout: float = 3.0, skip_comments: bool = True) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no SSE event within {timeout}s; raw so far: {self.parser.raw!r}"
                )
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if skip_comments and ev.event == ":":
                continue
            return ev

    def next_state(self, timeout: float = 3.0) -> Any:
        ev = self.next(timeout)
        assert ev.event == "state_change", ev
        return ev.json()

    def next_message(self, timeout: float = 3.0) -> Any:
        ev = self.next(timeout)
        assert ev.event == "message", ev
        return ev.json()

    def expect_eof(self, timeout: float = 3.0) -> None:
        ev = self.next(timeout)
        assert ev.event == EOF, ev

    def drain(self) -> list[Event]:
        out = []
        while True:
            try:
                out.append(self.q.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self._stopping = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.resp.close()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def create_stream(emu: EmuClient, as_user: str = "demo") -> dict:
    return assert_ok(emu.post("/logstream", as_user=as_user), 201)


def open_stream(
    emu: EmuClient, fmt: str | None = "json", as_user: str = "demo"
) -> tuple[dict, Stream]:
    """Create a stream, open it, consume the `opened` event."""
    ls = create_stream(emu, as_user)
    st = Stream(ls["attributes"]["url"], fmt)
    assert st.status_code == 200, st.resp.text
    ev = st.next()
    assert ev.event == "state_change"
    assert ev.data in ('{"state":"opened"}', "opened"), ev
    return ls, st


def subscribe(
    emu: EmuClient, stream_id: str, device: str, as_user: str = "demo"
) -> requests.Response:
    return emu.put(f"/logstream/{stream_id}/{device}", as_user=as_user)


def unsubscribe(
    emu: EmuClient, stream_id: str, device: str, as_user: str = "demo"
) -> requests.Response:
    return emu.delete(f"/logstream/{stream_id}/{device}", as_user=as_user)
