"""A thin HTTP helper for tests: talks to the emulator's /v5 API and /_emulator surface."""

from __future__ import annotations

from typing import Any

import requests

JSONAPI = "application/vnd.api+json"


class EmuClient:
    """Raw HTTP access to a running emulator (no impdesk.api involved)."""

    def __init__(self, server) -> None:
        self.server = server
        self.base = server.base_url  # http://127.0.0.1:PORT/v5
        self.control_url = server.control_url  # http://127.0.0.1:PORT/_emulator
        self.http = requests.Session()
        self._tokens: dict[str, str] = {}

    # -- control surface ---------------------------------------------------
    def control(self, method: str, path: str = "", json: Any = None) -> Any:
        """Call /_emulator<path>; raises on a non-2xx answer; returns the decoded JSON (or None)."""
        resp = self.http.request(method, self.control_url + path, json=json, timeout=30)
        if resp.status_code >= 300:
            raise AssertionError(f"control {method} {path}: {resp.status_code} {resp.text}")
        return resp.json() if resp.content else None

    def accounts(self) -> dict[str, dict]:
        return {a["username"]: a for a in self.control("GET", "/accounts")}

    def config(self, **changes: Any) -> dict:
        return self.control("PATCH", "/config", changes)

    def otp(self, username: str = "demo-2fa") -> str:
        return self.control("GET", f"/otp?account={username}")["otp"]

    # -- /v5 ---------------------------------------------------------------
    def login(self, username: str = "demo") -> str:
        """Log in with the seeded password and return an access token (cached per username)."""
        if username not in self._tokens:
            acct = self.accounts()[username]
            resp = self.http.post(
                self.base + "/auth", json={"id": username, "password": acct["password"]}, timeout=30
            )
            if resp.status_code == 403:
                login_token = resp.json()["errors"][0]["meta"]["login_token"]
                resp = self.http.post(
                    self.base + "/auth",
                    json={"login_token": login_token},
                    headers={"X-Electricimp-OTP-Token": self.otp(username)},
                    timeout=30,
                )
            assert resp.status_code == 200, resp.text
            self._tokens[username] = resp.json()["access_token"]
        return self._tokens[username]

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        params: dict | None = None,
        headers: dict | None = None,
        as_user: str | None = "demo",
        token: str | None = None,
        **kw: Any,
    ) -> requests.Response:
        """Send a request to <base><path>, authenticated as `as_user` (None = no Authorization)."""
        hdrs = {"Content-Type": JSONAPI}
        if token is None and as_user is not None:
            token = self.login(as_user)
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        url = path if path.startswith("http") else self.base + path
        return self.http.request(
            method, url, json=json, data=data, params=params, headers=hdrs, timeout=30, **kw
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def list_all(self, path: str, **kw: Any) -> list[dict]:
        """Follow links.next from <path> and return every item."""
        items: list[dict] = []
        params = dict(kw.pop("params", None) or {})
        params.setdefault("page[size]", 100)
        resp = self.get(path, params=params, **kw)
        while True:
            assert resp.status_code == 200, resp.text
            doc = resp.json()
            items.extend(doc["data"])
            nxt = doc["links"].get("next")
            if not nxt:
                return items
            resp = self.get(nxt, **kw)


def error_code(resp: requests.Response) -> str:
    """The code of the first error of a JSON:API error document."""
    return resp.json()["errors"][0]["code"]
