"""Sign-in against the emulator: password, wrong password, validation, 2FA, login key, remember."""

from __future__ import annotations

import asyncio

import keyring
import pytest
import shiboken6
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from impdesk import APP_ID
from impdesk.core.tree import DEVICE, PRODUCT
from impdesk.gui.main_window import ConnectionInfo, MainWindow
from impdesk.gui.signin import CUSTOM, SignInDialog
from tests.gui.conftest import settle


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict, so tests can see exactly what was stored."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("not found")
        del self.entries[(service, username)]


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def new_window(qtbot, emu, settings, headless, memory_keyring):
    """A MainWindow that is not in demo mode and not signed in, pointing at the emulator."""

    def make(with_settings: QSettings | None = None) -> MainWindow:
        window = MainWindow(ConnectionInfo(endpoint=emu.base), settings=with_settings or settings)
        qtbot.addWidget(window)
        window.show()
        return window

    return make


def run_until(qloop, predicate, timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    qloop.run(wait(), timeout)


def open_dialog(qloop, window) -> SignInDialog:
    """Start window.sign_in() as a task and return the dialog it opens."""
    window.tasks.spawn(window.sign_in())
    run_until(qloop, lambda: isinstance(QApplication.activeModalWidget(), SignInDialog)
              or window.findChild(SignInDialog) is not None)
    dialog = window.findChild(SignInDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


def fill(qtbot, dialog: SignInDialog, identifier: str, password: str) -> None:
    dialog.identifier.clear()
    qtbot.keyClicks(dialog.identifier, identifier)
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, password)


def auth_requests(emu) -> list[str]:
    return [r["path"] for r in emu.control("GET", "/requests")["requests"]
            if r["path"].startswith("/v5/auth")]


def submit_and_wait_for_error(qloop, dialog: SignInDialog) -> str:
    dialog.submit.click()
    run_until(qloop, lambda: dialog.error.isVisible() and dialog.submit.isEnabled())
    return dialog.error.text()


def finish(qloop, window, dialog: SignInDialog) -> None:
    """Click Sign in and run until the window is signed in and loaded."""
    dialog.submit.click()
    run_until(qloop, lambda: window.service is not None and window.model.root.children
              and not window._loading, timeout=10)
    settle(qloop, window)


def password_of(emu, username: str) -> str:
    return emu.accounts()[username]["password"]


# -- tests ---------------------------------------------------------------------------------------
def test_sign_in_with_password_loads_the_tree(qtbot, qloop, new_window, emu):
    window = new_window()
    assert window.service is None and not window.act_sign_out.isEnabled()
    dialog = open_dialog(qloop, window)
    assert dialog.cloud.currentText() == CUSTOM and dialog.endpoint() == emu.base
    fill(qtbot, dialog, "demo", password_of(emu, "demo"))
    finish(qloop, window, dialog)
    assert not shiboken6.isValid(dialog)  # closed and deleted on success
    assert window.connection.text().startswith("Signed in as demo")
    assert "demo" in window.windowTitle() and "Demo" not in window.windowTitle()
    products = {p["id"] for p in emu.list_all("/products")}
    assert {k[1] for k in window.model.nodes if k[0] == PRODUCT} == products
    assert window.act_sign_out.isEnabled() and not window.act_sign_in.isEnabled()


def test_wrong_password_shows_the_server_text_and_keeps_the_input(qtbot, qloop, new_window,
                                                                   emu):
    window = new_window()
    dialog = open_dialog(qloop, window)
    fill(qtbot, dialog, "demo", "<b>wrong</b>")
    shown = submit_and_wait_for_error(qloop, dialog)
    answer = emu.http.post(emu.base + "/auth", json={"id": "demo", "password": "nope"},
                           timeout=10).json()["errors"][0]
    assert shown == f"{answer['title']}: {answer['detail']}"
    assert dialog.error.textFormat().name == "PlainText"
    assert dialog.isVisible() and window.service is None
    assert dialog.identifier.text() == "demo" and dialog.password.text() == "<b>wrong</b>"
    # Correcting the password signs in from the same dialog.
    fill(qtbot, dialog, "demo", password_of(emu, "demo"))
    finish(qloop, window, dialog)
    assert window.service is not None and not shiboken6.isValid(dialog)


@pytest.mark.parametrize(("identifier", "password", "url", "message"), [
    ("", "secret", None, "Enter your email address or username."),
    ("demo", "", None, "Enter your password."),
    ("demo", "secret", "http://impcentral.example.com/v5", "must use HTTPS"),
])
def test_invalid_input_is_refused_before_anything_is_sent(qtbot, qloop, new_window, emu,
                                                          identifier, password, url, message):
    window = new_window()
    dialog = open_dialog(qloop, window)
    if url is not None:
        dialog.custom_url.setText(url)
    fill(qtbot, dialog, identifier, password)
    emu.control("DELETE", "/requests")
    dialog.submit.click()
    assert dialog.error.isVisible() and message in dialog.error.text()
    assert len(dialog._tasks) == 0  # no attempt started
    qloop.run(asyncio.sleep(0.05))
    assert auth_requests(emu) == []
    assert dialog.identifier.text() == identifier and dialog.password.text() == password
    assert window.service is None


def test_two_factor_sign_in_asks_for_the_one_time_password(qtbot, qloop, new_window, emu):
    emu.server.reset(seed="demo", config={"rate_limit": {"limit": 0, "window_s": 1},
                                          "simulation": {"enabled": False}})
    window = new_window()
    dialog = open_dialog(qloop, window)
    assert not dialog.otp.isVisible()
    fill(qtbot, dialog, "demo-2fa", password_of(emu, "demo-2fa"))
    shown = submit_and_wait_for_error(qloop, dialog)
    assert "two-factor" in shown
    assert dialog.otp.isVisible() and window.service is None
    qtbot.keyClicks(dialog.otp, emu.otp("demo-2fa"))
    finish(qloop, window, dialog)
    assert window.connection.text().startswith("Signed in as demo-2fa")
    names = {window.model.data(window.model.index_of(k)) for k in window.model.nodes
             if k[0] == PRODUCT}
    assert "Home Lab" in names


def test_sign_in_with_a_login_key(qtbot, qloop, new_window, emu):
    created = emu.post("/accounts/me/login_keys",
                       json={"data": {"type": "login_key", "attributes": {"description": "t"}}},
                       headers={"X-Electricimp-Password": password_of(emu, "demo")})
    assert created.status_code == 201, created.text
    key = created.json()["data"]["id"]
    window = new_window()
    dialog = open_dialog(qloop, window)
    dialog.by_key.setChecked(True)
    assert dialog.login_key.isVisible() and not dialog.password.isVisible()
    dialog.submit.click()  # empty key: refused locally
    assert dialog.error.text() == "Enter the login key."
    qtbot.keyClicks(dialog.login_key, key)
    finish(qloop, window, dialog)
    assert any(k[0] == DEVICE for k in window.model.nodes)
    usages = emu.get(f"/accounts/me/login_keys/{key}").json()["data"]["attributes"]["usages"]
    assert usages == 1


def test_sign_out_empties_the_tree(qtbot, qloop, new_window, emu):
    window = new_window()
    dialog = open_dialog(qloop, window)
    fill(qtbot, dialog, "demo", password_of(emu, "demo"))
    finish(qloop, window, dialog)
    assert any(k[0] == DEVICE for k in window.model.nodes)
    window.act_sign_out.trigger()
    settle(qloop, window)
    assert window.service is None
    assert not any(k[0] in (DEVICE, PRODUCT) for k in window.model.nodes)
    assert window.proxy.rowCount() <= 1  # at most the empty "Unassigned devices"
    assert window.connection.text() == "Not signed in"
    assert window.act_sign_in.isEnabled() and not window.act_refresh.isEnabled()
    assert window.statusBar().currentMessage() == "Signed out"


def test_remember_me_keeps_only_the_refresh_token_and_restores_the_session(
        qtbot, qloop, new_window, emu, settings, memory_keyring, tmp_path):
    password = password_of(emu, "demo")
    window = new_window()
    dialog = open_dialog(qloop, window)
    fill(qtbot, dialog, "demo", password)
    dialog.remember.setChecked(True)
    finish(qloop, window, dialog)
    assert not shiboken6.isValid(dialog)  # the dialog (and the password) is gone

    host = emu.base.split("//")[1].split(":")[0]
    assert list(memory_keyring.entries) == [(APP_ID, f"demo@{host}")]
    stored = memory_keyring.entries[(APP_ID, f"demo@{host}")]
    assert password not in stored and stored != password
    login = emu.control("GET", "/requests")["requests"]
    auth = next(r for r in login if r["path"] == "/v5/auth")
    assert auth["status"] == 200
    settings.sync()
    ini = (tmp_path / "impdesk.ini").read_text()
    assert password not in ini

    # A new window with the same (re-read) settings restores the session without a dialog.
    window.close()
    restored = new_window(QSettings(str(tmp_path / "impdesk.ini"), QSettings.Format.IniFormat))
    qloop.run(restored.start(), 10)
    settle(qloop, restored)
    assert restored.findChild(SignInDialog) is None
    assert restored.service is not None
    assert restored.connection.text().startswith("Signed in as demo")
    assert any(k[0] == DEVICE for k in restored.model.nodes)
    token_uses = [r for r in emu.control("GET", "/requests")["requests"]
                  if r["path"] == "/v5/auth/token"]
    assert token_uses and token_uses[-1]["status"] == 200
    assert password not in "".join(memory_keyring.entries.values())

    # Signing out forgets the saved session.
    restored.act_sign_out.trigger()
    settle(qloop, restored)
    assert memory_keyring.entries == {}
