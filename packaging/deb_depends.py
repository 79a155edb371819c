"""Print the Debian packages the frozen app needs from the system, as a Depends value.

Usage: python packaging/deb_depends.py dist/impdesk [BASE_DEPENDS]

For every ELF file of the PyInstaller folder: its DT_NEEDED sonames (readelf), resolved by
`ldd` with the folder on the library path (as the bootloader sets it). The ones that resolve
outside the folder go to `dpkg -S`; their packages are printed merged with BASE_DEPENDS
(comma-separated, the guide's list), sorted and de-duplicated. Exits 1 when a needed library is
found nowhere, except for plugins Qt loads only on request (the GTK platform theme). Stdlib only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# Loaded only when the desktop asks for them; their libraries come with that desktop.
OPTIONAL_PLUGINS = ("platformthemes/libqgtk3.so",)
LDD_LINE = re.compile(r"^\s*(\S+) => (?:not found|(\S+) \(0x[0-9a-f]+\))")
NEEDED_LINE = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")


def elf_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed(elf: Path) -> list[str]:
    """The sonames `elf` links to directly (its DT_NEEDED entries)."""
    result = subprocess.run(["readelf", "-d", "-W", str(elf)], capture_output=True, text=True,
                            check=False)
    return NEEDED_LINE.findall(result.stdout)


def system_libraries(root: Path) -> tuple[set[str], dict[str, set[str]]]:
    """(system paths the bundle links to directly, {missing soname: {who needs it}})."""
    lib_dirs = sorted({str(p.parent) for p in root.rglob("*.so*")} | {str(root / "_internal")})
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(lib_dirs))
    inside = str(root.resolve())
    outside: set[str] = set()
    missing: dict[str, set[str]] = {}
    for elf in elf_files(root):
        if any(str(elf).endswith(p) for p in OPTIONAL_PLUGINS):
            continue
        result = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env,
                                check=False)
        resolved = {}
        for line in result.stdout.splitlines():
            match = LDD_LINE.match(line)
            if match:
                resolved[match.group(1)] = match.group(2)  # None: not found
        for soname in needed(elf):
            path = resolved.get(soname)
            if path is None:
                if soname in resolved:
                    missing.setdefault(soname, set()).add(str(elf.relative_to(root)))
            elif not os.path.realpath(path).startswith(inside):
                outside.add(path)
    return outside, missing


def owners(paths: set[str]) -> set[str]:
    """Debian packages owning `paths` (one dpkg -S for all; /usr-merged spellings too)."""
    spellings: dict[str, str] = {}
    for path in paths:
        for candidate in (path, os.path.realpath(path)):
            spellings[candidate] = path
            if candidate.startswith("/lib"):
                spellings["/usr" + candidate] = path
            elif candidate.startswith("/usr/lib"):
                spellings[candidate[len("/usr"):]] = path
    result = subprocess.run(["dpkg", "-S", *sorted(spellings)], capture_output=True, text=True,
                            check=False)  # exit 1 when some spelling is unknown: expected
    packages: set[str] = set()
    owned: set[str] = set()
    for line in result.stdout.splitlines():
        names, _, owned_path = line.partition(": ")
        if owned_path in spellings:
            owned.add(spellings[owned_path])
            packages.update(n.strip().split(":")[0] for n in names.split(","))
    for path in sorted(paths - owned):
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
