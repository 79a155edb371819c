"""Saved sign-in profiles in QSettings: name, cloud, identifier, remember — never a secret."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from PySide6.QtCore import QSettings

from .. import settings as keys

PASSWORD, KEY = "password", "key"


@dataclass
class Profile:
    """How to sign in to one account; the password, login key and tokens are never part of it
    (a remembered session's refresh token is in the system keyring, see credentials.py)."""

    name: str
    endpoint: str
    identifier: str = ""
    remember: bool = False
    method: str = PASSWORD  # or KEY: the login key itself is typed in each time

    @classmethod
    def from_value(cls, value: Any) -> Profile | None:
        """A profile from what QSettings gives back (tolerant of hand-edited files)."""
        if not isinstance(value, dict):
            return None
        name, endpoint = value.get("name"), value.get("endpoint")
        if not isinstance(name, str) or not name.strip() or not isinstance(endpoint, str):
            return None
        method = KEY if value.get("method") == KEY else PASSWORD
        return cls(name.strip(), endpoint, str(value.get("identifier") or ""),
                   _bool(value.get("remember")) and method == PASSWORD, method)

    def to_value(self) -> dict[str, Any]:
        return asdict(self)  # exactly the fields above: nothing secret can slip in


class ProfileStore:
    """The saved profiles (`settings.PROFILES`) and the last sign-in (`settings.LAST_PROFILE`)."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def all(self) -> list[Profile]:
        value = self.settings.value(keys.PROFILES)
        items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        profiles: list[Profile] = []
        for item in items:
            profile = Profile.from_value(item)
            if profile is not None and self._find(profiles, profile.name) is None:
                profiles.append(profile)
        return profiles

    def get(self, name: str) -> Profile | None:
        return self._find(self.all(), name)

    def save(self, profile: Profile) -> None:
        """Add, or replace the profile of the same name (names compare case-insensitively)."""
        profiles = self.all()
        old = self._find(profiles, profile.name)
        if old is not None:
            profiles[profiles.index(old)] = profile
        else:
            profiles.append(profile)
        self._write(profiles)

    def delete(self, name: str) -> None:
        profiles = [p for p in self.all() if p.name.casefold() != name.casefold()]
        self._write(profiles)
        last = self.last()
        if last is not None and last.name.casefold() == name.casefold():
            self.settings.remove(keys.LAST_PROFILE)

    def last(self) -> Profile | None:
        """The last sign-in, with the profile it used (name "" when none was chosen)."""
        value = self.settings.value(keys.LAST_PROFILE)
        if not isinstance(value, dict) or not isinstance(value.get("endpoint"), str):
            return None
        return Profile(str(value.get("name") or ""), value["endpoint"],
                       str(value.get("identifier") or ""), _bool(value.get("remember")),
                       KEY if value.get("method") == KEY else PASSWORD)

    def record_use(self, used: Profile) -> None:
        """Remember the last sign-in; a saved profile of that name keeps its remember choice."""
        self.settings.setValue(keys.LAST_PROFILE, used.to_value())
        saved = self.get(used.name) if used.name else None
        if saved is not None and saved.remember != used.remember:
            saved.remember = used.remember
            self.save(saved)

    def restorable(self) -> Profile | None:
        """The session to restore at start: the last sign-in, when it kept the user signed in."""
        last = self.last()
        if last is None or not last.remember or last.method != PASSWORD or not last.identifier:
            return None
        return last

    def _write(self, profiles: list[Profile]) -> None:
        self.settings.setValue(keys.PROFILES, [p.to_value() for p in profiles])

    @staticmethod
    def _find(profiles: list[Profile], name: str) -> Profile | None:
        wanted = name.strip().casefold()
        return next((p for p in profiles if p.name.casefold() == wanted), None)


def _bool(value: Any) -> bool:
    """QSettings INI files give booleans back as "true"/"false" strings."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
