"""The /_emulator control surface (§8): status, config, reset/seed, device state, faults, clock."""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
from collections import deque
from typing import Any

import impdesk

from . import life, resources, totp
from .clock import iso
from .config import merge
from .errors import ApiError
from .framework import ControlError, Request, Router
from .model import DUT_TYPES, FIXTURE_TYPES, IMP_TYPES, PRODUCTION_TYPES, Account, Device
from .seeds import parse_seed_name

log = logging.getLogger(__name__)
Answer = tuple[int, Any]
FLEET_OPTIONS = ("devices", "products", "groups")


# -- helpers ----------------------------------------------------------------------------------
def _body(req: Request, allowed: tuple[str, ...] | None = None) -> dict:
    """The JSON object body ({} when empty); 400 for bad JSON, a non-object or unknown keys."""
    try:
        doc = req.json()
    except ApiError:
        raise ControlError(400, "the body is not valid JSON") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ControlError(400, "the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(doc) - set(allowed))
        if unknown:
            raise ControlError(400, f"unknown key '{unknown[0]}'")
    return doc


def _query(req: Request, name: str) -> str | None:
    return next((v for k, v in req.query if k == name), None)


def _int(body: dict, key: str, default: Any, minimum: int = 0) -> Any:
    value = body.get(key, default)
    if value is default:
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ControlError(400, f"'{key}' must be a whole number of at least {minimum}")
    return value


def _number(body: dict, key: str, default: Any, minimum: float = 0.0) -> Any:
    value = body.get(key, default)
    if value is default:
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
        raise ControlError(400, f"'{key}' must be a number of at least {minimum:g}")
    return value


def _bool(body: dict, key: str, default: Any) -> Any:
    value = body.get(key, default)
    if value is not default and not isinstance(value, bool):
        raise ControlError(400, f"'{key}' must be true or false")
    return value


def _account(app: Any, username: Any) -> Account:
    if not isinstance(username, str):
        raise ControlError(400, "the account must be a username")
    acct = app.store.account_by_username(username)
    if acct is None:
        raise ControlError(404, f"no account '{username}'")
    return acct


def _device(app: Any, ident: Any) -> Device:
    if not isinstance(ident, str) or not ident:
        raise ControlError(400, "a device identifier is required")
    device = app.store.find_device(None, ident)
    if device is None:
        raise ControlError(404, f"no device '{ident}'")
    return device


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


# -- status and configuration (§8.3) ---------------------------------------------------------
def status(app: Any, req: Request) -> Answer:
    with app.store.lock:
        return 200, {
            "version": impdesk.__version__,
            "base_url": app.base_url or req.origin + "/v5",
            "seed": app.seed_name,
            "now": iso(app.clock.now()),
            "config": copy.deepcopy(app.store.config),
            "counts": app.counts(),
        }


def get_config(app: Any, req: Request) -> Answer:
    with app.store.lock:
        return 200, copy.deepcopy(app.store.config)


def patch_config(app: Any, req: Request) -> Answer:
    changes = _body(req)
    store = app.store
    with store.lock:
        try:
            merge(copy.deepcopy(store.config), changes)  # validate everything before changing
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        old_retention = store.config["log_retention"]
        merge(store.config, changes)
        retention = int(store.config["log_retention"])
        if retention != old_retention:
            for device in store.devices.values():
                device.logs = deque(device.logs, maxlen=retention)
        if "simulation" in changes:
            app.simulation.restart()
        return 200, copy.deepcopy(store.config)


# -- reset and seed (§8.4) -------------------------------------------------------------------
def _seed_request(body: dict, default: str | None) -> tuple[str | None, dict]:
    name = body.get("seed", default)
    if name is not None:
        if not isinstance(name, str):
            raise ControlError(400, "'seed' must be a string")
        try:
            parse_seed_name(name)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
    options = {key: _int(body, key, None, 1 if key != "devices" else 0)
               for key in FLEET_OPTIONS if body.get(key) is not None}
    return name, options


def reset(app: Any, req: Request) -> Answer:
    body = _body(req, ("seed", "random_seed", "config", *FLEET_OPTIONS))
    name, options = _seed_request(body, None)
    random_seed = _int(body, "random_seed", None)
    config = body.get("config")
    if config is not None:
        if not isinstance(config, dict):
            raise ControlError(400, "'config' must be an object")
        try:
            merge(copy.deepcopy(app.start_config), config)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
    return 200, app.reset(seed=name, config=config, random_seed=random_seed, **options)


def seed(app: Any, req: Request) -> Answer:
    """Add generated data on top of the current store → the counts added."""
    from . import seed_data

    body = _body(req, ("seed", "random_seed", "owner", *FLEET_OPTIONS))
    name, options = _seed_request(body, "fleet")
    assert name is not None
    random_seed = _int(body, "random_seed", None)
    base, parsed = parse_seed_name(name)
    parsed.update(options)
    store = app.store
    with store.lock:
        accounts = {a.username: a for a in store.accounts.values()}
        if base == "fleet":
            parsed["owner"] = _account(app, body.get("owner", "demo")).username
            parsed["random_seed"] = random_seed
        elif any(u not in accounts for u in ("demo", "demo-2fa", "demo-collab")):
            raise ControlError(409, "the seed's accounts do not exist")
        before = app.counts()
        if base != "empty":
            getattr(seed_data, f"seed_{base}")(app, accounts, **parsed)
        after = app.counts()
        return 200, {k: after[k] - before[k] for k in after if k != "open_streams"}


# -- simulated behaviour (§8.5) --------------------------------------------------------------
def device_state(app: Any, req: Request, device: str) -> Answer:
    body = _body(req, ("online", "rssi", "free_memory", "swversion", "flaky"))
    online = _bool(body, "online", None)
    flaky = _bool(body, "flaky", None)
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
        d = _device(app, device)
        for key in ("rssi", "free_memory", "swversion"):
            if key in body:
                setattr(d, key, body[key])
        if flaky is not None:
            d.flaky = flaky
        if online is not None:
            life.set_online(store, d, online)
        return 200, _device_doc(app, req, d)


def device_logs(app: Any, req: Request, device: str) -> Answer:
    body = _body(req, ("entries", "repeat", "rate_per_s"))
    entries = body.get("entries", [])
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("type"), str)
            and isinstance(e.get("msg", ""), str) for e in entries):
        raise ControlError(400, "'entries' must be a list of {\"type\", \"msg\"} objects")
    items = [(e["type"], e.get("msg", "")) for e in entries]
    repeat = _int(body, "repeat", 1, 1)
    rate = float(_number(body, "rate_per_s", 0))
    store = app.store
    with store.lock:
        d = _device(app, device)
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
    body = _body(req, ("owner", "imp_type", "name", "online"))
    imp_type = _imp_type(body)
    name = _name(body)
    online = _bool(body, "online", True)
    store = app.store
    with store.lock:
        owner = _account(app, body.get("owner", "demo"))
        d = store.add_device(_new_device(app, owner, imp_type, name))
        if online:
            life.set_online(store, d, True)
        return 201, _device_doc(app, req, d)


