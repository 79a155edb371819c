"""Shared fixtures: one emulator per test session, reset before every test that uses it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from tests.emuclient import EmuClient


@pytest.fixture(scope="session")
def emulator_server():
    """A real emulator on 127.0.0.1 with a free port, shared by the session."""
    from impdesk.emulator import EmulatorServer

    with EmulatorServer(seed="small", rate_limit=0, simulation=False) as server:
        yield server


@pytest.fixture
def emu(emulator_server) -> EmuClient:
    """The shared emulator, reset to the `small` seed with rate limiting off and no faults."""
    emulator_server.reset(seed="small", config={"rate_limit": {"limit": 0, "window_s": 1}})
    return EmuClient(emulator_server)
