"""Entry point: command line, QApplication + qasync loop, and the wiring of demo mode."""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from impdesk import APP_ID, APP_NAME, __version__, settings

if TYPE_CHECKING:  # only for annotations: the GUI stack is imported after parsing
    from PySide6.QtWidgets import QApplication, QWidget

    from impdesk.gui.main_window import ConnectionInfo

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.electricimp.com/v5"
# Contract §1.1: plain http only for loopback. impdesk.api.client enforces the same rule on every
# request; this early check only turns a typo into a usage error instead of a window.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
DEMO_SEED = "demo"
# The demo data set's sign-ins (contract §8.10). The README documents the same values, and
# tests/test_app_cli.py checks both against the emulator's GET /_emulator/accounts.
# (username, email, password, note)
DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "demo",
        "demo@example.com",
        "impdesk-demo",
        "main account, commercial; unbond key demo-unbond-key",
    ),
    (
        "demo-2fa",
        "demo-2fa@example.com",
        "impdesk-demo",
        "two-factor; TOTP secret IMPDESKDEMOTOTPSECRET234",
    ),
    ("demo-collab", "demo-collab@example.com", "impdesk-demo", "owns a product shared with demo"),
)
DEMO_UNBOND_KEY = "demo-unbond-key"
DEMO_TOTP_SECRET = "IMPDESKDEMOTOTPSECRET234"

SCREENSHOT_SETTLE_S = 0.3
SCREENSHOT_READY_TIMEOUT_S = 60.0  # let layouts and the first paint settle before grabbing
SIGNAL_POLL_MS = 250  # Qt's C++ loop starves Python signal handlers; wake the interpreter


class DemoUnavailableError(RuntimeError):
    """Demo mode was asked for but the embedded emulator cannot be imported or started."""


def _endpoint(value: str) -> str:
    """argparse type for --endpoint: an http(s) base URL; plain http only on loopback."""
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not a base URL such as {DEFAULT_ENDPOINT}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise argparse.ArgumentTypeError(
            f"{value!r}: plain http is only allowed for 127.0.0.1, ::1 or localhost; use https"
        )
    return url.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    """The command line of `impdesk` (also `python -m impdesk`)."""
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Desktop manager for Electric Imp impCentral accounts.",
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the versions of impdesk, Python, PySide6 and Qt, then exit (no window)",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--demo",
        action="store_true",
        help="start the embedded impCentral emulator with demo data and connect to it",
    )
    target.add_argument(
        "--endpoint",
        metavar="URL",
        type=_endpoint,
        default=None,
        help=f"impCentral API base URL (default {DEFAULT_ENDPOINT}); plain http only on loopback",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        type=Path,
        default=None,
        help="save a PNG of the main window once it is up, then exit (works offscreen)",
    )
    tasks = parser.add_mutually_exclusive_group()
    tasks.add_argument(
        "--self-test",
        action="store_true",
        help="smoke-test this installation offscreen (embedded emulator, sign-in, tree, icon, "
        "SSE, keyring, CA bundle); exit 0 on success",
    )
    tasks.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add impdesk to the desktop's application menu (a .desktop file and icons under "
        "$XDG_DATA_HOME, default ~/.local/share), then exit",
    )
    tasks.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove what --install-desktop-entry added, then exit",
    )
    return parser


def version_text() -> str:
    """The `--version` report. Imports PySide6.QtCore only: no QApplication, no display.

    Raises:
        ImportError: PySide6 (or a system library it needs) is missing.
    """
    from impdesk.versions import version_lines

    return "\n".join(version_lines())


def configure_application() -> None:
    """Names Qt needs before the QApplication exists: QSettings' folders, the desktop file.

    Call it before constructing the QApplication; the GUI and --self-test both do.
    """
    from PySide6.QtWidgets import QApplication

    QApplication.setOrganizationName(settings.ORGANIZATION)
    QApplication.setOrganizationDomain(settings.ORGANIZATION_DOMAIN)
    QApplication.setApplicationName(settings.APPLICATION)
    QApplication.setApplicationVersion(__version__)
    # Wayland app_id and _KDE_NET_WM_DESKTOP_FILE: the shell finds the .desktop file and icon.
    QApplication.setDesktopFileName(APP_ID)
    # X11: Qt takes WM_CLASS's instance name from RESOURCE_NAME; shells match it against the
    # .desktop file's StartupWMClass=APP_ID (the class stays the application name).
    os.environ.setdefault("RESOURCE_NAME", APP_ID)


class EmbeddedEmulator:
    """The in-process emulator of demo mode (contract §8.2); `stop()` may be called twice."""

    def __init__(self, seed: str = DEMO_SEED) -> None:
        try:
            from impdesk.emulator import EmulatorServer
        except ImportError as exc:
            raise DemoUnavailableError(
                f"demo mode needs the embedded emulator (impdesk.emulator): {exc}"
            ) from exc
        try:  # binds in the constructor, serves from start()
            self._server: Any = EmulatorServer(seed=seed).start()
        except OSError as exc:
            raise DemoUnavailableError(f"the embedded emulator did not start: {exc}") from exc
        self.base_url: str = self._server.base_url
        self.control_url: str = self._server.control_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            log.info("stopping the embedded emulator")
            server.stop()


def _install_quit_on_signals(app: QApplication) -> Callable[[], None]:
    """Let Ctrl+C / SIGTERM close the app cleanly; returns a function that undoes it."""
    from PySide6.QtCore import QTimer

    def request_quit(signum: int, _frame: object) -> None:
        log.info("signal %d: quitting", signum)
        app.quit()

    previous = {sig: signal.signal(sig, request_quit) for sig in (signal.SIGINT, signal.SIGTERM)}
    poll = QTimer(app)
    poll.timeout.connect(lambda: None)
    poll.start(SIGNAL_POLL_MS)

    def restore() -> None:
        poll.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


