"""The client's error hierarchy, built from JSON:API `errors` arrays (contract §4.5)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorItem:
    """One member of an `errors` array."""

    status: int
    code: str | None
    title: str
    detail: str
    meta: Any = None


class ApiError(Exception):
    """Any failure of an impCentral call. `str()` reads `409 CX100 Duplicate Resource: ...`."""

    def __init__(self, status: int, errors: list[ErrorItem] | None = None,
                 message: str | None = None) -> None:
        self.status = status
        self.errors = errors or []
        first = self.errors[0] if self.errors else None
        self.code = first.code if first else None
        self.title = first.title if first else ""
        self.detail = first.detail if first else (message or "")
        self.meta = first.meta if first else None
        super().__init__(message or self._describe())

    def _describe(self) -> str:
        parts = [str(self.status) if self.status else "", self.code or ""]
        head = " ".join(p for p in parts if p)
        text = ": ".join(t for t in (self.title, self.detail) if t)
        return f"{head} {text}".strip()

    @property
    def user_message(self) -> str:
        """`title: detail` for people (§4.5)."""
        return ": ".join(t for t in (self.title, self.detail) if t) or str(self)


class BadRequest(ApiError):
    """400: the request was refused as invalid."""


class ValidationError(BadRequest):
    """400 with a VX code: an attribute, relationship or document was invalid."""


class AuthenticationError(ApiError):
    """401, or a refresh/login that can no longer succeed: sign in again."""


class OtpRequired(ApiError):
    """403 PX200: the password was right; finish the login with a one-time password."""

    @property
    def login_token(self) -> str:
        return (self.meta or {}).get("login_token", "")

    def __repr__(self) -> str:  # the login token is a secret
        return "OtpRequired()"


class InvalidOtp(AuthenticationError):
    """401 PX201: the one-time password was wrong; the login token may still be used."""


class PermissionDenied(ApiError):
    """403."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409: a constraint of the service refused the change."""


class CompileError(BadRequest):
    """400 CX005: deployment code does not compile; `.items` lists file/row/column/text."""

    @property
    def items(self) -> list[dict]:
        meta = self.meta
        return [m for m in meta if isinstance(m, dict)] if isinstance(meta, list) else []


class RateLimited(ApiError):
    """429 that the client chose not to wait for; `retry_after` in seconds."""

    def __init__(self, status: int, errors: list[ErrorItem] | None = None,
                 message: str | None = None, retry_after: float = 1.0) -> None:
        super().__init__(status, errors, message)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx."""


class ApiConnectionError(ApiError):
    """The service could not be reached (DNS, refused, reset, timeout)."""

    def __init__(self, message: str, may_have_been_sent: bool = False) -> None:
        super().__init__(0, None, message)
        self.may_have_been_sent = may_have_been_sent


class ResponseParseError(ApiError):
    """A 2xx answer whose body could not be read."""


_BY_CODE: dict[str, type[ApiError]] = {
    "PX200": OtpRequired,
    "PX201": InvalidOtp,
    "CX005": CompileError,
    "PX400": RateLimited,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


def error_class(status: int, code: str | None) -> type[ApiError]:
    """Pick the class by code first, then by HTTP status (§4.5)."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status == 400 and code and code.startswith("VX"):
        return ValidationError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ApiError


def parse_error_items(status: int, body: bytes) -> list[ErrorItem]:
    """Read an `errors` array, a legacy `{"message"}` body, or nothing useful (§4.5)."""
    try:
        doc = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        doc = None
    items: list[ErrorItem] = []
    if isinstance(doc, dict) and isinstance(doc.get("errors"), list):
        for raw in doc["errors"]:
            if not isinstance(raw, dict):
                continue
            try:
                item_status = int(raw.get("status", status))
            except (TypeError, ValueError):
                item_status = status
            items.append(ErrorItem(
                status=item_status,
                code=str(raw["code"]) if raw.get("code") is not None else None,
                title=str(raw.get("title") or ""),
                detail=str(raw.get("detail") or ""),
                meta=raw.get("meta"),
            ))
    elif isinstance(doc, dict) and isinstance(doc.get("message"), str):
        items.append(ErrorItem(status, None, "", doc["message"]))
    return items


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}


def error_from_response(status: int, body: bytes, retry_after: float | None = None) -> ApiError:
    """Build the right ApiError subclass from an HTTP status and body."""
    items = parse_error_items(status, body)
    code = items[0].code if items else None
    cls = error_class(status, code)
    message = None if items else f"{status} {_REASONS.get(status, 'HTTP error')}"
    if cls is RateLimited:
        return RateLimited(status, items, message,
                           retry_after=1.0 if retry_after is None else retry_after)
    return cls(status, items, message)
