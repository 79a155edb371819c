"""Input checks run before anything is sent (contract §3.2, §3.3.2, §3.4.4): None means valid."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..api.records import PRODUCTION_TYPES
from ..api.snapshot import Snapshot

NAME_MAX = 80
DESCRIPTION_MAX = 255
REGION_MAX = 64
ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
ENV_MAX_BYTES = 16 * 1024


def check_name(name: str, taken: Iterable[str] = (), what: str = "product") -> str | None:
    """Product and group names: 1-80 characters, not blank, unique in their scope (exact)."""
    if not name or not name.strip():
        return "A name is required; it may not be blank."
    if len(name) > NAME_MAX:
        return f"Names may be at most {NAME_MAX} characters long (this one has {len(name)})."
    if name in set(taken):
        scope = "owner" if what == "product" else "product"
        return f"Another {what} of this {scope} is already named \u201c{name}\u201d."
    return None


def check_device_name(name: str) -> str | None:
    """Device names: at most 80 characters; empty clears the name."""
    if len(name) > NAME_MAX:
        return f"Names may be at most {NAME_MAX} characters long (this one has {len(name)})."
    return None


def check_description(text: str | None) -> str | None:
    if text is not None and len(text) > DESCRIPTION_MAX:
        return (f"Descriptions may be at most {DESCRIPTION_MAX} characters long "
                f"(this one has {len(text)}).")
    return None


def check_region(region: str | None, type_: str) -> str | None:
    """A group's region: create only, on production and test production types, 1-64 characters.

    None or "" means "no region" (the attribute is left out).
    """
    if not region:
        return None
    if type_ not in PRODUCTION_TYPES:
        return "Only production and test production device groups have a region."
    if len(region) > REGION_MAX:
        return (f"Regions may be at most {REGION_MAX} characters long "
                f"(this one has {len(region)}).")
    return None


def product_names(snap: Snapshot, owner_id: str | None, exclude_id: str | None = None) -> set[str]:
    """Names already used by the owner's products (the caller's own when owner_id is None)."""
    me = snap.me.id if snap.me else None
    owner = owner_id or me
    return {p.name for p in snap.products
            if (p.owner_id or me) == owner and p.id != exclude_id}


def group_names(snap: Snapshot, product_id: str, exclude_id: str | None = None) -> set[str]:
    return {g.name for g in snap.device_groups
            if g.product_id == product_id and g.id != exclude_id}


# -- environment variables ---------------------------------------------------------------------
STRING, NUMBER = "string", "number"


@dataclass
class EnvRow:
    """One row of the key/value editor as typed; `kind` says how to send the value."""

    key: str
    value: str
    kind: str = STRING


def parse_number(text: str) -> int | float | None:
    """A JSON number from text, or None."""
    text = text.strip()
    try:
        value: int | float = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rows_from_env(env: dict[str, Any]) -> list[EnvRow]:
    rows = []
    for key, value in env.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            rows.append(EnvRow(key, json.dumps(value), NUMBER))
        else:
            rows.append(EnvRow(key, str(value), STRING))
    return rows


def check_env_rows(rows: list[EnvRow]) -> tuple[dict[str, Any], dict[int, str], str | None]:
    """Validate the editor's rows: (env_vars, row index → message, message for the whole).

    Rows with an empty key and an empty value are ignored (the editor's blank last row).
    """
    env: dict[str, Any] = {}
    errors: dict[int, str] = {}
    for i, row in enumerate(rows):
        if not row.key and not row.value:
            continue
        if not ENV_KEY.fullmatch(row.key):
            errors[i] = ("Keys start with a letter and contain only letters, digits and '_' "
                         "(at most 64 characters).")
        elif row.key in env:
            errors[i] = f"The key \u201c{row.key}\u201d is used twice."
        elif row.kind == NUMBER and parse_number(row.value) is None:
            errors[i] = f"\u201c{row.value}\u201d is not a number."
        if i in errors:
            continue
        env[row.key] = parse_number(row.value) if row.kind == NUMBER else row.value
    overall = None
    size = env_size(env)
    if size > ENV_MAX_BYTES:
        overall = (f"Environment variables may take at most 16 KiB as JSON "
                   f"(these take {size} bytes).")
    return env, errors, overall


def env_size(env: dict[str, Any]) -> int:
    return len(json.dumps(env, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def check_env_vars(env: Any) -> str | None:
    """The §3.3.2 rules for a whole env_vars object."""
    if not isinstance(env, dict):
        return "Environment variables must be a set of keys and values."
    for key, value in env.items():
        if not isinstance(key, str) or not ENV_KEY.fullmatch(key):
            return f"The key \u201c{key}\u201d is not valid."
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return f"The value of \u201c{key}\u201d must be a string or a number."
        if isinstance(value, float) and not math.isfinite(value):
            return f"The value of \u201c{key}\u201d must be a finite number."
    if env_size(env) > ENV_MAX_BYTES:
        return "Environment variables may take at most 16 KiB as JSON."
    return None
