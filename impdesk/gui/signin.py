"""The sign-in dialog: cloud, password or login key, one-time password, remember me, profiles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from .. import settings
from ..api.auth import InsecureEndpointError, check_base_url
from . import dialogs
from .dialogs import error_label, show_error
from .profiles import KEY, PASSWORD, Profile, ProfileStore
from .tasks import TaskSet

CUSTOM = "Custom URL…"
NO_PROFILE = "New sign-in"


@dataclass
class SignInRequest:
    """What the user asked for; the password lives only as long as the attempt."""

    endpoint: str
    identifier: str = ""
    password: str = ""
    login_key: str = ""
    remember: bool = False
    otp: str = ""
    profile: str = ""  # the saved profile chosen in the dialog, if any


class SignInDialog(QDialog):
    """Collects credentials and runs `attempt(request)`; stays open and shows errors inline.

    `attempt` raises to report a failure (its message is shown as plain text) or returns
    normally on success, which accepts the dialog. It may call `ask_otp()` for 2FA accounts.
    """

    def __init__(self, attempt: Callable[[SignInRequest, SignInDialog], Awaitable[None]],
                 parent: QWidget | None = None, endpoint: str | None = None,
                 identifier: str = "", keyring_ok: bool = True,
                 profiles: ProfileStore | None = None, profile: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("SignInDialog")
        self.setWindowTitle(self.tr("Sign in to impCentral"))
        self._attempt = attempt
        self._tasks = TaskSet()
        self._keyring_ok = keyring_ok
        self.profiles = profiles
        self.profile = QComboBox()
        self.profile.setObjectName("profileCombo")
        self.profile.setAccessibleName(self.tr("Saved profile"))
        self.save_profile_button = QPushButton(self.tr("Save as profile…"))
        self.save_profile_button.setToolTip(self.tr(
            "Save the cloud, the email or username and the keep-me-signed-in choice under a "
            "name (never the password or the login key)"))
        self.delete_profile_button = QPushButton(self.tr("Delete profile"))
        self.cloud = QComboBox()
        self.cloud.addItems([*settings.CLOUDS, CUSTOM])
        self.custom_url = QLineEdit()
        self.custom_url.setPlaceholderText("https://impcentral.example.com/v5")
        self.by_password = QRadioButton(self.tr("&Password"))
        self.by_key = QRadioButton(self.tr("Login &key"))
        self.by_password.setChecked(True)
        method = QButtonGroup(self)
        method.addButton(self.by_password)
        method.addButton(self.by_key)
        self.identifier = QLineEdit(identifier)
        self.identifier.setPlaceholderText(self.tr("Email or username"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.login_key = QLineEdit()
        self.login_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox(self.tr("&Keep me signed in (refresh token in the system "
                                          "keyring, never the password)"))
        self.otp = QLineEdit()
        self.otp.setPlaceholderText("123456")
        self.otp.setValidator(QRegularExpressionValidator(r"\s*\d{0,6}\s*"))
        self.otp_label = QLabel(self.tr("&One-time password:"))
        self.otp_label.setBuddy(self.otp)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.addButton(self.tr("Sign in"),
                                             QDialogButtonBox.ButtonRole.AcceptRole)

        form = QFormLayout()
        profile_row = QHBoxLayout()
        profile_row.addWidget(self.profile, 1)
        profile_row.addWidget(self.save_profile_button)
        profile_row.addWidget(self.delete_profile_button)
        profile_label = QLabel(self.tr("P&rofile:"))
        profile_label.setBuddy(self.profile)
        form.addRow(profile_label, profile_row)
        form.addRow(self.tr("&Cloud:"), self.cloud)
        form.addRow("", self.custom_url)
        form.addRow(self.tr("Sign in with:"), self.by_password)
        form.addRow("", self.by_key)
        self.identifier_label = QLabel(self.tr("&Email or username:"))
        self.identifier_label.setBuddy(self.identifier)
        form.addRow(self.identifier_label, self.identifier)
        self.password_label = QLabel(self.tr("Pass&word:"))
        self.password_label.setBuddy(self.password)
        form.addRow(self.password_label, self.password)
        self.key_label = QLabel(self.tr("Login key:"))
        self.key_label.setBuddy(self.login_key)
        form.addRow(self.key_label, self.login_key)
        form.addRow(self.otp_label, self.otp)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.remember)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        # Only once the buttons are inside the dialog: earlier, setDefault() finds no dialog
        # and Qt makes the first button of the focus chain (a profile button) the default.
        self.submit.setDefault(True)
        self.save_profile_button.setAutoDefault(False)
        self.delete_profile_button.setAutoDefault(False)

        self.cloud.currentTextChanged.connect(self._sync)
        self.by_key.toggled.connect(self._sync)
        self.buttons.rejected.connect(self.reject)
        self.submit.clicked.connect(self._on_submit)
        self.save_profile_button.clicked.connect(
            lambda: self._tasks.spawn(self._ask_profile_name()))
        self.delete_profile_button.clicked.connect(self.delete_profile)
        self.set_endpoint(endpoint or settings.CLOUDS["AWS (default)"])
        self.show_otp(False)
        self._fill_profiles(profile)
        self.profile.currentIndexChanged.connect(self._on_profile_chosen)
        if self.profile.currentIndex() > 0:
            self._on_profile_chosen()
        self._sync()

    # -- profiles ----------------------------------------------------------------------------
    def _fill_profiles(self, select: str = "") -> None:
        self.profile.blockSignals(True)
        self.profile.clear()
        self.profile.addItem(self.tr(NO_PROFILE), "")
        for saved in self.profiles.all() if self.profiles else []:
            self.profile.addItem(saved.name, saved.name)
        found = self.profile.findData(select) if select else -1
        self.profile.setCurrentIndex(max(found, 0))
        self.profile.blockSignals(False)
        has_store = self.profiles is not None
        self.profile.setEnabled(has_store)
        self.save_profile_button.setEnabled(has_store)
        self.delete_profile_button.setEnabled(has_store and self.profile.currentIndex() > 0)

    def profile_name(self) -> str:
        return str(self.profile.currentData() or "")

    def choose_profile(self, name: str) -> bool:
        """Select a saved profile (fills the fields); False when there is none of that name."""
        index = self.profile.findData(name)
        if index < 0:
            return False
        self.profile.setCurrentIndex(index)
        return True

    def _on_profile_chosen(self, *_: object) -> None:
        name = self.profile_name()
        self.delete_profile_button.setEnabled(bool(name))
        saved = self.profiles.get(name) if self.profiles and name else None
        if saved is None:
            return
        self.set_endpoint(saved.endpoint)
        (self.by_key if saved.method == KEY else self.by_password).setChecked(True)
        self.identifier.setText(saved.identifier)
        self.password.clear()
        self.login_key.clear()
        self._sync()
        self.remember.setChecked(saved.remember and self.remember.isEnabled())
        show_error(self.error, None)
        (self.login_key if saved.method == KEY else self.password).setFocus()

    def current_profile(self, name: str) -> Profile:
        """The fields as a profile (what "Save as profile…" stores: no password, no key)."""
        key = self.by_key.isChecked()
        return Profile(name.strip(), self.endpoint(),
                       "" if key else self.identifier.text().strip(),
                       self.remember.isChecked() and self.remember.isEnabled(),
                       KEY if key else PASSWORD)

    def save_profile(self, name: str) -> Profile | None:
        if self.profiles is None or not name.strip():
            return None
        profile = self.current_profile(name)
        self.profiles.save(profile)
        self._fill_profiles(profile.name)
        self.delete_profile_button.setEnabled(True)
        return profile

    def delete_profile(self) -> None:
        name = self.profile_name()
        if self.profiles is None or not name:
            return
        self.profiles.delete(name)
        self._fill_profiles()

    async def _ask_profile_name(self) -> None:
        suggestion = (self.profile_name() or self.identifier.text().strip()
                      or self.cloud.currentText())
        if dialogs.HEADLESS_ANSWERS is not None:
            name = dialogs.HEADLESS_ANSWERS.get("profile_name")
            self.save_profile(name if isinstance(name, str) else "")
            return
        ask = QInputDialog(self)
        ask.setWindowTitle(self.tr("Save as profile"))
        ask.setLabelText(self.tr("Profile name (the password and login key are never saved):"))
        ask.setTextValue(suggestion)
        if await dialogs.ask(ask):
            self.save_profile(ask.textValue())

    def set_endpoint(self, endpoint: str) -> None:
        for name, url in settings.CLOUDS.items():
            if url == endpoint:
                self.cloud.setCurrentText(name)
                return
        self.cloud.setCurrentText(CUSTOM)
        self.custom_url.setText(endpoint)

    def endpoint(self) -> str:
        name = self.cloud.currentText()
        return settings.CLOUDS.get(name) or self.custom_url.text().strip()

    def show_otp(self, visible: bool) -> None:
        self.otp_label.setVisible(visible)
        self.otp.setVisible(visible)
        if visible:
            self.otp.setFocus()

    def _sync(self) -> None:
        self.custom_url.setVisible(self.cloud.currentText() == CUSTOM)
        key = self.by_key.isChecked()
        for widget in (self.identifier, self.identifier_label, self.password,
                       self.password_label):
            widget.setVisible(not key)
        self.login_key.setVisible(key)
        self.key_label.setVisible(key)
        if not self._keyring_ok:
            self.remember.setEnabled(False)
            self.remember.setToolTip(self.tr("No system keyring is available on this machine."))
        elif key:
            self.remember.setChecked(False)
            self.remember.setEnabled(False)
            self.remember.setToolTip(self.tr(
                "Not available with a login key: impCentral gives no refresh token for login-key "
                "sign-ins, and impdesk never stores the key itself. Sign in with the key again "
                "next time."))
        else:
            self.remember.setEnabled(True)
            self.remember.setToolTip(self.tr(
                "Stores only the refresh token in the system keyring, never the password."))

    def validate(self) -> str | None:
        """A clear message for input that cannot work, before anything is sent."""
        try:
            check_base_url(self.endpoint())
        except InsecureEndpointError as exc:
            return str(exc)
        if self.by_key.isChecked():
            return None if self.login_key.text().strip() else self.tr("Enter the login key.")
        if not self.identifier.text().strip():
            return self.tr("Enter your email address or username.")
        if not self.password.text():
            return self.tr("Enter your password.")
        if self.otp.isVisible() and len(self.otp.text().strip()) != 6:
            return self.tr("The one-time password has six digits.")
        return None

    def request(self) -> SignInRequest:
        return SignInRequest(
            endpoint=self.endpoint(), identifier=self.identifier.text().strip(),
            password=self.password.text(),
            login_key=self.login_key.text().strip() if self.by_key.isChecked() else "",
            remember=self.remember.isChecked() and self.remember.isEnabled(),
            otp=self.otp.text().strip() if self.otp.isVisible() else "",
            profile=self.profile_name())

    def _on_submit(self) -> None:
        problem = self.validate()
        show_error(self.error, problem)
        if problem:
            return
        self._tasks.spawn(self._run(self.request()))

    async def _run(self, request: SignInRequest) -> None:
        self.submit.setEnabled(False)
        self.setCursor(Qt.CursorShape.ArrowCursor)
        try:
            await self._attempt(request, self)
        except Exception as exc:  # shown to the user verbatim as plain text
            show_error(self.error, getattr(exc, "user_message", None) or str(exc))
        else:
            self.password.clear()  # never keep the password around
            self.login_key.clear()
            self.accept()
        finally:
            self.submit.setEnabled(True)
