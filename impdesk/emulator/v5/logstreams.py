"""/v5 log stream endpoints (§3.6): create, open (SSE), subscribe, unsubscribe."""

from __future__ import annotations

from typing import Any

from ..errors import DETAIL_FORMAT, ApiError
from ..framework import Request, Response, Router, StreamResponse, no_content, ok

FORMATS = ("text", "json")


def register(router: Router) -> None:
    router.add("POST", "/logstream", create_stream)
    router.add("GET", "/logstream/{stream}", open_stream, auth=False)
    router.add("PUT", "/logstream/{stream}/{device}", subscribe)
    router.add("DELETE", "/logstream/{stream}/{device}", unsubscribe)


def render(base: str, stream: Any) -> dict:
    url = f"{base}/logstream/{stream.id}"
    return {
        "type": "logstream",
        "id": stream.id,
        "links": {"self": url},
        "attributes": {"url": url},
        "relationships": {"owner": {"type": "account", "id": stream.account_id}},
    }


def create_stream(app: Any, req: Request) -> Response:
    """POST /logstream → 201; body and query are ignored (§3.6.2)."""
    stream = app.hub.create(req.account)
    return ok({"data": render(req.base, stream)}, status=201)


def open_stream(app: Any, req: Request, stream: str) -> StreamResponse:
    """GET /logstream/{id}?format=text|json → the SSE stream; no bearer needed (§3.6.3)."""
    fmt = "text"
    for key, value in req.query:
        if key == "format":
            if value not in FORMATS:
                raise ApiError("VX109", detail=DETAIL_FORMAT.format(param="format"))
            fmt = value  # repeated: every value must be valid, the last one wins
    found = app.hub.get_or_404(stream)
    return StreamResponse(run=lambda handler: app.hub.serve(found.id, fmt, handler))


def _stream_and_device(app: Any, req: Request, stream: str, device: str) -> tuple[Any, Any]:
    """The caller's stream, then a device it can see; NF100 for either (§3.6.4)."""
    with app.store.lock:
        found = app.hub.get_or_404(stream, req.account)
        return found, app.store.device_or_404(req.account, device)


def subscribe(app: Any, req: Request, stream: str, device: str) -> Response:
    with app.store.lock:
        found, dev = _stream_and_device(app, req, stream, device)
        app.hub.subscribe(found, dev)
    return no_content()


def unsubscribe(app: Any, req: Request, stream: str, device: str) -> Response:
    with app.store.lock:
        found, dev = _stream_and_device(app, req, stream, device)
        app.hub.unsubscribe(found, dev)
    return no_content()
