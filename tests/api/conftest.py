"""Fixtures for impdesk.api against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from impdesk.api import Client
from impdesk.api.retry import RetryPolicy
from tests.emuclient import EmuClient


class FakeClock:
    """A monotonic clock the test moves by hand (for token deadlines)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def requests_log(emu: EmuClient, since: int = 0) -> list[dict]:
    """The emulator's /v5 request log (§8.9), once it has settled.

    The emulator records a request just *after* writing its answer, so a read right after a
    call may miss that call: read until two reads 20 ms apart agree.
    """
    entries = emu.control("GET", f"/requests?since={since}")["requests"]
    for _ in range(50):
        time.sleep(0.02)
        again = emu.control("GET", f"/requests?since={since}")["requests"]
        if len(again) == len(entries):
            return again
        entries = again
    return entries


def clear_log(emu: EmuClient) -> None:
    """Empty the request log once the calls made so far are in it (see requests_log)."""
    requests_log(emu)
    emu.control("DELETE", "/requests")


def password(emu: EmuClient, user: str = "demo") -> str:
    return emu.accounts()[user]["password"]


@pytest.fixture
def sleeps() -> list[float]:
    """Back-off sleeps the client asked for (recorded, not slept)."""
    return []


@pytest.fixture
def make_client(emu: EmuClient, sleeps: list[float]) -> Callable[..., Client]:
    """A factory of clients on the emulator; fast back-off, recorded sleeps; closed at the end."""
    made: list[Client] = []

    def make(*, login: str | None = "demo", **kw) -> Client:
        kw.setdefault("retry", RetryPolicy(base_s=0.01, cap_s=0.05, rng=random.Random(0)))
        kw.setdefault("sleep", sleeps.append)
        client = Client(emu.base, **kw)
        made.append(client)
        if login:
            client.login(login, password(emu, login))
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client) -> Client:
    """A client signed in as `demo`."""
    return make_client()
