"""Print the Debian packages the frozen app needs from the system, as a Depends value.

Usage: python packaging/deb_depends.py dist/impdesk [BASE_DEPENDS]

Runs `ldd` on every ELF file of the PyInstaller folder (with the folder on the library path, as
the bootloader sets it), keeps the libraries that resolve outside it, asks `dpkg -S` which
packages own them, and prints those merged with BASE_DEPENDS (comma-separated, the guide's list),
sorted and de-duplicated. Exits 1 when a library is found nowhere, except the dependencies of
plugins that Qt loads only on request (the GTK platform theme). Stdlib only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# Loaded only when the desktop asks for them; their libraries come with that desktop.
OPTIONAL_PLUGINS = ("platformthemes/libqgtk3.so",)
LDD_LINE = re.compile(r"^\s*(\S+) => (not found|(\S+) \(0x[0-9a-f]+\))")


def elf_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def system_libraries(root: Path) -> tuple[set[str], dict[str, set[str]]]:
    """(paths outside `root` the bundle links to, {missing soname: {who needs it}})."""
    lib_dirs = sorted({str(p.parent) for p in root.rglob("*.so*")} | {str(root / "_internal")})
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(lib_dirs))
    outside: set[str] = set()
    missing: dict[str, set[str]] = {}
    for elf in elf_files(root):
        optional = any(str(elf).endswith(p) for p in OPTIONAL_PLUGINS)
        result = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env,
                                check=False)
        for line in result.stdout.splitlines():
            match = LDD_LINE.match(line)
            if not match:
                continue
            if match.group(2) == "not found":
                if not optional:
                    missing.setdefault(match.group(1), set()).add(str(elf.relative_to(root)))
                continue
            path = match.group(3)
            if not os.path.realpath(path).startswith(str(root.resolve())) and not optional:
                outside.add(path)
    return outside, missing


def owners(paths: set[str]) -> set[str]:
    """Debian packages owning `paths` (tries the /usr-merged spelling too)."""
    packages: set[str] = set()
    for path in sorted(paths):
        candidates = [path]
        if path.startswith("/lib"):
            candidates.append("/usr" + path)
        elif path.startswith("/usr/lib"):
            candidates.append(path[len("/usr"):])
        candidates.append(os.path.realpath(path))
        for candidate in candidates:
            result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True,
                                    check=False)
            if result.returncode == 0:
                for line in result.stdout.splitlines():
                    names = line.split(": ", 1)[0]
                    packages.update(n.strip().split(":")[0] for n in names.split(","))
                break
        else:
            print(f"deb_depends.py: no package owns {path}", file=sys.stderr)
    return packages


def main(argv: list[str]) -> int:
    root = Path(argv[1])
    base = {d.strip() for d in (argv[2] if len(argv) > 2 else "").split(",") if d.strip()}
    outside, missing = system_libraries(root)
    for soname, users in sorted(missing.items()):
        print(f"deb_depends.py: {soname} not found (needed by {', '.join(sorted(users)[:3])})",
              file=sys.stderr)
    names = {b.split()[0] for b in base}
    found = {p for p in owners(outside) if p not in names}
    print(", ".join(sorted(base | found)))
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
