"""A local impCentral API v5 emulator (stdlib only): `EmulatorServer` runs one on loopback."""

from .server import EmulatorServer

__all__ = ["EmulatorServer"]
