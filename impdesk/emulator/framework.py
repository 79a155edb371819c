"""Request/response objects, the route table and the JSON:API document helpers of /v5."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import DETAIL_DOC_IDENTIFIERS, ApiError

if TYPE_CHECKING:
    from .model import Account

MAX_BODY = 16 * 1024 * 1024
_NO_BODY = object()


@dataclass
class Request:
    """One parsed /v5 request."""

    method: str
    path: str  # decoded, normalised, without the /v5 prefix ("/devices/abc")
    query: list[tuple[str, str]]  # decoded key/value pairs in order
    headers: Any  # email.message.Message-like, case-insensitive .get()
    body: bytes
    client_ip: str
    origin: str  # "http://host:port" from the Host header
    app: Any = None
    account: Account | None = None
    token: str | None = None
    _json: Any = field(default=_NO_BODY, repr=False)

    @property
    def base(self) -> str:
        return self.origin + "/v5"

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        """The decoded body (None when empty); VX100 for invalid UTF-8 or JSON (§1.1)."""
        if self._json is _NO_BODY:
            if not self.body.strip():
                self._json = None
            else:
                try:
                    self._json = json.loads(self.body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError):
                    raise ApiError("VX100") from None
        return self._json


@dataclass
class Response:
    status: int = 200
    doc: Any = None  # JSON-serialisable body, None for 204
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/vnd.api+json"


@dataclass
class StreamResponse:
    """An answer that takes over the connection (the SSE log stream)."""

    run: Callable[[Any], None]  # called with the request handler; writes until done
    headers: dict[str, str] = field(default_factory=dict)


def ok(doc: Any, status: int = 200) -> Response:
    return Response(status, doc)


def no_content() -> Response:
    return Response(204, None)


# -- routing ------------------------------------------------------------------
Handler = Callable[..., Response | StreamResponse]


@dataclass
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, tuple[Handler, bool, bool]]  # method -> (handler, needs auth, takes body)


class Router:
    """Maps (method, path) to handlers; unknown paths are NF102, other methods VX120 (§3)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True,
            body: bool = False) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        for route in self.routes:
            if route.pattern.pattern == regex:
                route.methods[method] = (handler, auth, body)
                return
        self.routes.append(Route(re.compile(regex), {method: (handler, auth, body)}))

    def match(self, method: str, path: str) -> tuple[Handler, bool, bool, dict[str, str]]:
        for route in self.routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            if method not in route.methods:
                allow = ", ".join(sorted(route.methods))
                raise ApiError("VX120", headers={"Allow": allow}, method=method, path="/v5" + path)
            handler, auth, body = route.methods[method]
            return handler, auth, body, m.groupdict()
        raise ApiError("NF102", method=method, path="/v5" + path)


# -- documents --------------------------------------------------------------------
def data_object(req: Request, expected_types: tuple[str, ...] | str) -> dict:
    """The body's `data` resource object, checked for shape (VX101) and type (VX102)."""
    doc = req.json()
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise ApiError("VX101")
    data = doc["data"]
    if "type" not in data:
        raise ApiError("VX101")
    expected = (expected_types,) if isinstance(expected_types, str) else expected_types
    if data["type"] not in expected:
        raise ApiError("VX102", sent=_short(data["type"]), expected=expected[0])
    for member in ("attributes", "relationships"):
        if member in data and not isinstance(data[member], dict):
            raise ApiError("VX101")
    return data


def check_data_id(data: dict, matches: Callable[[str], bool]) -> None:
    """PATCH: an optional data.id must name the resource of the path (VX101)."""
    if "id" in data and not (isinstance(data["id"], str) and matches(data["id"])):
        raise ApiError("VX101")


def identifier_list(req: Request) -> list[dict]:
    """The identifier list of assign/unassign (§1.6): 1-100 device identifiers."""
    doc = req.json()
    data = doc.get("data") if isinstance(doc, dict) else None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not 1 <= len(data) <= 100:
        raise ApiError("VX101", detail=DETAIL_DOC_IDENTIFIERS)
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or "type" not in item:
            raise ApiError("VX101", detail=DETAIL_DOC_IDENTIFIERS)
    for item in data:
        if item["type"] != "device":
            raise ApiError("VX102", sent=_short(item["type"]), expected="device")
    return data


def relationship(value: Any) -> tuple[str, str] | None:
    """(type, id) of a bare or `{"data": ...}`-wrapped identifier; None when malformed."""
    if isinstance(value, dict) and "data" in value and "type" not in value:
        value = value["data"]
    if (isinstance(value, dict) and isinstance(value.get("type"), str)
            and isinstance(value.get("id"), str)):
        return value["type"], value["id"]
    return None


