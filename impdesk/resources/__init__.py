"""Bundled assets (icons now; later the .desktop file and metainfo), found one way everywhere."""

from __future__ import annotations

import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

ICON_SVG = "impdesk.svg"


def asset(name: str) -> Traversable | Path:
    """Return the bundled asset `name`, in a wheel, an editable install or a PyInstaller bundle.

    Raises:
        FileNotFoundError: no such asset is bundled.
    """
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:  # PyInstaller onedir/onefile: the spec copies the assets here (guide §8).
        frozen = Path(meipass, "impdesk", "resources", name)
        if frozen.is_file():
            return frozen
    found = resources.files(__name__).joinpath(name)
    if not found.is_file():
        raise FileNotFoundError(f"impdesk asset not bundled: {name}")
    return found


def read_asset(name: str) -> bytes:
    """Return the bytes of the bundled asset `name` (see `asset`)."""
    return asset(name).read_bytes()
