"""The refresh token in the OS keyring — never the password; degrades to this session only."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from . import APP_ID

log = logging.getLogger(__name__)


def keyring_user(identifier: str, endpoint: str) -> str:
    """`<email or username>@<api host>`: one entry per account and cloud."""
    return f"{identifier}@{urlsplit(endpoint).hostname or endpoint}"


class KeyringTokenStore:
    """A TokenStore (see impdesk.api.auth) backed by `keyring`; memory-only when that fails."""

    def __init__(self, identifier: str, endpoint: str, persist: bool = True) -> None:
        self.user = keyring_user(identifier, endpoint)
        self.persist = persist
        self._memory: str | None = None
        self.error: str | None = None  # why the keyring could not be used, if it could not

    @property
    def backend_name(self) -> str:
        try:
            import keyring

            return type(keyring.get_keyring()).__name__
        except Exception:  # keyring import or backend discovery failed
            return "none"

    def load(self) -> str | None:
        if self._memory is None and self.persist:
            self._memory = self._call("get_password")
        return self._memory

    def save(self, refresh_token: str) -> None:
        self._memory = refresh_token
        if self.persist:
            self._call("set_password", refresh_token)

    def clear(self) -> None:
        self._memory = None
        if self.persist:
            self._call("delete_password")

    def _call(self, name: str, *value: str) -> str | None:
        try:
            import keyring
            from keyring.errors import KeyringError, PasswordDeleteError

            try:
                return getattr(keyring, name)(APP_ID, self.user, *value)
            except PasswordDeleteError:
                return None
            except (KeyringError, RuntimeError) as exc:
                raise _Unavailable(exc) from exc
        except (_Unavailable, ImportError) as exc:
            self.persist = False
            self.error = f"The system keyring is not available ({type(exc).__name__}); " \
                         "you will stay signed in for this session only."
            log.warning("keyring unavailable (%s); keeping the session in memory only",
                        self.backend_name)
            return None

    def __repr__(self) -> str:
        return f"KeyringTokenStore(user={self.user!r}, persist={self.persist})"


class _Unavailable(Exception):
    pass
