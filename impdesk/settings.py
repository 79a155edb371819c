"""Every QSettings key and platform path of impdesk, spelled once."""

from __future__ import annotations

from pathlib import Path

from platformdirs import PlatformDirs

# QApplication's names, set by app.configure_application() before first use: QSettings files go
# to ~/.config/impdesk/impdesk.conf (Linux), ~/Library/Preferences/io.github.impdesk.impdesk.plist
# (macOS, from the domain) and HKCU\Software\impdesk\impdesk (Windows).
ORGANIZATION = "impdesk"
ORGANIZATION_DOMAIN = "impdesk.github.io"
APPLICATION = "impdesk"

# QSettings keys (UI state and non-secret preferences only; secrets live in the keyring)
GEOMETRY = "window/geometry"
WINDOW_STATE = "window/state"
SPLITTER = "window/splitter"
TREE_HEADER = "tree/header"
EXPANDED = "tree/expanded"
PROFILES = "signin/profiles"  # list of {name, endpoint, identifier, remember}
LAST_PROFILE = "signin/last_profile"
LAST_ENDPOINT = "signin/last_endpoint"
LOG_MAX_LINES = "logs/max_lines"  # int: lines a log view keeps (ring buffer)
LOG_UTC = "logs/utc"  # bool: log timestamps in UTC instead of local time
DEPLOY_FILES = "deploy/files"  # + "/<group id>/agent_code" or "/device_code": last code file

CLOUDS = {
    "AWS (default)": "https://api.electricimp.com/v5",
    "Azure": "https://api.az.electricimp.io/v5",
}


def dirs() -> PlatformDirs:
    return PlatformDirs("impdesk", appauthor=False, ensure_exists=True)


def log_path() -> Path:
    return Path(dirs().user_log_path) / "impdesk.log"
