"""The /_emulator control surface (§8): status, config, reset/seed, accounts, OTP, clock; routes."""

from __future__ import annotations

import copy
import logging
import time
from collections import deque
from typing import Any

import impdesk

from . import control_devices, control_faults, totp
from .clock import iso
from .config import merge
from .control_input import (
    Answer,
    bool_field,
    find_account,
    int_field,
    json_body,
    number_field,
    query_value,
)
from .framework import ControlError, Request, Router
from .model import Account
from .seeds import parse_seed_name, seed_generator

log = logging.getLogger(__name__)
FLEET_OPTIONS = ("devices", "products", "groups")


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
    changes = json_body(req)
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
    options = {key: int_field(body, key, None, 1 if key != "devices" else 0)
               for key in FLEET_OPTIONS if body.get(key) is not None}
    return name, options


def reset(app: Any, req: Request) -> Answer:
    body = json_body(req, ("seed", "random_seed", "config", *FLEET_OPTIONS))
    name, options = _seed_request(body, None)
    random_seed = int_field(body, "random_seed", None)
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
    body = json_body(req, ("seed", "random_seed", "owner", *FLEET_OPTIONS))
    name, options = _seed_request(body, "fleet")
    assert name is not None
    random_seed = int_field(body, "random_seed", None)
    base, parsed = parse_seed_name(name)
    parsed.update(options)
    store = app.store
    with store.lock:
        accounts = {a.username: a for a in store.accounts.values()}
        if base == "fleet":
            parsed["owner"] = find_account(app, body.get("owner", "demo")).username
            parsed["random_seed"] = random_seed
        elif any(u not in accounts for u in ("demo", "demo-2fa", "demo-collab")):
            raise ControlError(409, "the seed's accounts do not exist")
        before = app.counts()
        if base != "empty":
            seed_generator(base)(app, accounts, **parsed)
        after = app.counts()
        return 200, {k: after[k] - before[k] for k in after if k != "open_streams"}


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
    body = json_body(req, ("commercial", "two_factor"))
    commercial = bool_field(body, "commercial", None)
    two_factor = bool_field(body, "two_factor", None)
    with app.store.lock:
        acct = find_account(app, username)
        if commercial is not None:
            acct.commercial = commercial
        if two_factor is not None:
            acct.two_factor = two_factor
            if two_factor and not acct.totp_secret:
                acct.totp_secret = totp.new_secret(app.store.rng)
        return 200, _account_entry(acct)


def otp(app: Any, req: Request) -> Answer:
    username = query_value(req, "account")
    if not username:
        raise ControlError(400, "the query parameter 'account' is required")
    with app.store.lock:
        acct = find_account(app, username)
        if not acct.two_factor or not acct.totp_secret:
            raise ControlError(404, f"account '{username}' has no two-factor authentication")
        secret = acct.totp_secret
    now = time.time()  # TOTP follows the real clock, never the emulator's (§2.3)
    return 200, {"otp": totp.totp(secret, now), "valid_for_s": totp.seconds_remaining(now)}


# -- clock (§8.8) ----------------------------------------------------------------------------
def _clock_view(app: Any) -> dict:
    clock = app.clock
    return {"now": iso(clock.now()), "offset_s": clock.offset_s, "speed": clock.speed}


def get_clock(app: Any, req: Request) -> Answer:
    return 200, _clock_view(app)


def post_clock(app: Any, req: Request) -> Answer:
    body = json_body(req, ("advance_s", "speed"))
    advance = float(number_field(body, "advance_s", 0.0))
    speed = body.get("speed")
    if speed is not None and (not isinstance(speed, int | float) or isinstance(speed, bool)
                              or not 0 < speed <= 1_000_000):
        raise ControlError(400, "'speed' must be a number above 0")
    app.clock.advance(advance, None if speed is None else float(speed))
    return 200, _clock_view(app)


ROUTES = (
    ("GET", "/", status),
    ("GET", "/config", get_config),
    ("PATCH", "/config", patch_config),
    ("POST", "/reset", reset),
    ("POST", "/seed", seed),
    ("GET", "/accounts", list_accounts),
    ("PATCH", "/accounts/{username}", patch_account),
    ("GET", "/otp", otp),
    ("GET", "/clock", get_clock),
    ("POST", "/clock", post_clock),
)


def register(router: Router) -> None:
    for method, path, handler in (*ROUTES, *control_devices.ROUTES, *control_faults.ROUTES):
        router.add(method, path, handler, auth=False)
