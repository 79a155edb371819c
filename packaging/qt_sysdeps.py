"""Print the Debian packages of system libraries that the installed PySide6 cannot find.

Usage: python packaging/qt_sysdeps.py [PLATFORM ...]   (default: offscreen; e.g. offscreen xcb)

Runs `ldd` on the Qt libraries, the Python bindings and the named platform plugins of the
PySide6 wheel in the running interpreter, maps every "not found" soname to its Debian package
(libEGL.so.1 -> libegl1, libxcb-cursor.so.0 -> libxcb-cursor0, ...), adds fonts-dejavu-core when
no font is installed at all, and prints the packages space-separated (nothing when all is there).
Stdlib only; it never imports PySide6, so it works while libraries are still missing.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

QT_LIBS = ("Core", "Gui", "Widgets", "Svg", "DBus", "OpenGL")
BINDINGS = ("QtCore", "QtGui", "QtWidgets", "QtSvg")
# Sonames whose package names do not follow Debian's library naming policy.
IRREGULAR = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libGLdispatch.so.0": "libglvnd0",
    "libz.so.1": "zlib1g",
}
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".pfb", ".pcf", ".gz"}
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def package_for(soname: str) -> str:
    """Debian package name for a library soname (policy: name + version, '-' after a digit)."""
    if soname in IRREGULAR:
        return IRREGULAR[soname]
    name, _, version = soname.partition(".so.")
    name = name.lower()
    return f"{name}-{version}" if name[-1:].isdigit() else f"{name}{version}"


def qt_files(platforms: list[str]) -> list[Path]:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    files = [root / "Qt" / "lib" / f"libQt6{name}.so.6" for name in QT_LIBS]
    for binding in BINDINGS:
        files.extend(root.glob(f"{binding}.*.so"))
    files.append(root / "Qt" / "plugins" / "imageformats" / "libqsvg.so")
    files.extend(root / "Qt" / "plugins" / "platforms" / f"libq{p}.so" for p in platforms)
    return [f for f in files if f.is_file()]


def missing_sonames(files: list[Path]) -> set[str]:
    if not files or shutil.which("ldd") is None:
        return set()
    out = subprocess.run(["ldd", *map(str, files)], capture_output=True, text=True, check=False)
    return set(NOT_FOUND.findall(out.stdout))


def has_fonts() -> bool:
    for folder in FONT_DIRS:
        path = Path(folder).expanduser()
        if path.is_dir() and any(f.suffix in FONT_SUFFIXES for f in path.rglob("*")):
            return True
    return False


def main(argv: list[str]) -> int:
    platforms = argv or ["offscreen"]
    packages = {package_for(s) for s in missing_sonames(qt_files(platforms))}
    if sys.platform.startswith("linux") and not has_fonts():
        packages.add("fonts-dejavu-core")
    print(" ".join(sorted(packages)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
