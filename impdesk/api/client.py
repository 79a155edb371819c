"""The impCentral HTTP client: sessions, auth, limits, retries, paging and snapshots."""

from __future__ import annotations

import json as jsonlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .. import __version__
from .auth import (
    REFRESH_MARGIN_S,
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
    ApiError,
    AuthenticationError,
    RateLimited,
    ResponseParseError,
    error_from_response,
)
from .logstreams import LogStreamsMixin
from .products import ProductsMixin
from .ratelimit import RateLimiter
from .records import Resource, record_from_json
from .retry import RetryPolicy, retry_after_seconds
from .snapshot import SnapshotMixin

log = logging.getLogger(__name__)

JSONAPI = "application/vnd.api+json"
TIMEOUT = (3.05, 30.0)
PAGE_SIZE = 100
PAGE_WORKERS = 6
MAX_PAGES = 100_000  # a safety stop for a server whose `next` never ends
ProgressFn = Callable[[str, int, int | None, int], None]  # (list name, pages done, total, items)


class BaseClient:
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

    # -- authentication (§2) ---------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return self._auth.access_token is not None

    def login(self, identifier: str, password: str) -> None:
        """Sign in with email/username and password.

        Raises:
            OtpRequired: the account uses 2FA; call `complete_login(err.login_token, otp)`.
            AuthenticationError: wrong identifier or password (PX100).
        """
        answer = self._auth_call("/auth", {"id": identifier, "password": password})
        self._auth.login_key = None
        self._adopt(answer)

    def complete_login(self, login_token: str, otp: str) -> None:
        """Finish a 2FA login with the one-time password (sent in its header, §2.3).

        Raises:
            InvalidOtp: the code was wrong; the same login token may be tried again.
            AuthenticationError: the login token is dead; start again with `login()`.
        """
        answer = self._auth_call("/auth", {"login_token": login_token},
                                 headers={"X-Electricimp-OTP-Token": otp.strip()})
        self._auth.login_key = None
        self._adopt(answer)

    def login_with_key(self, key: str) -> None:
        """Sign in with a login key; later renewals use the same key.

        Raises:
            AuthenticationError: the key is unknown or deleted (any 4xx, §7.1 #10).
        """
        try:
            answer = self._auth_call("/auth/token", {"key": key})
        except ApiError as exc:
            if isinstance(exc, AuthenticationError | RateLimited) or not 400 <= exc.status < 500:
                raise
            raise AuthenticationError(exc.status, exc.errors,
                                      "The login key is not valid; sign in again.") from exc
        self._auth.login_key = key
        self._adopt(answer)

    def login_with_refresh_token(self, token: str | None = None) -> None:
        """Sign in with a refresh token (by default the one in the token store)."""
        token = token or self.token_store.load()
        if not token:
            raise AuthenticationError(401, message="No saved session; sign in again.")
        if token != self.token_store.load():
            self.token_store.save(token)
        self._auth.login_key = None
        self._refresh()

    def sign_out(self, revoke: bool = True) -> None:
        """Forget the tokens; optionally revoke our refresh token on the server first (§2.7)."""
        token = self.token_store.load()
        if revoke and token and self.signed_in:
            try:
                self.request("DELETE", f"/accounts/me/refresh_tokens/{quote(token, safe='')}",
                             retry=False)  # quoted: tokens are opaque (§1.8)
            except ApiError as exc:
                log.info("could not revoke the refresh token: %s", exc.code or exc.status)
        self.token_store.clear()
        self._auth.access_token = None
        self._auth.login_key = None

    def _auth_call(self, path: str, body: dict, headers: dict | None = None) -> dict:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        resp = self._send("POST", self.base_url + path, data=jsonlib.dumps(body), headers=hdrs,
                          authenticated=False)
        return self._decode(resp)

    def _adopt(self, answer: dict) -> None:
        """Take a token answer: access token, deadline from `expires_in`, maybe a refresh token."""
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise ResponseParseError(200, message="The sign-in answer carried no access token.")
        try:
            lifetime = float(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._auth.access_token = token
        # The local clock at receipt, never expires_at: clocks disagree (§2.5).
        self._auth.deadline = self._auth.clock() + lifetime
        refresh = answer.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self.token_store.save(refresh)  # persisted at once when rotated (§7.1 #9)

    def _refresh(self, stale_token: str | None = None) -> None:
        """Renew the access token once, even when many threads ask at the same time."""
        with self._refresh_lock:
            if stale_token is not None and self._auth.access_token != stale_token:
                return  # another thread already renewed it
            key = self._auth.login_key
            refresh = None if key else self.token_store.load()  # a key session renews by key
            if not refresh and not key:
                raise self._lost(AuthenticationError(401, message="The session has expired; "
                                                                  "sign in again."))
            body = {"key": key} if key else {"token": refresh}
            try:
                answer = self._auth_call("/auth/token", body)
            except ApiError as exc:
                if 400 <= exc.status < 500 and not isinstance(exc, RateLimited):
                    # Any 4xx but 429 means the credential is dead (§7.1 #10): forget it.
                    if refresh:
                        self.token_store.clear()
                    self._auth.login_key = None
                    self._auth.access_token = None
                    raise self._lost(AuthenticationError(exc.status, exc.errors,
                                                         "The saved session is no longer valid; "
                                                         "sign in again.")) from exc
                raise
            self._adopt(answer)

    def _lost(self, exc: AuthenticationError) -> AuthenticationError:
        if self.on_auth_lost is not None:
            self.on_auth_lost(exc)
        return exc

    def _ensure_fresh(self) -> str:
        token = self._auth.access_token
        if token is None:
            raise AuthenticationError(401, message="Not signed in.")
        if self._auth.seconds_left() < REFRESH_MARGIN_S and (
                self.token_store.load() or self._auth.login_key):
            try:
                self._refresh(stale_token=token)
            except AuthenticationError:
                raise
            except ApiError as exc:
                if self._auth.seconds_left() <= 0:
                    raise
                # A transient failure of an early renewal: the current token still works.
                log.info("early token renewal failed (%s); will retry", exc.code or exc.status)
                return token
            token = self._auth.access_token or token
        return token

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

    # -- lists (§5) ----------------------------------------------------------------------
    def list(self, path: str, filters: dict[str, str] | None = None, *, name: str | None = None,
             progress: ProgressFn | None = None, concurrent: bool = True,
             on_items: Callable[[list[Resource]], None] | None = None) -> list[Resource]:
        """Every item of a paginated list as typed records (de-duplicated by id, last wins)."""
        relay = None
        parsed: dict[int, tuple[dict, Resource]] = {}  # id(raw object) → the record made of it
        if on_items is not None:
            def relay(objs: list[dict]) -> None:
                records = []
                for obj in objs:
                    if isinstance(obj, dict):
                        record = record_from_json(obj)
                        parsed[id(obj)] = (obj, record)  # the raw object stays alive: id safe
                        records.append(record)
                on_items(records)
        # Each object is parsed once: the records handed to on_items are the ones returned.
        out = []
        for obj in self.list_raw(path, filters, name=name, progress=progress,
                                 concurrent=concurrent, on_items=relay):
            hit = parsed.get(id(obj))
            out.append(hit[1] if hit is not None and hit[0] is obj else record_from_json(obj))
        return out

    def list_raw(self, path: str, filters: dict[str, str] | None = None, *,
                 name: str | None = None, progress: ProgressFn | None = None,
                 concurrent: bool = True,
                 on_items: Callable[[list[dict]], None] | None = None) -> list[dict]:
        """Every raw resource object of a list, following the stop rules of §5.3.

        `on_items(page items)` sees each page's objects as they arrive (for progressive views).
        """
        items: dict[str, dict] = {}
        anonymous: list[dict] = []  # history entries have no id
        label = name or path.strip("/")
        pages_done = 0

        def take(doc: dict) -> int:
            data = doc.get("data")
            if not isinstance(data, list):
                raise ResponseParseError(200, message=f"The {label} list had no data array.")
            for obj in data:
                if isinstance(obj, dict) and obj.get("id") is not None:
                    items.pop(str(obj["id"]), None)
                    items[str(obj["id"])] = obj
                else:
                    anonymous.append(obj)
            if on_items is not None and data:
                on_items(data)
            return len(data)

        params = [(f"filter[{k}]", v) for k, v in sorted((filters or {}).items())]
        params += [("page[number]", "1"), ("page[size]", str(PAGE_SIZE))]
        first_url = self.base_url + path + "?" + urlencode(params, safe="[],:")
        doc = self.request("GET", first_url)
        pages_done = 1
        total = _page_count(doc)
        take(doc)
        if progress:
            progress(label, pages_done, total, len(items) + len(anonymous))
        seen = {first_url}
        next_url = _next_link(doc, first_url)
        if concurrent and total and total > 1 and next_url:
            urls = [_with_page(next_url, n) for n in range(2, total + 1)]
            workers = max(1, min(self.page_workers, len(urls)))
            with ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix="impdesk-page") as pool:
                # map() yields in page order as pages complete: progress stays live.
                for url, page in zip(urls, pool.map(lambda u: self.request("GET", u), urls),
                                     strict=True):
                    seen.add(url)
                    pages_done += 1
                    take(page)
                    doc = page
                    if progress:
                        progress(label, pages_done, total, len(items) + len(anonymous))
            next_url = _next_link(doc, urls[-1])
            if next_url and next_url in seen:
                next_url = None
        # Sequential following: the only way without `last`, and to catch growth meanwhile.
        while next_url and pages_done < MAX_PAGES:
            doc = self.request("GET", next_url)
            seen.add(next_url)
            pages_done += 1
            count = take(doc)
            if progress:
                progress(label, pages_done, _page_count(doc), len(items) + len(anonymous))
            candidate = _next_link(doc, next_url)
            if count == 0 or not candidate or candidate in seen:
                break
            next_url = candidate
        return list(items.values()) + anonymous

    def iter_pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Page documents one by one, strictly sequentially (what the official clients do)."""
        query = dict(params or {})
        query.setdefault("page[size]", str(PAGE_SIZE))
        url = self.base_url + path + "?" + urlencode(sorted(query.items()), safe="[],:")
        seen: set[str] = set()
        while url and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            doc = self.request("GET", url)
            yield doc
            if not doc.get("data"):
                return
            url = _next_link(doc, url)

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


def _page_count(doc: dict) -> int | None:
    """Pages announced by `links.last` (its page[number]), if any."""
    last = (doc.get("links") or {}).get("last") if isinstance(doc, dict) else None
    if not isinstance(last, str):
        return None
    for key, value in parse_qsl(urlsplit(last).query):
        if key == "page[number]" and value.isdigit():
            return int(value)
    return None


def _next_link(doc: dict, current: str) -> str | None:
    nxt = (doc.get("links") or {}).get("next") if isinstance(doc, dict) else None
    if not isinstance(nxt, str) or not nxt:
        return None
    nxt = urljoin(current, nxt)  # relative links resolve against the request (§7.1 #7)
    return None if nxt == current else nxt


def _with_page(url: str, number: int) -> str:
    parts = urlsplit(url)
    query = [(k, str(number) if k == "page[number]" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="[],:")))


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
