"""The shipped .desktop file, AppStream metainfo and icons: well-formed, in sync, carry APP_ID."""

from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from impdesk import APP_ID, __version__
from impdesk.resources import (
    DESKTOP_FILE,
    HICOLOR_SIZES_PX,
    ICON_SMALL_SVG,
    ICON_SVG,
    METAINFO_FILE,
    asset,
    hicolor_png,
    read_asset,
)

ROOT = Path(__file__).resolve().parents[2]
VALIDATE_TIMEOUT_S = 60


def test_desktop_file_is_valid_ini_and_names_the_app_id():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(read_asset(DESKTOP_FILE).decode("utf-8"))
    entry = parser["Desktop Entry"]

    assert f"{APP_ID}.desktop" == DESKTOP_FILE
    assert entry["Type"] == "Application"
    assert entry["Icon"] == APP_ID
    assert entry["StartupWMClass"] == APP_ID
    assert entry["Exec"] == "impdesk"  # the .deb's /usr/bin/impdesk; user installs rewrite it
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")


def test_metainfo_is_well_formed_and_complete():
    root = ET.fromstring(read_asset(METAINFO_FILE))

    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == f"{APP_ID}.desktop"
    assert root.find("content_rating").get("type") == "oars-1.1"
    releases = root.findall("releases/release")
    assert releases, "a <release> is required"
    assert releases[0].get("version") == __version__, "add a <release> for the new version"
    assert root.findtext("provides/binary") == "impdesk"
    assert root.findtext("metadata_license") == "CC0-1.0"


def test_metainfo_passes_appstreamcli_validate():
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli not installed (Debian: appstream)")
    result = subprocess.run([tool, "validate", "--no-net", str(asset(METAINFO_FILE))],
                            capture_output=True, text=True, check=False,
                            timeout=VALIDATE_TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_file_passes_desktop_file_validate():
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate not installed (Debian: desktop-file-utils)")
    result = subprocess.run([tool, str(asset(DESKTOP_FILE))], capture_output=True, text=True,
                            check=False, timeout=VALIDATE_TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("size", HICOLOR_SIZES_PX)
def test_hicolor_pngs_have_their_size_and_match_the_committed_artwork(size):
    committed = ROOT / "resources" / hicolor_png(size)
    data = committed.read_bytes()

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (size, size)
    assert read_asset(hicolor_png(size)) == data, "run bash packaging/make_icons.sh"


@pytest.mark.parametrize("name", [ICON_SVG, ICON_SMALL_SVG])
def test_svg_sources_are_well_formed_and_in_sync(name):
    data = (ROOT / "resources" / name).read_bytes()
    assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg"
    assert read_asset(name) == data
