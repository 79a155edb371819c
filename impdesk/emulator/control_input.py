"""Request parsing shared by the /_emulator control handlers: body, query, fields, lookups."""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .framework import ControlError, Request
from .model import Account, Device

Answer = tuple[int, Any]


def json_body(req: Request, allowed: tuple[str, ...] | None = None) -> dict:
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


def query_value(req: Request, name: str) -> str | None:
    return next((v for k, v in req.query if k == name), None)


def int_field(body: dict, key: str, default: Any, minimum: int = 0) -> Any:
    value = body.get(key, default)
    if value is default:
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ControlError(400, f"'{key}' must be a whole number of at least {minimum}")
    return value


def number_field(body: dict, key: str, default: Any, minimum: float = 0.0) -> Any:
    value = body.get(key, default)
    if value is default:
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
        raise ControlError(400, f"'{key}' must be a number of at least {minimum:g}")
    return value


def bool_field(body: dict, key: str, default: Any) -> Any:
    value = body.get(key, default)
    if value is not default and not isinstance(value, bool):
        raise ControlError(400, f"'{key}' must be true or false")
    return value


def find_account(app: Any, username: Any) -> Account:
    if not isinstance(username, str):
        raise ControlError(400, "the account must be a username")
    acct = app.store.account_by_username(username)
    if acct is None:
        raise ControlError(404, f"no account '{username}'")
    return acct


def find_device(app: Any, ident: Any) -> Device:
    if not isinstance(ident, str) or not ident:
        raise ControlError(400, "a device identifier is required")
    device = app.store.find_device(None, ident)
    if device is None:
        raise ControlError(404, f"no device '{ident}'")
    return device
