"""The generated content of the small, demo and fleet seeds (to be written)."""

from __future__ import annotations

from typing import Any


def seed_small(emulator: Any, accounts: dict, **options: Any) -> None:
    pass


def seed_demo(emulator: Any, accounts: dict, **options: Any) -> None:
    pass


def seed_fleet(emulator: Any, accounts: dict, **options: Any) -> None:
    pass
