"""Signing in and keeping the access token fresh: the `SignInMixin` of `Client` (§2)."""

from __future__ import annotations

import json as jsonlib
import logging
from typing import Any
from urllib.parse import quote

from .auth import REFRESH_MARGIN_S
from .errors import ApiError, AuthenticationError, RateLimited, ResponseParseError

log = logging.getLogger(__name__)


class SignInMixin:
    """Password, 2FA, login-key and refresh-token sign-in, sign-out and token renewal."""

    @property
    def signed_in(self: Any) -> bool:
        return self._auth.access_token is not None

    def login(self: Any, identifier: str, password: str) -> None:
        """Sign in with email/username and password.

        Raises:
            OtpRequired: the account uses 2FA; call `complete_login(err.login_token, otp)`.
            AuthenticationError: wrong identifier or password (PX100).
        """
        answer = self._auth_call("/auth", {"id": identifier, "password": password})
        self._auth.login_key = None
        self._adopt(answer)

    def complete_login(self: Any, login_token: str, otp: str) -> None:
        """Finish a 2FA login with the one-time password (sent in its header, §2.3).

        Raises:
            InvalidOtp: the code was wrong; the same login token may be tried again.
            AuthenticationError: the login token is dead; start again with `login()`.
        """
        answer = self._auth_call("/auth", {"login_token": login_token},
                                 headers={"X-Electricimp-OTP-Token": otp.strip()})
        self._auth.login_key = None
        self._adopt(answer)

    def login_with_key(self: Any, key: str) -> None:
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

    def login_with_refresh_token(self: Any, token: str | None = None) -> None:
        """Sign in with a refresh token (by default the one in the token store)."""
        token = token or self.token_store.load()
        if not token:
            raise AuthenticationError(401, message="No saved session; sign in again.")
        if token != self.token_store.load():
            self.token_store.save(token)
        self._auth.login_key = None
        self._refresh()

    def sign_out(self: Any, revoke: bool = True) -> None:
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

    def _auth_call(self: Any, path: str, body: dict, headers: dict | None = None) -> dict:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        resp = self._send("POST", self.base_url + path, data=jsonlib.dumps(body), headers=hdrs,
                          authenticated=False)
        return self._decode(resp)

    def _adopt(self: Any, answer: dict) -> None:
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

    def _refresh(self: Any, stale_token: str | None = None) -> None:
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

    def _ensure_fresh(self: Any) -> str:
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
