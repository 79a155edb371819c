"""Layer rule (guide §1): api/, core/ and emulator/ import without PySide6, and so does app.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT_FREE_PACKAGES = ("impdesk.api", "impdesk.core", "impdesk.emulator")
# app.py must parse --version before touching Qt, so importing it may not import Qt either.
QT_FREE_MODULES = ("impdesk", "impdesk.app", "impdesk.resources")

PROBE = """
import importlib, pkgutil, sys

sys.modules["PySide6"] = None  # from here on, importing PySide6 or PySide6.X raises ImportError
try:
    import PySide6.QtCore  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("blocking PySide6 did not work")

def reraise(name):
    importlib.import_module(name)  # walk_packages swallowed the error; raise the real one

for name in {modules!r}:
    importlib.import_module(name)
    print(name)
for name in {packages!r}:
    try:
        package = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        continue
    print(name)
    for info in pkgutil.walk_packages(package.__path__, name + ".", onerror=reraise):
        importlib.import_module(info.name)
        print(info.name)
assert sys.modules["PySide6"] is None
assert "shiboken6" not in sys.modules, "something imported shiboken6"
"""


def test_core_layers_import_without_pyside6():
    probe = PROBE.format(modules=QT_FREE_MODULES, packages=QT_FREE_PACKAGES)
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    assert set(QT_FREE_MODULES) <= imported
    for package in QT_FREE_PACKAGES:
        folder = ROOT / Path(*package.split("."))
        if (folder / "__init__.py").is_file():  # a real package: every module of it was imported
            expected = {
                f"{package}.{path.relative_to(folder).with_suffix('').as_posix().replace('/', '.')}"
                for path in folder.rglob("*.py")
                if path.name != "__init__.py" and (path.parent / "__init__.py").is_file()
            }
            assert package in imported
            assert expected <= imported, sorted(expected - imported)
