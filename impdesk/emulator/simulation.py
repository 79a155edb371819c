"""The living fleet (to be written)."""

from __future__ import annotations

from typing import Any


class Simulation:
    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator

    def restart(self) -> None:
        pass

    def stop(self) -> None:
        pass