def check_keys(data: dict, attrs_allowed: tuple[str, ...], rels_allowed: tuple[str, ...]) -> None:
    """Unknown attributes are VX104, unknown relationships VX107 (§1.6)."""
    for name in data.get("attributes", {}):
        if name not in attrs_allowed:
            raise ApiError("VX104", name=_short(name))
    for name in data.get("relationships", {}):
        if name not in rels_allowed:
            raise ApiError("VX107", name=_short(name))


def check_name(value: Any, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ApiError("VX104", name="name")
    if not value.strip() or len(value) > 80:
        raise ApiError("VX105")
    return value


def check_description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError("VX104", name="description")
    if len(value) > 255:
        raise ApiError("VX106")
    return value


def apply_changes(record: Any, changes: dict[str, Any], now: float) -> bool:
    """Set changed attributes; `updated_at` moves (never back) only on a real change (§1.6)."""
    changed = False
    for key, value in changes.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    if changed:
        record.updated_at = max(record.updated_at, now)
    return changed


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 100 else text[:97] + "..."


# -- query parameters, pagination and filters (§5) -------------------------------------
_UNRESERVED = "-._~,"


@dataclass
class Page:
    number: int
    size: int


def parse_query(req: Request, filters: dict[str, Callable[[str], Any] | None]) -> tuple[
        dict[str, Any], Page]:
    """Validate filter[...] (VX108) then page[...] (VX109) parameters; others are ignored."""
    found: dict[str, Any] = {}
    seen_page: dict[str, str] = {}
    for key, value in req.query:
        if key.startswith("filter[") and key.endswith("]"):
            name = key[7:-1]
            if name not in filters or name in found:
                raise ApiError("VX108", key=_short(key))
            if value == "":
                raise ApiError("VX108", detail=f"The value '' is not valid for filter '{key}'.")
            check = filters[name]
            try:
                found[name] = check(value) if check else value
            except ValueError:
                raise ApiError(
                    "VX108", detail=f"The value '{_short(value)}' is not valid for filter '{key}'."
                ) from None
    for key, value in req.query:
        if key.startswith("page[") and key.endswith("]"):
            if key not in ("page[number]", "page[size]") or key in seen_page:
                raise ApiError("VX109", param=_short(key))
            seen_page[key] = value
    page = Page(1, 20)
    for key, attr in (("page[number]", "number"), ("page[size]", "size")):
        if key in seen_page:
            raw = seen_page[key]
            if not re.fullmatch(r"[0-9]+", raw) or int(raw) < 1:
                raise ApiError("VX109", param=key)
            setattr(page, attr, int(raw))
    page.size = min(page.size, 100)
    return found, page


def encode_value(value: str) -> str:
    return quote(value, safe=_UNRESERVED)


def page_document(req: Request, items: list, page: Page, render: Callable[[Any], dict],
                  path: str | None = None) -> dict:
    """One page of `items` with the canonical absolute links of §5.3."""
    quirks = _quirks(req)
    total = len(items)
    last = max(1, -(-total // page.size))
    start = (page.number - 1) * page.size
    if "duplicates" in quirks and page.number > 1:
        start -= 1  # each later page repeats the previous page's last item
    chunk = items[start:start + page.size] if page.number <= last else []
    filters = sorted((k, v) for k, v in req.query if k.startswith("filter["))
    origin = "" if "relative_links" in quirks else req.origin
    prefix = f"{origin}/v5{path or req.path}?" + "".join(
        f"{k}={encode_value(v)}&" for k, v in filters
    )

    def link(n: int) -> str:
        return f"{prefix}page[number]={n}&page[size]={page.size}"

    links = {"self": link(page.number), "first": link(1), "last": link(last)}
    if page.number > 1:
        links["prev"] = link(page.number - 1)
    if page.number < last:
        links["next"] = link(page.number + 1)
    elif "next_on_last" in quirks:
        links["next"] = links["self"]
    if "no_last" in quirks:
        links.pop("last")
        links.pop("prev", None)
    return {"data": [render(item) for item in chunk], "links": links}


def _quirks(req: Request) -> tuple[str, ...]:
    faults = getattr(req.app, "faults", None)
    return tuple(faults.standing.get("pagination_quirks") or ()) if faults else ()

class ControlError(Exception):
    """An error answer of the control surface: `{"error": text}` with 400, 404 or 409 (§8.1)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
