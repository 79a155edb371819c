"""The emulator's runtime configuration (§8.3): defaults and merging."""

from __future__ import annotations

import copy
from typing import Any

DEFAULTS: dict[str, Any] = {
    "access_token_lifetime_s": 3600,
    "login_token_lifetime_s": 300,
    "refresh_tokens_per_account": 5,
    "login_keys_per_account": 10,
    "rate_limit": {"limit": 40, "window_s": 1},
    "logstream": {
        "devices_per_stream": 8,
        "streams_per_account": 1,
        "keep_alive_s": 30,
        "idle_lifetime_s": 60,
    },
    "log_retention": 1000,
    "simulation": {
        "enabled": False,
        "log_rate_per_min": 6,
        "flip_interval_s": 120,
        "restart_delay_s": 1.0,
    },
    "webhook_timeout_s": 5,
}


def default_config() -> dict[str, Any]:
    """A fresh, deep copy of the defaults."""
    return copy.deepcopy(DEFAULTS)


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge `changes` into `base` in place, one level of nested objects deep; unknown keys fail."""
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown configuration key '{key}'")
        if isinstance(DEFAULTS[key], dict):
            if not isinstance(value, dict):
                raise ValueError(f"'{key}' must be an object")
            for sub, subval in value.items():
                if sub not in DEFAULTS[key]:
                    raise ValueError(f"unknown configuration key '{key}.{sub}'")
                _check_type(f"{key}.{sub}", DEFAULTS[key][sub], subval)
                base[key][sub] = subval
        else:
            _check_type(key, DEFAULTS[key], value)
            base[key] = value
    return base


def _check_type(name: str, default: Any, value: Any) -> None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    else:
        ok = True
    if not ok:
        raise ValueError(f"'{name}' has an invalid value")
