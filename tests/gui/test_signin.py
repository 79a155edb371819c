"""Sign-in against the emulator: password, wrong password, validation, 2FA, login key, remember."""

from __future__ import annotations

import asyncio

import keyring
import pytest
import shiboken6
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from impdesk import APP_ID
from impdesk.core.tree import DEVICE, PRODUCT
from impdesk.gui.main_window import ConnectionInfo, MainWindow
from impdesk.gui.signin import CUSTOM, SignInDialog
from tests.gui.conftest import settle
from tests.keyrings import MemoryKeyring


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


# -- saved profiles ------------------------------------------------------------------------------
def ini_bytes(path) -> bytes:
    """The INI file with Qt's escapes decoded, so `@Variant(...)` values (UTF-16 inside) can be
    searched too: `\\xHH...` and `\\0..` octal escapes are greedy, as QSettings writes them."""
    text = path.read_text(encoding="utf-8")
    simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, '"': 34, "\\": 92,
              ";": 59, ",": 44, "=": 61, "'": 39}
    out, i = bytearray(), 0
    while i < len(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if text[i] == "\\" and nxt == "x":
            j = i + 2
            while j < len(text) and text[j] in "0123456789abcdefABCDEF":
                j += 1
            out += chr(int(text[i + 2:j] or "0", 16)).encode("latin-1", "replace")
            i = j
        elif text[i] == "\\" and nxt in "01234567" and nxt:
            j = i + 1
            while j < len(text) and j < i + 4 and text[j] in "01234567":
                j += 1
            out.append(int(text[i + 1:j], 8) & 0xFF)
            i = j
        elif text[i] == "\\" and nxt in simple and nxt:
            out.append(simple[nxt])
            i += 2
        else:
            out += text[i].encode("utf-8")
            i += 1
    return bytes(out)


def contains(blob: bytes, secret: str) -> bool:
    return secret.encode() in blob or secret.encode("utf-16-be") in blob


def make_login_key(emu) -> str:
    created = emu.post("/accounts/me/login_keys",
                       json={"data": {"type": "login_key", "attributes": {"description": "t"}}},
                       headers={"X-Electricimp-Password": password_of(emu, "demo")})
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"]


def test_profiles_are_saved_without_the_password_or_the_login_key(
        qtbot, qloop, new_window, emu, settings, headless, tmp_path):
    from impdesk import settings as keys

    password, key = password_of(emu, "demo"), make_login_key(emu)
    window = new_window()
    dialog = open_dialog(qloop, window)
    fill(qtbot, dialog, "demo", password)
    dialog.remember.setChecked(True)
    headless["profile_name"] = "Emulator demo"
    dialog.save_profile_button.click()
    run_until(qloop, lambda: dialog.profile_name() == "Emulator demo")
    dialog.by_key.setChecked(True)
    qtbot.keyClicks(dialog.login_key, key)
    headless["profile_name"] = "Robot key"
    dialog.save_profile_button.click()
    run_until(qloop, lambda: dialog.profile_name() == "Robot key")
    assert [dialog.profile.itemText(i) for i in range(dialog.profile.count())] == [
        "New sign-in", "Emulator demo", "Robot key"]
    assert dialog.login_key.text() == key  # saving a profile does not touch the fields
    finish(qloop, window, dialog)  # signs in with the key
    assert window.service is not None

    settings.sync()
    stored = settings.value(keys.PROFILES)
    assert stored == [
        {"name": "Emulator demo", "endpoint": emu.base, "identifier": "demo", "remember": True,
         "method": "password"},
        {"name": "Robot key", "endpoint": emu.base, "identifier": "", "remember": False,
         "method": "key"}]
    blob = ini_bytes(tmp_path / "impdesk.ini")
    assert contains(blob, "Emulator demo") and contains(blob, emu.base)  # the search works
    assert not contains(blob, password)
    assert not contains(blob, key)
    last = settings.value(keys.LAST_PROFILE)
    assert last["name"] == "Robot key" and last["method"] == "key" and not last["remember"]


def test_choosing_a_profile_fills_the_fields_and_the_last_one_is_preselected(
        qtbot, qloop, new_window, emu, settings):
    from impdesk.gui.profiles import Profile, ProfileStore

    store = ProfileStore(settings)
    store.save(Profile("Azure work", "https://api.az.electricimp.io/v5", "ops@example.com",
                       remember=True))
    store.save(Profile("Emulator", emu.base, "demo"))
    store.save(Profile("CI key", emu.base, method="key"))
    window = new_window()
    dialog = open_dialog(qloop, window)
    assert dialog.profile_name() == "" and not dialog.delete_profile_button.isEnabled()

    assert dialog.choose_profile("Azure work")
    assert dialog.cloud.currentText() == "Azure" and not dialog.custom_url.isVisible()
    assert dialog.identifier.text() == "ops@example.com" and dialog.password.text() == ""
    assert dialog.remember.isChecked() and dialog.by_password.isChecked()
    assert dialog.delete_profile_button.isEnabled()

    assert dialog.choose_profile("CI key")
    assert dialog.by_key.isChecked() and dialog.login_key.isVisible()
    assert dialog.endpoint() == emu.base and not dialog.remember.isEnabled()

    assert dialog.choose_profile("Emulator")
    assert dialog.by_password.isChecked() and dialog.cloud.currentText() == CUSTOM
    assert dialog.endpoint() == emu.base and dialog.identifier.text() == "demo"
    assert not dialog.remember.isChecked()
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, password_of(emu, "demo"))
    assert dialog.request().profile == "Emulator"
    finish(qloop, window, dialog)
    assert window.connection.text().startswith("Signed in as demo")

    # The next dialog preselects the profile used last; deleting removes it from the list.
    window.act_switch_profile.trigger()
    run_until(qloop, lambda: window.service is None and window.findChild(SignInDialog))
    again = window.findChild(SignInDialog)
    assert again.profile_name() == "" and again.identifier.text() == "demo"  # switch: pick one
    again.reject()
    settle(qloop, window)
    second = open_dialog(qloop, window)
    assert second.profile_name() == "Emulator" and second.identifier.text() == "demo"
    second.delete_profile_button.click()
    assert [p.name for p in store.all()] == ["Azure work", "CI key"]
    assert second.profile_name() == "" and second.profile.findData("Emulator") == -1
    second.reject()


