"""Webhook delivery (to be written)."""

from __future__ import annotations

from typing import Any


class Dispatcher:
    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator

    def clear(self) -> None:
        pass

    def fire(self, group_id: str, event: str, payload: dict) -> None:
        pass
