"""Pinned runtime versions: PySide6 6.11.x (6.12.0 aborts on Python 3.11) and qasync 0.28.0."""

from __future__ import annotations

from importlib import metadata


def test_pyside6_is_the_611_series():
    import PySide6
    from PySide6 import QtCore

    assert metadata.version("PySide6-Essentials").startswith("6.11."), (
        "PySide6 must stay on 6.11.x: see tests/test_pyside_stress.py and guide §2"
    )
    assert PySide6.__version__.startswith("6.11.")
    assert QtCore.qVersion().startswith("6.11.")
    assert metadata.version("shiboken6") == metadata.version("PySide6-Essentials")


def test_qasync_is_pinned():
    assert metadata.version("qasync") == "0.28.0"
