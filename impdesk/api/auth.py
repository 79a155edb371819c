"""Credentials: the token set, where a refresh token may be kept, and the URL safety rule."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import requests

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
REFRESH_MARGIN_S = 180.0  # refresh when fewer seconds remain (§2.5)


class InsecureEndpointError(ValueError):
    """A base URL or server-given link that impdesk refuses to send credentials to."""


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Normalise a base URL; HTTPS is required unless the host is loopback (§1.1)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureEndpointError(f"Not an http(s) URL: {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InsecureEndpointError("impCentral endpoints must use HTTPS (plain HTTP is only "
                                    "allowed for a local emulator on 127.0.0.1, ::1 or localhost)")
    if parts.username or parts.password:
        raise InsecureEndpointError("Credentials in the endpoint URL are not allowed")
    return url.strip().rstrip("/")


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port or _default_port(a.scheme)) == (
        b.scheme, b.hostname, b.port or _default_port(b.scheme))


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


class TokenStore(Protocol):
    """Somewhere to keep the refresh token between runs (never the password)."""

    def load(self) -> str | None: ...

    def save(self, refresh_token: str) -> None: ...

    def clear(self) -> None: ...


class MemoryTokenStore:
    """Keeps the refresh token for this process only (the default)."""

    def __init__(self, token: str | None = None) -> None:
        self._token = token

    def load(self) -> str | None:
        return self._token

    def save(self, refresh_token: str) -> None:
        self._token = refresh_token

    def clear(self) -> None:
        self._token = None

    def __repr__(self) -> str:
        return "MemoryTokenStore()"


@dataclass
class Session:
    """The access token in force and how to renew it; secrets never appear in repr()."""

    access_token: str | None = field(default=None, repr=False)
    deadline: float = 0.0  # time.monotonic() at which the access token expires
    login_key: str | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def seconds_left(self) -> float:
        """Seconds until the access token expires, by the local clock at receipt (§2.5)."""
        return self.deadline - self.clock()


class BearerAuth(requests.auth.AuthBase):
    """Attaches `Authorization: Bearer` per request (never set on the shared session)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "BearerAuth(***)"