def factory_blinkup(app: Any, req: Request) -> Answer:
    body = _body(req, ("fixture", "imp_type", "name"))
    imp_type = _imp_type(body)
    name = _name(body)
    store = app.store
    with store.lock:
        fixture_device = _device(app, body.get("fixture"))
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
    body = _body(req, ("device",))
    store = app.store
    with store.lock:
        d = _device(app, body.get("device"))
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
    body = _body(req, ("device",))
    store = app.store
    with store.lock:
        d = _device(app, body.get("device"))
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


# -- accounts and one-time passwords (§8.6) --------------------------------------------------
def _account_entry(acct: Account) -> dict:
    return {
        "id": acct.id, "username": acct.username, "email": acct.email,
        "password": acct.password, "commercial": acct.commercial,
        "two_factor": acct.two_factor, "totp_secret": acct.totp_secret,
        "unbond_key": acct.unbond_key,
    }


def list_accounts(app: Any, req: Request) -> Answer:
    with app.store.lock:
        accounts = sorted(app.store.accounts.values(), key=lambda a: (a.created_at, a.id))
        return 200, [_account_entry(a) for a in accounts]


def patch_account(app: Any, req: Request, username: str) -> Answer:
    body = _body(req, ("commercial", "two_factor"))
    commercial = _bool(body, "commercial", None)
    two_factor = _bool(body, "two_factor", None)
    with app.store.lock:
        acct = _account(app, username)
        if commercial is not None:
            acct.commercial = commercial
        if two_factor is not None:
            acct.two_factor = two_factor
            if two_factor and not acct.totp_secret:
                acct.totp_secret = totp.new_secret(app.store.rng)
        return 200, _account_entry(acct)


def otp(app: Any, req: Request) -> Answer:
    username = _query(req, "account")
    if not username:
        raise ControlError(400, "the query parameter 'account' is required")
    with app.store.lock:
        acct = _account(app, username)
        if not acct.two_factor or not acct.totp_secret:
            raise ControlError(404, f"account '{username}' has no two-factor authentication")
        secret = acct.totp_secret
    now = time.time()  # TOTP follows the real clock, never the emulator's (§2.3)
    return 200, {"otp": totp.totp(secret, now), "valid_for_s": totp.seconds_remaining(now)}


# -- fault injection (§8.7) ------------------------------------------------------------------
def get_faults(app: Any, req: Request) -> Answer:
    return 200, app.faults.read()


def put_faults(app: Any, req: Request) -> Answer:
    try:
        return 200, app.faults.replace(_body(req))
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def delete_faults(app: Any, req: Request) -> Answer:
    app.faults.clear()
    return 200, app.faults.read()