async def _save_screenshot(window: QWidget, path: Path) -> bool:
    await asyncio.sleep(SCREENSHOT_SETTLE_S)
    if not window.grab().save(str(path), "PNG"):
        print(f"{APP_NAME}: could not write the screenshot to {path}", file=sys.stderr)
        return False
    print(f"{APP_NAME}: screenshot saved to {path}", flush=True)
    return True


async def run_app(app: QApplication, window: QWidget, screenshot: Path | None) -> int:
    """The main coroutine: show the window, then wait until Qt is about to quit.

    WORKAROUND(https://github.com/CabbageDevelopment/qasync/issues/39): by the time
    `aboutToQuit` fires, qasync's loop is no longer running; the body after the final await
    runs in qasync's last `processEvents()` and must not await again. Cleanup that must happen
    (emulator, executor) is connected to `aboutToQuit` directly, before this coroutine's event.
    """
    quit_requested = asyncio.Event()
    app.aboutToQuit.connect(quit_requested.set)
    window.show()
    exit_code = 0
    start = getattr(window, "start", None)
    starting = asyncio.ensure_future(start()) if start is not None else None
    if screenshot is not None:
        ready = getattr(window, "ready", None)
        if ready is not None:
            try:  # the screenshot shows the loaded tree, not a half-built one
                await asyncio.wait_for(ready.wait(), SCREENSHOT_READY_TIMEOUT_S)
            except TimeoutError:
                print(f"{APP_NAME}: the initial load did not finish in time", file=sys.stderr)
        exit_code = 0 if await _save_screenshot(window, screenshot) else 1
        app.quit()
    if starting is not None and not starting.done():
        starting.cancel()
    await quit_requested.wait()
    return exit_code


def _connection_info(args: argparse.Namespace, emulator: EmbeddedEmulator | None) -> ConnectionInfo:
    from impdesk.gui.main_window import ConnectionInfo, DemoAccount

    if emulator is None:
        return ConnectionInfo(endpoint=args.endpoint or DEFAULT_ENDPOINT)
    return ConnectionInfo(
        endpoint=emulator.base_url,
        demo=True,
        control_url=emulator.control_url,
        accounts=tuple(DemoAccount(*row) for row in DEMO_ACCOUNTS),
    )


def _run_gui(args: argparse.Namespace) -> int:
    # Guide §2: pin qasync to PySide6 and import PySide6 first, or qasync probes PyQt first.
    os.environ["QT_API"] = "pyside6"
    from PySide6.QtWidgets import QApplication  # noqa: I001 (PySide6 before qasync, guide §2)
    import qasync

    _add_log_file()

    from impdesk.gui.main_window import MainWindow, app_icon

    if sys.stderr is not None:  # pythonw-style launches have no stderr
        faulthandler.enable()

    emulator = EmbeddedEmulator() if args.demo else None
    restore_signals: Callable[[], None] | None = None
    try:
        if emulator is not None:
            print(f"{APP_NAME} demo: emulator at {emulator.base_url}", flush=True)
            print(
                f"  sign in as demo / {DEMO_ACCOUNTS[0][2]}  (more accounts in the README)",
                flush=True,
            )
        configure_application()
        app = QApplication(sys.argv[:1])
        app.setWindowIcon(app_icon())
        from impdesk.gui import crash

        crash.install()
        if emulator is not None:
            app.aboutToQuit.connect(emulator.stop)
        restore_signals = _install_quit_on_signals(app)
        window = MainWindow(_connection_info(args, emulator))
        return qasync.run(run_app(app, window, args.screenshot))
    finally:
        if restore_signals is not None:
            restore_signals()
        if emulator is not None:
            emulator.stop()


def _configure_logging() -> None:
    """Log to stderr, every record scrubbed of secrets (tokens, passwords, stream ids)."""
    from impdesk.api import redact

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("impdesk").setLevel(logging.INFO)
    redact.install()


def _add_log_file() -> None:
    """The GUI also keeps a rotating log in the user's log folder (scrubbed like stderr)."""
    from impdesk.api import redact

    try:
        from logging.handlers import RotatingFileHandler

        from impdesk.settings import log_path

        handler = RotatingFileHandler(log_path(), maxBytes=1_000_000, backupCount=3,
                                      encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
    except OSError as exc:  # a read-only home must not stop the app
        log.warning("no log file: %s", exc)
        return
    handler.addFilter(redact.RedactingFilter())


def main(argv: Sequence[str] | None = None) -> int:
    """Run impdesk; returns the process exit code (gui script `impdesk`, `python -m impdesk`)."""
    args = build_parser().parse_args(argv)
    _configure_logging()
    if args.version:
        try:
            print(version_text())
        except ImportError as exc:
            print(f"{APP_NAME} {__version__}\nPySide6 cannot be imported: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        from impdesk import desktop  # no Qt: works over ssh and in scripts

        return desktop.main("install" if args.install_desktop_entry else "uninstall")
    if args.self_test:
        from impdesk.selftest import run_self_test

        return run_self_test()
    if args.screenshot is not None and not args.screenshot.parent.is_dir():
        print(
            f"{APP_NAME}: no such directory for --screenshot: {args.screenshot.parent}",
            file=sys.stderr,
        )
        return 2
    try:
        return _run_gui(args)
    except DemoUnavailableError as exc:
        print(f"{APP_NAME}: {exc}", file=sys.stderr)
        return 2
