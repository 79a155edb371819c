"""The emulator's core: wires store, clock, routes, limits and faults, and answers requests."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qsl, unquote

from .config import merge
from .errors import DETAIL_TOKEN_INVALID, DETAIL_TOKEN_REQUIRED, STATUS_CODES, ApiError
from .faults import Faults, RateLimiter
from .framework import Request, Response, Router, StreamResponse
from .scheduler import Scheduler
from .store import Store

log = logging.getLogger(__name__)
DROP = object()  # answer: close the connection without a response
BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


class Emulator:
    """Everything behind the HTTP socket; thread-safe."""

    def __init__(self, seed: str = "demo", config: dict | None = None, control: bool = True,
                 random_seed: int = 0, seed_options: dict | None = None,
                 simulation_override: bool | None = None,
                 start_faults: dict | None = None) -> None:
        self.store = Store()
        self.clock = self.store.clock
        self.scheduler = Scheduler(self.clock, self.store.lock)
        self.store.schedule = self.scheduler.call_later
        self.faults = Faults()
        self.limiter = RateLimiter()
        self.control_enabled = control
        self.simulation_override = simulation_override
        self.start_faults = dict(start_faults or {})
        self.start_seed = seed
        self.start_seed_options = dict(seed_options or {})
        self.start_random_seed = random_seed
        self.start_config = _deep_copy(self.store.config)
        if config:
            merge(self.start_config, config)
        self.seed_name = seed
        self.base_url = ""  # set by the HTTP server once bound
        self._log_lock = threading.Lock()
        self.request_log: deque[dict] = deque(maxlen=10000)
        self.request_seq = 0
        self.api = Router()
        self.control = Router()
        from . import control, routes
        from .logstreams import Hub
        from .simulation import Simulation
        from .webhooks import Dispatcher

        self.hub = Hub(self)
        self.webhooks = Dispatcher(self)
        self.simulation = Simulation(self)
        self.store.on_log = self.hub.publish
        self.store.on_device_removed = self.hub.device_removed
        self.store.on_webhook_event = self.webhooks.fire
        routes.register(self.api)
        control.register(self.control)
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------
    def reset(self, seed: str | None = None, config: dict | None = None,
              random_seed: int | None = None, **seed_options: Any) -> dict:
        """Wipe everything and load a seed (§8.4)."""
        from .seeds import load_seed

        name = seed or self.start_seed
        options = seed_options or (self.start_seed_options if seed is None else {})
        with self.store.lock:
            self.hub.reset()
            self.scheduler.clear()
            self.faults.clear()
            self.limiter.clear()
            self.clock.reset()
            with self._log_lock:
                self.request_log.clear()
            self.webhooks.clear()
            self.store.config = _deep_copy(self.start_config)
            if self.simulation_override is None:
                # The simulation runs by default for the desktop demo only (§8.3).
                self.store.config["simulation"]["enabled"] = name == "demo"
            if self.start_faults:
                self.faults.replace(self.start_faults)
            if config:
                merge(self.store.config, config)
            rs = self.start_random_seed if random_seed is None else random_seed
            self.store.clear(rs)
            self.seed_name = name
            load_seed(self, name, **options)
            self.simulation.restart()
            return {"seed": name, "counts": self.counts()}

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, url: str) -> None:
        # The first reset runs before the server binds its port; seeded webhooks that point at
        # the sink were written with a provisional origin and follow the real one here.
        from .seeds.builder import rebase_sink_urls

        with self.store.lock:
            old = getattr(self, "_base_url", "")
            self._base_url = url
            rebase_sink_urls(self, old, url)

    def stop(self) -> None:
        self.simulation.stop()
        self.hub.reset()
        self.scheduler.stop()

    def counts(self) -> dict[str, int]:
        s = self.store
        return {
            "accounts": len(s.accounts),
            "products": len(s.products),
            "devicegroups": len(s.groups),
            "devices": len(s.devices),
            "deployments": len(s.deployments),
            "log_entries": sum(len(d.logs) for d in s.devices.values()),
            "open_streams": self.hub.open_connections(),
        }

    # -- /v5 ---------------------------------------------------------------------------
    def handle_api(self, req: Request, full_path: str) -> Response | StreamResponse | object:
        """Answer one /v5 request in the order of §4.2; adds the rate-limit headers."""
        delay = self.faults.latency_s(full_path)
        if delay:
            time.sleep(delay)
        rate_headers: dict[str, str] = {}
        try:
            limit = self.store.config["rate_limit"]
            decision = self.limiter.check(self._bucket(req), int(limit["limit"]),
                                          float(limit["window_s"]))
            if decision is not None:
                rate_headers = decision.headers
                if not decision.allowed:
                    raise ApiError("PX400", headers=dict(rate_headers),
                                   n=rate_headers["Retry-After"])
            self._injected_before(req, full_path)
            handler, needs_auth, takes_body, params = self.api.match(req.method, req.path)
            if needs_auth:
                self._authenticate(req)
            if takes_body:
                req.json()
            answer = handler(self, req, **params)
            rule = self.faults.take_rule(req.method, full_path, after_processing=True,
                                         query=_query_text(req))
            if rule is not None:
                answer = self._fault_answer(rule["status"], rule.get("retry_after_s"))
        except _Drop:
            return DROP
        except ApiError as exc:
            answer = Response(exc.status, exc.document(), dict(exc.headers))
        except Exception:
            log.exception("unexpected error in %s %s", req.method, req.path)
            err = ApiError("XX500")
            answer = Response(err.status, err.document())
        if isinstance(answer, Response | StreamResponse):
            for key, value in rate_headers.items():
                answer.headers.setdefault(key, value)
        return answer

    def _bucket(self, req: Request) -> str:
        m = BEARER.match(req.header("Authorization") or "")
        if m and m.group(1) in self.store.access_tokens:
            return "token:" + m.group(1)
        return "ip:" + req.client_ip

    def _injected_before(self, req: Request, full_path: str) -> None:
        retry_after = self.faults.forced_429()
        if retry_after is not None:
            raise ApiError("PX400", headers={"Retry-After": str(retry_after)}, n=retry_after)
        status = self.faults.random_error(full_path)
        if status is not None:
            raise _fault_error(status, None)
        rule = self.faults.take_rule(req.method, full_path, after_processing=False,
                                     query=_query_text(req))
        if rule is not None:
            answer = self._fault_answer(rule["status"], rule.get("retry_after_s"))
            if answer is DROP:
                raise _Drop()
            raise _fault_error(rule["status"], rule.get("retry_after_s"))

    def _fault_answer(self, status: Any, retry_after: Any) -> Response | object:
        if status == "drop":
            return DROP
        err = _fault_error(status, retry_after)
        return Response(err.status, err.document(), dict(err.headers))

    def _authenticate(self, req: Request) -> None:
        m = BEARER.match(req.header("Authorization") or "")
        if not m:
            raise ApiError("PX100", detail=DETAIL_TOKEN_REQUIRED)
        with self.store.lock:
            record = self.store.access_tokens.get(m.group(1))
            if record is None or record.revoked or record.account_id not in self.store.accounts:
                raise ApiError("PX100", detail=DETAIL_TOKEN_INVALID)
            if record.expires_at <= self.clock.now():
                raise ApiError("PX101")
            req.account = self.store.accounts[record.account_id]
            req.token = record.token

    # -- request log (§8.9) --------------------------------------------------------------
    def record(self, entry: dict) -> None:
        with self._log_lock:
            self.request_seq += 1
            entry["seq"] = self.request_seq
            self.request_log.append(entry)


class _Drop(Exception):
    """Raised inside handle_api to close the connection without an answer."""


def _fault_error(status: Any, retry_after: Any) -> ApiError:
    code = STATUS_CODES.get(status, "XX503")
    headers = {}
    if status == 429:
        n = int(retry_after if retry_after is not None else 1)
        headers["Retry-After"] = str(n)
        return ApiError(code, headers=headers, n=n)
    if status == 503 and retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    return ApiError(code, headers=headers)


def _query_text(req: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in req.query)


def _deep_copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def split_target(target: str) -> tuple[str, list[tuple[str, str]]]:
    """Percent-decode and normalise a request target into (path, query pairs) (§1.1)."""
    raw_path, _, raw_query = target.partition("?")
    segments = [unquote(seg, errors="replace") for seg in raw_path.split("/") if seg]
    path = "/" + "/".join(segments)
    query = parse_qsl(raw_query, keep_blank_values=True, errors="replace")
    return path, query