def fail_next(app: Any, req: Request) -> Answer:
    body = _body(req, ("count", "status", "method", "path", "after_processing", "retry_after_s"))
    _bool(body, "after_processing", None)
    _number(body, "retry_after_s", None)
    try:
        return 200, {"queued": app.faults.queue(body)}
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def expire_tokens(app: Any, req: Request) -> Answer:
    body = _body(req, ("kind", "account"))
    kind = body.get("kind", "access")
    if kind not in ("access", "refresh", "login", "all"):
        raise ControlError(400, "'kind' must be access, refresh, login or all")
    store = app.store
    with store.lock:
        only = _account(app, body["account"]).id if body.get("account") is not None else None
        counts = {"access": 0, "refresh": 0, "login": 0}
        now = store.clock.now()
        if kind in ("access", "all"):
            for record in store.access_tokens.values():
                if (only is None or record.account_id == only) and record.expires_at > now:
                    record.expires_at = now
                    counts["access"] += 1
        if kind in ("refresh", "all"):
            for rid, record in list(store.refresh_tokens.items()):
                if only is None or record.account_id == only:
                    del store.refresh_tokens[rid]
                    counts["refresh"] += 1
        if kind in ("login", "all"):
            for record in store.login_tokens.values():
                if (only is None or record.account_id == only) and not record.used:
                    record.used = True
                    counts["login"] += 1
        return 200, counts


def drop_streams(app: Any, req: Request) -> Answer:
    body = _body(req, ("mode", "after_events", "account"))
    mode = body.get("mode", "abort")
    if mode not in ("abort", "close"):
        raise ControlError(400, "'mode' must be abort or close")
    after_events = _int(body, "after_events", None, 1)
    account = body.get("account")
    if account is not None:
        with app.store.lock:
            _account(app, account)
    return 200, {"connections": app.hub.drop(mode, after_events, account)}


# -- clock (§8.8) ----------------------------------------------------------------------------
def _clock_view(app: Any) -> dict:
    clock = app.clock
    return {"now": iso(clock.now()), "offset_s": clock.offset_s, "speed": clock.speed}


def get_clock(app: Any, req: Request) -> Answer:
    return 200, _clock_view(app)


def post_clock(app: Any, req: Request) -> Answer:
    body = _body(req, ("advance_s", "speed"))
    advance = float(_number(body, "advance_s", 0.0))
    speed = body.get("speed")
    if speed is not None and (not isinstance(speed, int | float) or isinstance(speed, bool)
                              or not 0 < speed <= 1_000_000):
        raise ControlError(400, "'speed' must be a number above 0")
    app.clock.advance(advance, None if speed is None else float(speed))
    return 200, _clock_view(app)


# -- observation (§8.9) ----------------------------------------------------------------------
def get_requests(app: Any, req: Request) -> Answer:
    raw = _query(req, "since")
    since = 0
    if raw:
        try:
            since = int(raw)
        except ValueError:
            raise ControlError(400, "'since' must be a whole number") from None
    with app._log_lock:
        entries = [dict(e) for e in app.request_log if e["seq"] > since]
    return 200, {"requests": entries}


def delete_requests(app: Any, req: Request) -> Answer:
    with app._log_lock:
        count = len(app.request_log)
        app.request_log.clear()
    return 200, {"cleared": count}


def get_deliveries(app: Any, req: Request) -> Answer:
    return 200, app.webhooks.deliveries()


def delete_deliveries(app: Any, req: Request) -> Answer:
    app.webhooks.clear_deliveries()
    return 204, None


def sink_post(app: Any, req: Request, name: str) -> Answer:
    app.webhooks.sink_record(name, req.header("Content-Type"),
                             req.body.decode("utf-8", "replace"))
    return 204, None


def sink_get(app: Any, req: Request) -> Answer:
    return 200, app.webhooks.sink_list()


def sink_delete(app: Any, req: Request) -> Answer:
    app.webhooks.sink_clear()
    return 204, None


ROUTES = (
    ("GET", "/", status),
    ("GET", "/config", get_config),
    ("PATCH", "/config", patch_config),
    ("POST", "/reset", reset),
    ("POST", "/seed", seed),
    ("POST", "/devices/{device}/state", device_state),
    ("POST", "/devices/{device}/logs", device_logs),
    ("POST", "/blinkup", blinkup),
    ("POST", "/factory/blinkup", factory_blinkup),
    ("POST", "/factory/bless", factory_bless),
    ("POST", "/activate", activate),
    ("GET", "/accounts", list_accounts),
    ("PATCH", "/accounts/{username}", patch_account),
    ("GET", "/otp", otp),
    ("GET", "/faults", get_faults),
    ("PUT", "/faults", put_faults),
    ("DELETE", "/faults", delete_faults),
    ("POST", "/faults/fail_next", fail_next),
    ("POST", "/tokens/expire", expire_tokens),
    ("POST", "/logstreams/drop", drop_streams),
    ("GET", "/clock", get_clock),
    ("POST", "/clock", post_clock),
    ("GET", "/requests", get_requests),
    ("DELETE", "/requests", delete_requests),
    ("GET", "/webhook_deliveries", get_deliveries),
    ("DELETE", "/webhook_deliveries", delete_deliveries),
    ("POST", "/sink/{name}", sink_post),
    ("GET", "/sink", sink_get),
    ("DELETE", "/sink", sink_delete),
)


def register(router: Router) -> None:
    for method, path, handler in ROUTES:
        router.add(method, path, handler, auth=False)
