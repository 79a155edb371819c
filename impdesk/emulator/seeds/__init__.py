"""Seed data sets (§8.10): empty, small, demo and fleet:N — deterministic, relative to now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import Account

DEMO_PASSWORD = "impdesk-demo"
DEMO_TOTP_SECRET = "IMPDESKDEMOTOTPSECRET234"
ACCOUNTS = (
    # username, email, commercial, two_factor, unbond key
    ("demo", "demo@example.com", True, False, "demo-unbond-key"),
    ("demo-2fa", "demo-2fa@example.com", False, True, "demo-2fa-unbond-key"),
    ("demo-collab", "demo-collab@example.com", False, False, "demo-collab-unbond-key"),
)
SEEDS = ("empty", "small", "demo", "fleet")


def parse_seed_name(name: str) -> tuple[str, dict[str, Any]]:
    """`fleet:500` -> ("fleet", {"devices": 500}); raises ValueError for unknown seeds."""
    base, _, arg = name.partition(":")
    if base not in SEEDS:
        raise ValueError(f"unknown seed '{name}'")
    if arg:
        if base != "fleet" or not arg.isdigit():
            raise ValueError(f"unknown seed '{name}'")
        return base, {"devices": int(arg)}
    return base, {}


def add_accounts(emulator: Any) -> dict[str, Account]:
    """The three accounts every seed has, created 30 days before now."""
    store = emulator.store
    now = store.clock.now()
    out = {}
    for i, (username, email, commercial, two_factor, unbond) in enumerate(ACCOUNTS):
        acct = Account(
            id=store.new_uuid(), username=username, email=email, password=DEMO_PASSWORD,
            commercial=commercial, two_factor=two_factor,
            totp_secret=DEMO_TOTP_SECRET if two_factor else None,
            unbond_key=unbond, created_at=now - 30 * 86400 + i,
        )
        store.accounts[acct.id] = acct
        out[username] = acct
    return out


def seed_generator(base: str) -> Callable[..., None]:
    """The function that adds the content of seed `base` (small, demo or fleet)."""
    from . import demo, fleet, small  # on first use: parsing names and accounts needs none

    return {"small": small.seed_small, "demo": demo.seed_demo, "fleet": fleet.seed_fleet}[base]


def load_seed(emulator: Any, name: str, **options: Any) -> None:
    """Load seed `name` (optionally `fleet:N`) into an empty store."""
    base, parsed = parse_seed_name(name)
    parsed.update(options)
    accounts = add_accounts(emulator)
    if base == "empty":
        return
    seed_generator(base)(emulator, accounts, **parsed)
