"""Bundled assets: the icon ships inside the package and matches the source artwork."""

from __future__ import annotations

from pathlib import Path

import pytest

from impdesk.resources import ICON_SVG, asset, read_asset

ROOT = Path(__file__).resolve().parent.parent


def test_packaged_icon_matches_the_source_artwork():
    assert read_asset(ICON_SVG) == (ROOT / "resources" / ICON_SVG).read_bytes()
    assert read_asset(ICON_SVG).lstrip().startswith(b"<svg")


def test_unknown_asset_is_an_error():
    with pytest.raises(FileNotFoundError):
        asset("no-such-icon.svg")
