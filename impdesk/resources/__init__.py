"""Bundled assets (icons, the .desktop file, AppStream metainfo), found one way everywhere."""

from __future__ import annotations

import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from impdesk import APP_ID

ICON_SVG = "impdesk.svg"
ICON_SMALL_SVG = "impdesk-small.svg"  # the mark hinted for 16 and 24 px
DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
SSE_SAMPLE = "sample-logstream.sse"  # a recorded log stream for `impdesk --self-test`
# The freedesktop hicolor sizes we ship as PNGs (packaging/make_icons.sh renders them).
HICOLOR_SIZES_PX = (16, 24, 32, 48, 64, 128, 256, 512)


def hicolor_png(size: int) -> str:
    """The asset name of the `size` px hicolor PNG, e.g. `icons/hicolor/16x16/apps/<id>.png`."""
    return f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png"


def asset(name: str) -> Traversable | Path:
    """Return the bundled asset `name`, in a wheel, an editable install or a PyInstaller bundle.

    `name` may contain `/` for assets in subfolders (see `hicolor_png`).

    Raises:
        FileNotFoundError: no such asset is bundled.
    """
    parts = name.split("/")
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:  # PyInstaller onedir/onefile: the spec copies the assets here (guide §8).
        frozen = Path(meipass, "impdesk", "resources", *parts)
        if frozen.is_file():
            return frozen
    found = resources.files(__name__).joinpath(*parts)
    if not found.is_file():
        raise FileNotFoundError(f"impdesk asset not bundled: {name}")
    return found


def read_asset(name: str) -> bytes:
    """Return the bytes of the bundled asset `name` (see `asset`)."""
    return asset(name).read_bytes()
