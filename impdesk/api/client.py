"""The impCentral HTTP client: construction, transport (limits, retries, 401 replay), resources."""

from __future__ import annotations

import json as jsonlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from .. import __version__
from .auth import (
    BearerAuth,
    InsecureEndpointError,
    MemoryTokenStore,
    Session,
    TokenStore,
    check_base_url,
    same_origin,
)
from .deployments import DeploymentsMixin
from .device_groups import DeviceGroupsMixin
from .devices import DevicesMixin
from .errors import (
    ApiConnectionError,
    AuthenticationError,
    RateLimited,
    ResponseParseError,
    error_from_response,
)
from .logstreams import LogStreamsMixin
from .paging import PAGE_SIZE, PagingMixin, ProgressFn
from .products import ProductsMixin
from .ratelimit import RateLimiter
from .records import Resource, record_from_json
from .retry import RetryPolicy, retry_after_seconds
from .signin import SignInMixin
from .snapshot import SnapshotMixin

__all__ = ["JSONAPI", "PAGE_SIZE", "PAGE_WORKERS", "TIMEOUT", "BaseClient", "Client", "ProgressFn"]

log = logging.getLogger(__name__)

JSONAPI = "application/vnd.api+json"
TIMEOUT = (3.05, 30.0)
PAGE_WORKERS = 6