def test_the_last_profile_with_remember_restores_the_session(
        qtbot, qloop, new_window, emu, settings, memory_keyring, tmp_path):
    from impdesk.gui.profiles import Profile, ProfileStore

    ProfileStore(settings).save(Profile("Emulator", emu.base, "demo", remember=True))
    window = new_window()
    dialog = open_dialog(qloop, window)
    assert dialog.choose_profile("Emulator") and dialog.remember.isChecked()
    qtbot.keyClicks(dialog.password, password_of(emu, "demo"))
    finish(qloop, window, dialog)
    assert len(memory_keyring.entries) == 1  # the refresh token, nothing else
    settings.sync()
    window.close()

    restored = new_window(QSettings(str(tmp_path / "impdesk.ini"), QSettings.Format.IniFormat))
    qloop.run(restored.start(), 10)
    settle(qloop, restored)
    assert restored.findChild(SignInDialog) is None
    assert restored.connection.text().startswith("Signed in as demo")
    assert any(k[0] == DEVICE for k in restored.model.nodes)

    # Switching profile signs out (the saved session is forgotten) and asks again.
    restored.act_switch_profile.trigger()
    run_until(qloop, lambda: restored.findChild(SignInDialog) is not None)
    assert restored.service is None and memory_keyring.entries == {}
    restored.findChild(SignInDialog).reject()
    settle(qloop, restored)


def test_login_key_sign_in_cannot_keep_the_session(qtbot, qloop, new_window, emu, settings,
                                                   memory_keyring):
    window = new_window()
    dialog = open_dialog(qloop, window)
    dialog.remember.setChecked(True)
    dialog.by_key.setChecked(True)
    assert not dialog.remember.isEnabled() and not dialog.remember.isChecked()
    assert "refresh token" in dialog.remember.toolTip()
    assert "never stores the key" in dialog.remember.toolTip()
    dialog.by_password.setChecked(True)
    assert dialog.remember.isEnabled()
    dialog.by_key.setChecked(True)
    qtbot.keyClicks(dialog.login_key, make_login_key(emu))
    assert dialog.request().remember is False
    finish(qloop, window, dialog)
    assert window.service is not None and memory_keyring.entries == {}
    from impdesk.gui.profiles import ProfileStore

    assert ProfileStore(settings).restorable() is None  # nothing to restore at the next start
