"""/_emulator devices (§8.5): state, fed logs, BlinkUp, factory BlinkUp and blessing, activation."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from . import life, resources
from .control_input import (
    Answer,
    bool_field,
    find_account,
    find_device,
    int_field,
    json_body,
    number_field,
)
from .framework import ControlError, Request
from .model import DUT_TYPES, FIXTURE_TYPES, IMP_TYPES, PRODUCTION_TYPES, Account, Device


# -- helpers ---------------------------------------------------------------------------------
def _imp_type(body: dict) -> str:
    imp_type = body.get("imp_type", "imp004m")
    if imp_type not in IMP_TYPES:
        raise ControlError(400, f"'imp_type' must be one of {', '.join(IMP_TYPES)}")
    return imp_type


def _name(body: dict) -> str | None:
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 80):
        raise ControlError(400, "'name' must be null or 1-80 characters")
    return name


def _device_doc(app: Any, req: Request, device: Device) -> dict:
    return {"data": resources.device(req.origin + "/v5", app.store, device)}


def _hex(app: Any, bits: int) -> str:
    return f"{app.store.rng.getrandbits(bits):0{bits // 4}x}"


def _new_device(app: Any, owner: Account, imp_type: str, name: str | None) -> Device:
    """A device fresh from BlinkUp: new ids, offline until it connects, not yet in the store."""
    store = app.store
    now = store.clock.now()
    return Device(
        id=store.new_device_id(), owner_id=owner.id, mac_address=store.new_mac(),
        agent_id=store.new_agent_id(), imp_type=imp_type, joined_seq=store.next_seq(),
        name=name, device_online=False, device_state_changed_at=now, last_enrolled_at=now,
        free_memory=store.rng.randrange(60000, 92000, 8), rssi=store.rng.randint(-75, -45),
        swversion="1ae4c87 - release-42.7 - Mon Sep 14 10:52:30 2026 - production",
        plan_id=_hex(app, 64),
    )


# -- simulated behaviour (§8.5) --------------------------------------------------------------
def device_state(app: Any, req: Request, device: str) -> Answer:
    body = json_body(req, ("online", "rssi", "free_memory", "swversion", "flaky"))
    online = bool_field(body, "online", None)
    flaky = bool_field(body, "flaky", None)
    for key in ("rssi", "free_memory"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ControlError(400, f"'{key}' must be a whole number or null")
    if body.get("free_memory") is not None and body["free_memory"] < 0:
        raise ControlError(400, "'free_memory' must not be negative")
    if body.get("swversion") is not None and not isinstance(body["swversion"], str):
        raise ControlError(400, "'swversion' must be a string or null")
    store = app.store
    with store.lock:
        d = find_device(app, device)
        for key in ("rssi", "free_memory", "swversion"):
            if key in body:
                setattr(d, key, body[key])
        if flaky is not None:
            d.flaky = flaky
        if online is not None:
            life.set_online(store, d, online)
        return 200, _device_doc(app, req, d)


def device_logs(app: Any, req: Request, device: str) -> Answer:
    body = json_body(req, ("entries", "repeat", "rate_per_s"))
    entries = body.get("entries", [])
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("type"), str)
            and isinstance(e.get("msg", ""), str) for e in entries):
        raise ControlError(400, "'entries' must be a list of {\"type\", \"msg\"} objects")
    items = [(e["type"], e.get("msg", "")) for e in entries]
    repeat = int_field(body, "repeat", 1, 1)
    rate = float(number_field(body, "rate_per_s", 0))
    store = app.store
    with store.lock:
        d = find_device(app, device)
        total = len(items) * repeat
        if rate <= 0:
            for _ in range(repeat):
                for type_, msg in items:
                    life.append_log(store, d, type_, msg)
            return 200, {"written": total}
    thread = threading.Thread(target=_paced_feed, args=(store, d, items, repeat, rate),
                              name="emulator-log-feed", daemon=True)
    thread.start()
    return 202, {"scheduled": total}


def _paced_feed(store: Any, device: Device, items: list, repeat: int, rate: float) -> None:
    """Write entries at `rate` per real second; stops when the device goes (delete, reset)."""
    started = time.monotonic()
    sequence = [item for _ in range(repeat) for item in items]
    done = 0
    while done < len(sequence):
        due = int((time.monotonic() - started) * rate) + 1  # entries owed by now
        batch = sequence[done:min(due, len(sequence))]
        if batch:
            with store.lock:
                if store.devices.get(device.id) is not device:
                    return
                for type_, msg in batch:
                    life.append_log(store, device, type_, msg)
            done += len(batch)
        if done < len(sequence):
            wake = started + done / rate
            time.sleep(max(0.0, min(0.5, wake - time.monotonic())))


def blinkup(app: Any, req: Request) -> Answer:
    body = json_body(req, ("owner", "imp_type", "name", "online"))
    imp_type = _imp_type(body)
    name = _name(body)
    online = bool_field(body, "online", True)
    store = app.store
    with store.lock:
        owner = find_account(app, body.get("owner", "demo"))
        d = store.add_device(_new_device(app, owner, imp_type, name))
        if online:
            life.set_online(store, d, True)
        return 201, _device_doc(app, req, d)


def factory_blinkup(app: Any, req: Request) -> Answer:
    body = json_body(req, ("fixture", "imp_type", "name"))
    imp_type = _imp_type(body)
    name = _name(body)
    store = app.store
    with store.lock:
        fixture_device = find_device(app, body.get("fixture"))
        fixture = store.group_of(fixture_device)
        if fixture is None or fixture.type not in FIXTURE_TYPES:
            raise ControlError(409, "the fixture device is not in a fixture device group")
        dut = store.groups.get(fixture.dut_target_id or "")
        if dut is None:
            raise ControlError(409, "the fixture device group has no dut_target")
        owner = store.accounts[store.group_owner_id(fixture)]
        d = store.add_device(_new_device(app, owner, imp_type, name))
        d.plan_id = None
        d.enrolled_by_fixture_id = fixture.id
        life.assign(store, d, dut)  # offline: the restart waits for the first connect
        life.set_online(store, d, True)
        return 201, _device_doc(app, req, d)


def _blessing_fixture(store: Any, device: Device) -> Any:
    fixture = store.groups.get(device.enrolled_by_fixture_id or "")
    if fixture is not None and fixture.type in FIXTURE_TYPES:
        return fixture
    candidates = [g for g in store.groups.values()
                  if g.type in FIXTURE_TYPES and g.dut_target_id == device.group_id]
    return min(candidates, key=lambda g: (g.created_at, g.id), default=None)


def factory_bless(app: Any, req: Request) -> Answer:
    body = json_body(req, ("device",))
    store = app.store
    with store.lock:
        d = find_device(app, body.get("device"))
        group = store.group_of(d)
        if group is None or group.type not in DUT_TYPES:
            raise ControlError(409, "the device is not in a DUT device group")
        fixture = _blessing_fixture(store, d)
        target = store.groups.get(fixture.production_target_id or "") if fixture else None
        if target is None:
            raise ControlError(409, "no fixture device group targets the device's group")
        if target.load_code_after_blessing:
            life.assign(store, d, target)
        else:
            d.group_id = target.id
            store.touch()
        imp_id = hashlib.sha1(d.mac_address.encode()).hexdigest()[:16]
        store.on_webhook_event(target.id, "blessing", {"device_id": d.id, "imp_id": imp_id})
        return 200, _device_doc(app, req, d)


def activate(app: Any, req: Request) -> Answer:
    body = json_body(req, ("device",))
    store = app.store
    with store.lock:
        d = find_device(app, body.get("device"))
        group = store.group_of(d)
        if group is None or group.type not in PRODUCTION_TYPES:
            raise ControlError(409, "the device is not a production device")
        d.last_enrolled_at = store.clock.now()
        d.plan_id = _hex(app, 64)
        store.on_webhook_event(group.id, "blinkup",
                               {"device_id": d.id, "plan_id": d.plan_id, "token": _hex(app, 128)})
        if d.running_deployment_id != group.current_deployment_id:
            life.restart(store, d)
        return 200, _device_doc(app, req, d)


ROUTES = (
    ("POST", "/devices/{device}/state", device_state),
    ("POST", "/devices/{device}/logs", device_logs),
    ("POST", "/blinkup", blinkup),
    ("POST", "/factory/blinkup", factory_blinkup),
    ("POST", "/factory/bless", factory_bless),
    ("POST", "/activate", activate),
)