class BaseClient(SignInMixin, PagingMixin):
    """Transport for the impCentral v5 API (use `Client`).

    `Client(base_url)` talks to a real impCloud (HTTPS) or a loopback emulator. Sign in with
    `login()`, `complete_login()`, `login_with_key()` or `login_with_refresh_token()`; then use the
    resource methods. The library never prints; it logs through `logging` without secrets.
    """

    def __init__(self, base_url: str, *, token_store: TokenStore | None = None,
                 timeout: tuple[float, float] = TIMEOUT, retry: RetryPolicy | None = None,
                 limiter: RateLimiter | None = None, page_workers: int = PAGE_WORKERS,
                 ca_bundle: str | None = None,
                 on_auth_lost: Callable[[AuthenticationError], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = check_base_url(base_url)
        self.token_store: TokenStore = token_store or MemoryTokenStore()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.page_workers = page_workers
        self.on_auth_lost = on_auth_lost
        self._sleep = sleep
        self._auth = Session(clock=clock)  # the clock that times token expiry (tests fake it)
        self._refresh_lock = threading.Lock()
        self.http = requests.Session()
        self.http.trust_env = False  # a ~/.netrc entry must never replace our Authorization
        self.http.headers["User-Agent"] = f"impdesk/{__version__}"
        self.http.headers["Accept"] = f"{JSONAPI}, application/json"
        if ca_bundle:
            self.http.verify = ca_bundle
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(8, page_workers * 2))
        self.http.mount("https://", adapter)
        self.http.mount("http://", adapter)
        self.stats = {"requests": 0, "rate_limited": 0, "retries": 0}
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def _lost(self, exc: AuthenticationError) -> AuthenticationError:
        """Tell `on_auth_lost` that the session is gone; returns `exc` for raising."""
        if self.on_auth_lost is not None:
            self.on_auth_lost(exc)
        return exc

    # -- requests ----------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        """An absolute URL for a path, or a server-given URL after the origin check (§1.1)."""
        if path_or_url.startswith("/"):
            return self.base_url + path_or_url
        if not same_origin(path_or_url, self.base_url):
            raise InsecureEndpointError(
                "The server sent a link to another origin; impdesk will not send credentials "
                "there.")
        return path_or_url

    def request(self, method: str, path_or_url: str, *, json: Any = None,
                params: dict | list | None = None, headers: dict | None = None,
                retry: bool = True, timeout: tuple[float, float] | None = None) -> Any:
        """Send one authenticated request and return the decoded body (None for no body)."""
        hdrs = dict(headers or {})
        data = None
        if json is not None:
            data = jsonlib.dumps(json)
            hdrs.setdefault("Content-Type", JSONAPI)
        resp = self._send(method, self.url(path_or_url), data=data, params=params, headers=hdrs,
                          retry=retry, timeout=timeout)
        return self._decode(resp)

    def _decode(self, resp: requests.Response) -> Any:
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise ResponseParseError(resp.status_code,
                                     message="The service sent an unreadable answer.") from exc

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    def _send(self, method: str, url: str, *, data: str | None = None,
              params: dict | list | None = None, headers: dict | None = None,
              authenticated: bool = True, retry: bool = True,
              timeout: tuple[float, float] | None = None) -> requests.Response:
        """Send with limiter, token renewal, 401 replay, 429 waits and idempotent retries."""
        attempt = 0
        replayed = False
        while True:
            token = self._ensure_fresh() if authenticated else None
            ticket = self.limiter.acquire()
            self._count("requests")
            try:
                resp = self.http.request(
                    method, url, data=data.encode() if data is not None else None, params=params,
                    headers=headers, auth=BearerAuth(token) if token else None,
                    timeout=timeout or self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                self.limiter.release(None, ticket)
                not_sent = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError)
                    and "NewConnectionError" in repr(exc))
                if retry and self.retry.should_retry(method, None, attempt, connect_error=True,
                                                     sent=not not_sent):
                    self._count("retries")
                    self._sleep(self.retry.backoff(attempt))
                    attempt += 1
                    continue
                raise ApiConnectionError(_describe_exception(exc),
                                         may_have_been_sent=not not_sent) from None
            self.limiter.release(resp.headers, ticket)
            status = resp.status_code
            if status < 400:
                return resp
            if status == 429:
                self._count("rate_limited")
                wait = retry_after_seconds(resp.headers)
                self.limiter.block_for(wait)
                # A 429 was not processed: repeat it even where `retry` is off (§6).
                if self.retry.should_retry(method, 429, attempt):
                    log.info("rate limited; waiting %.1f s", wait)
                    attempt += 1
                    continue
                raise error_from_response(status, resp.content, retry_after=wait)
            if status == 401 and authenticated and not replayed:
                replayed = True
                self._refresh(stale_token=token)
                continue
            if retry and self.retry.should_retry(method, status, attempt):
                self._count("retries")
                wait = self.retry.backoff(attempt)
                if resp.headers.get("Retry-After"):
                    wait = max(wait, retry_after_seconds(resp.headers))
                self._sleep(wait)
                attempt += 1
                continue
            err = error_from_response(status, resp.content)
            if isinstance(err, RateLimited):
                err.retry_after = retry_after_seconds(resp.headers)
            if status == 401 and authenticated:
                self._lost(err if isinstance(err, AuthenticationError)
                           else AuthenticationError(401, err.errors))
            raise err

    # -- resources ---------------------------------------------------------------------------
    def get_resource(self, path: str) -> Resource:
        doc = self.request("GET", path)
        return record_from_json(_data_object(doc))

    def create(self, collection: str, type_: str, attributes: dict,
               relationships: dict | None = None, **kw: Any) -> Resource:
        body: dict[str, Any] = {"type": type_, "attributes": attributes}
        if relationships:
            body["relationships"] = relationships
        doc = self.request("POST", collection, json={"data": body}, **kw)
        return record_from_json(_data_object(doc))

    def update(self, path: str, type_: str, id_: str, attributes: dict | None = None,
               relationships: dict | None = None, **kw: Any) -> Resource:
        body: dict[str, Any] = {"type": type_, "id": id_}
        if attributes is not None:
            body["attributes"] = attributes
        if relationships is not None:
            body["relationships"] = relationships
        doc = self.request("PATCH", path, json={"data": body}, **kw)
        return record_from_json(_data_object(doc))


def _data_object(doc: Any) -> dict:
    if isinstance(doc, dict) and isinstance(doc.get("data"), dict):
        return doc["data"]
    raise ResponseParseError(200, message="The service answered without a resource.")


def _describe_exception(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "Could not connect to the impCentral service (timed out)."
    if isinstance(exc, requests.ReadTimeout):
        return "The impCentral service did not answer in time."
    if isinstance(exc, requests.ConnectionError):
        return "Could not reach the impCentral service (connection failed)."
    return "The request to the impCentral service failed."


class Client(ProductsMixin, DeviceGroupsMixin, DevicesMixin, DeploymentsMixin, LogStreamsMixin,
             SnapshotMixin, BaseClient):
    """A thread-safe impCentral v5 client for a real impCloud or the local emulator.

    `Client(base_url)` requires HTTPS unless the host is loopback. Sign in with `login()` (which
    may raise `OtpRequired`), `complete_login()`, `login_with_key()` or
    `login_with_refresh_token()`, then call the resource methods or `fetch_snapshot()`.
    The library never prints; it logs through `logging` and never logs a secret.
    """
