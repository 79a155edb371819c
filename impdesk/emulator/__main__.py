"""`impdesk-emulator` / `python -m impdesk.emulator`: run a local impCentral emulator (§8.2)."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from collections.abc import Sequence

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def _seed(value: str) -> str:
    from .seeds import parse_seed_name

    try:
        parse_seed_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (use demo, small, empty or fleet:N)") from None
    return value


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return number


def _port(value: str) -> int:
    number = _non_negative(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="impdesk-emulator",
        description="Run a local impCentral API v5 emulator. The first line of output is the "
                    "base URL; the demo credentials follow.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=0, help="port (default 0: any free port)")
    p.add_argument("--seed", type=_seed, default="demo",
                   help="data set: demo (default), small, empty or fleet:N")
    p.add_argument("--latency-ms", type=_non_negative, default=0, metavar="N",
                   help="added latency per /v5 request")
    p.add_argument("--rate-limit", type=_non_negative, default=None, metavar="N",
                   help="requests per 1-s window and token; 0 = off (default 40)")
    p.add_argument("--log-rate", type=_non_negative, default=None, metavar="N",
                   help="simulated log entries per minute per online assigned device; 0 = off")
    p.add_argument("--no-simulation", action="store_true",
                   help="no periodic logs or flips (restarts still write their lines)")
    p.add_argument("--no-control", action="store_true", help="no /_emulator control surface")
    p.add_argument("--random-seed", type=int, default=0, metavar="N",
                   help="seed of the generated ids (fleet data)")
    return p


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def credentials_text() -> list[str]:
    """The demo accounts for the console: usernames, password, 2FA secret — never tokens."""
    from .seeds import ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET

    lines = ["Demo accounts (password for all: " + DEMO_PASSWORD + "):"]
    for username, email, commercial, two_factor, _unbond in ACCOUNTS:
        notes = []
        if commercial:
            notes.append("commercial")
        if two_factor:
            notes.append("2FA, TOTP secret " + DEMO_TOTP_SECRET)
        extra = f" ({', '.join(notes)})" if notes else ""
        lines.append(f"  {username} <{email}>{extra}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not is_loopback(args.host):
        print(f"warning: binding {args.host}, which is not a loopback address: anyone who can "
              "reach it can use the emulator"
              + ("" if args.no_control else " and its unauthenticated control surface"),
              file=sys.stderr, flush=True)
    from .server import EmulatorServer

    try:
        server = EmulatorServer(
            host=args.host, port=args.port, seed=args.seed, latency_ms=args.latency_ms,
            rate_limit=args.rate_limit, log_rate=args.log_rate,
            simulation=False if args.no_simulation else None, control=not args.no_control,
            random_seed=args.random_seed,
        )
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        print(server.base_url, flush=True)  # the first line: tools read the URL from it
        lines = credentials_text()
        if not args.no_control:
            lines.append(f"Control surface: {server.control_url}")
        lines.append("Press Ctrl+C to stop.")
        print("\n".join(lines), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
