"""/v5 webhooks endpoints (to be written)."""

from __future__ import annotations

from ..framework import Router


def register(router: Router) -> None:
    pass
