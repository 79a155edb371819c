"""Desktop integration for pip/pipx installs: the .desktop file and icons under $XDG_DATA_HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from impdesk import APP_ID, APP_NAME
from impdesk.resources import (
    DESKTOP_FILE,
    HICOLOR_SIZES_PX,
    ICON_SVG,
    hicolor_png,
    read_asset,
)

CACHE_TOOL_TIMEOUT_S = 20
# Characters that force quoting of an Exec argument (Desktop Entry Specification, "The Exec key").
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_EXEC_ESCAPED_IN_QUOTES = '"`$\\'


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME if set and absolute (as the XDG spec asks), else ~/.local/share."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    home = env.get("HOME") or str(Path.home())
    return Path(home, ".local", "share")


def launch_command() -> list[str]:
    """The absolute command that starts this impdesk: frozen binary, venv script, or -m.

    sys.executable is not resolved: in a venv it is a symlink whose target has no impdesk.
    """
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    beside = Path(os.path.abspath(sys.executable)).with_name(APP_NAME)
    if beside.is_file() and os.access(beside, os.X_OK):  # venv, pipx, --user with this python
        return [str(beside)]
    found = shutil.which(APP_NAME)
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "impdesk"]


def quote_exec(argv: Sequence[str]) -> str:
    """An Exec= value for `argv`: quoted where the spec requires it, `%` doubled.

    The result is a desktop-file string value, so backslashes are doubled once more.
    """
    words = []
    for arg in argv:
        if any(ch in _EXEC_RESERVED for ch in arg) or not arg:
            inner = "".join("\\" + ch if ch in _EXEC_ESCAPED_IN_QUOTES else ch for ch in arg)
            arg = f'"{inner}"'
        words.append(arg.replace("%", "%%"))
    return " ".join(words).replace("\\", "\\\\")


def desktop_entry_text(command: Sequence[str]) -> str:
    """The bundled .desktop file with Exec= (and TryExec=) pointing at `command`."""
    lines = []
    for line in read_asset(DESKTOP_FILE).decode("utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + quote_exec(command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0].replace("\\", "\\\\")
        lines.append(line)
    return "\n".join(lines) + "\n"


def entry_paths(base: Path) -> dict[str, Path]:
    """Where each installed file goes under the data folder `base` (asset name → path)."""
    paths = {DESKTOP_FILE: base / "applications" / DESKTOP_FILE}
    icons = base / "icons" / "hicolor"
    for size in HICOLOR_SIZES_PX:
        paths[hicolor_png(size)] = icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    paths[ICON_SVG] = icons / "scalable" / "apps" / f"{APP_ID}.svg"
    return paths


def install_desktop_entry(base: Path | None = None,
                          command: Sequence[str] | None = None) -> list[Path]:
    """Write the .desktop file (Exec absolute) and the icons under `base`; return the paths.

    Raises:
        OSError: a file could not be written.
    """
    base = data_home() if base is None else base
    command = launch_command() if command is None else list(command)
    written = []
    for name, path in entry_paths(base).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == DESKTOP_FILE:
            data = desktop_entry_text(command).encode("utf-8")
        else:
            data = read_asset(name)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a desktop shell watching the folder never reads half a file
        written.append(path)
    refresh_caches(base)
    return written


def uninstall_desktop_entry(base: Path | None = None) -> list[Path]:
    """Remove what install_desktop_entry wrote under `base`; return the paths removed."""
    base = data_home() if base is None else base
    removed = []
    for path in entry_paths(base).values():
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    if removed:
        refresh_caches(base)
    return removed


def refresh_caches(base: Path) -> None:
    """Refresh the desktop and icon caches that already exist under `base` (best effort).

    Desktop shells watch these folders; only an existing cache could hide the change, and
    creating a cache the user never had would go stale when other apps add icons.
    """
    jobs = []
    applications = base / "applications"
    if (applications / "mimeinfo.cache").exists():
        jobs.append(["update-desktop-database", "-q", str(applications)])
    hicolor = base / "icons" / "hicolor"
    if (hicolor / "icon-theme.cache").exists():
        jobs.append(["gtk-update-icon-cache", "-q", "-t", "-f", str(hicolor)])
    for argv in jobs:
        if shutil.which(argv[0]) is None:
            continue
        try:
            subprocess.run(argv, check=False, capture_output=True,
                           timeout=CACHE_TOOL_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError):
            pass  # a stale cache only delays the icon; never fail the install for it
    if hicolor.is_dir():
        os.utime(hicolor)  # icon themes compare the folder's mtime with their cache


def main(action: str) -> int:
    """`impdesk --install-desktop-entry` / `--uninstall-desktop-entry`: print what was done."""
    base = data_home()
    try:
        if action == "install":
            paths = install_desktop_entry(base)
            print(f"{APP_NAME}: installed the desktop entry and {len(paths) - 1} icons "
                  f"under {base}")
            print(f"  {paths[0]}")
            print(f"  Exec={quote_exec(launch_command())}")
        else:
            paths = uninstall_desktop_entry(base)
            if not paths:
                print(f"{APP_NAME}: no desktop entry installed under {base}")
            else:
                print(f"{APP_NAME}: removed {len(paths)} files under {base}")
    except OSError as exc:
        print(f"{APP_NAME}: {exc}", file=sys.stderr)
        return 1
    return 0
