"""`impdesk --install-desktop-entry` / `--uninstall-desktop-entry` against a temporary XDG tree."""

from __future__ import annotations

import configparser
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from impdesk import APP_ID, desktop
from impdesk.resources import HICOLOR_SIZES_PX

ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 60


def _run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):  # must not need a display
        env.pop(var, None)
    return subprocess.run([sys.executable, "-m", "impdesk", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False)


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_install_writes_entry_and_icons_with_absolute_exec(tmp_path):
    result = _run_cli(tmp_path, "--install-desktop-entry")

    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    entry_file = data / "applications" / f"{APP_ID}.desktop"
    assert str(entry_file) in result.stdout
    entry = _entry(entry_file)
    assert entry["Icon"] == APP_ID
    assert entry["StartupWMClass"] == APP_ID
    program = entry["Exec"].split(" ")[0]
    assert os.path.isabs(program), entry["Exec"]
    assert os.access(program, os.X_OK), program
    assert entry["TryExec"] == program
    for size in HICOLOR_SIZES_PX:
        png = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert _png_size(png) == (size, size)
    svg = data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert svg.read_bytes().lstrip().startswith(b"<svg")
    assert not (tmp_path / "home" / ".local").exists()  # XDG_DATA_HOME wins over HOME


def test_installed_entry_passes_desktop_file_validate(tmp_path):
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate not installed (Debian: desktop-file-utils)")
    written = desktop.install_desktop_entry(tmp_path, ["/opt/with space/impdesk", "--demo"])

    result = subprocess.run([validator, str(written[0])], capture_output=True, text=True,
                            check=False, timeout=CLI_TIMEOUT_S)

    assert result.returncode == 0, result.stdout + result.stderr
    assert _entry(written[0])["Exec"] == '"/opt/with space/impdesk" --demo'


def test_uninstall_removes_exactly_what_install_wrote(tmp_path):
    foreign = tmp_path / "data" / "applications" / "other.desktop"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("[Desktop Entry]\n")
    assert _run_cli(tmp_path, "--install-desktop-entry").returncode == 0

    result = _run_cli(tmp_path, "--uninstall-desktop-entry")

    assert result.returncode == 0, result.stderr
    assert f"removed {len(HICOLOR_SIZES_PX) + 2} files" in result.stdout
    left = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert left == [foreign]
    again = _run_cli(tmp_path, "--uninstall-desktop-entry")
    assert again.returncode == 0 and "no desktop entry installed" in again.stdout


def test_relative_xdg_data_home_is_ignored_as_the_spec_says(tmp_path):
    assert desktop.data_home({"XDG_DATA_HOME": "rel/dir", "HOME": str(tmp_path)}) == (
        tmp_path / ".local" / "share")
    assert desktop.data_home({"XDG_DATA_HOME": str(tmp_path / "x")}) == tmp_path / "x"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/usr/bin/impdesk"], "/usr/bin/impdesk"),
        (["/opt/my apps/impdesk"], '"/opt/my apps/impdesk"'),
        (["/py", "-m", "impdesk"], "/py -m impdesk"),
        (["/a$b/x"], '"/a\\\\$b/x"'),  # quoted, `$` escaped, then the backslash doubled
        (["/100%/x"], "/100%%/x"),
    ],
)
def test_exec_quoting_follows_the_desktop_entry_spec(argv, expected):
    assert desktop.quote_exec(argv) == expected
