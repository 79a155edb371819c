"""/_emulator faults and observation (§8.7, §8.9): faults, tokens, stream drops, requests, sink."""

from __future__ import annotations

from typing import Any

from .control_input import (
    Answer,
    bool_field,
    find_account,
    int_field,
    json_body,
    number_field,
    query_value,
)
from .framework import ControlError, Request
from .logstreams import DROP_MODES


# -- fault injection (§8.7) ------------------------------------------------------------------
def get_faults(app: Any, req: Request) -> Answer:
    return 200, app.faults.read()


def put_faults(app: Any, req: Request) -> Answer:
    try:
        return 200, app.faults.replace(json_body(req))
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def delete_faults(app: Any, req: Request) -> Answer:
    app.faults.clear()
    return 200, app.faults.read()


def fail_next(app: Any, req: Request) -> Answer:
    body = json_body(req, ("count", "status", "method", "path", "after_processing",
                           "retry_after_s"))
    bool_field(body, "after_processing", None)
    number_field(body, "retry_after_s", None)
    try:
        return 200, {"queued": app.faults.queue(body)}
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def expire_tokens(app: Any, req: Request) -> Answer:
    body = json_body(req, ("kind", "account"))
    kind = body.get("kind", "access")
    if kind not in ("access", "refresh", "login", "all"):
        raise ControlError(400, "'kind' must be access, refresh, login or all")
    store = app.store
    with store.lock:
        only = find_account(app, body["account"]).id if body.get("account") is not None else None
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
    body = json_body(req, ("mode", "after_events", "account"))
    mode = body.get("mode", "abort")
    if mode not in DROP_MODES:
        raise ControlError(400, "'mode' must be abort, close or stall")
    after_events = int_field(body, "after_events", None, 1)
    account = body.get("account")
    if account is not None:
        with app.store.lock:
            find_account(app, account)
    return 200, {"connections": app.hub.drop(mode, after_events, account)}


# -- observation (§8.9) ----------------------------------------------------------------------
def get_requests(app: Any, req: Request) -> Answer:
    raw = query_value(req, "since")
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
    ("GET", "/faults", get_faults),
    ("PUT", "/faults", put_faults),
    ("DELETE", "/faults", delete_faults),
    ("POST", "/faults/fail_next", fail_next),
    ("POST", "/tokens/expire", expire_tokens),
    ("POST", "/logstreams/drop", drop_streams),
    ("GET", "/requests", get_requests),
    ("DELETE", "/requests", delete_requests),
    ("GET", "/webhook_deliveries", get_deliveries),
    ("DELETE", "/webhook_deliveries", delete_deliveries),
    ("POST", "/sink/{name}", sink_post),
    ("GET", "/sink", sink_get),
    ("DELETE", "/sink", sink_delete),
)
