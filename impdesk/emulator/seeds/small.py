"""The small seed (§8.10): the tests' default data set."""

from __future__ import annotations

from typing import Any

from .builder import HOUR, Seeder


def seed_small(emulator: Any, accounts: dict, **options: Any) -> None:
    """The tests' default data set (§8.10)."""
    s = Seeder(emulator)
    demo, collab = accounts["demo"], accounts["demo-collab"]
    alpha = s.product(demo, "Alpha", 20, "The first test product")
    alpha_dev = s.group(alpha, "development_devicegroup", "Alpha Dev", 19)
    s.deployment(alpha_dev, "generic", 1, 10, "first build")
    s.deployment(alpha_dev, "generic", 2, 2, "second build")
    s.product(demo, "Bravo", 15)
    shared = s.product(collab, "Shared Product", 12, "Owned by demo-collab", (demo,))
    shared_dev = s.group(shared, "development_devicegroup", "Shared Dev", 11)
    s.deployment(shared_dev, "generic", 1, 5)
    devices = [
        s.device(demo, "imp004m", alpha_dev, name="Alpha 1"),
        s.device(demo, "imp004m", alpha_dev, name="Alpha 2"),
        s.device(demo, "imp004m", alpha_dev, name="Alpha 3", online=False),
        s.device(demo, "imp001", name="Loose imp001"),
        s.device(demo, "imp004m", name="Loose offline", online=False),
        s.device(collab, "imp004m", shared_dev, name="Shared 1"),
    ]
    for d in devices:
        s.history(d, 20, 2 * HOUR)
    emulator.store.touch()
