"""The log-stream hub: streams, subscriptions and SSE connections (to be written)."""

from __future__ import annotations

from typing import Any


class Hub:
    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator

    def reset(self) -> None:
        pass

    def open_connections(self) -> int:
        return 0

    def publish(self, device: Any, entry: Any) -> None:
        pass

    def device_removed(self, device: Any) -> None:
        pass
