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
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from .. import settings
from ..api.auth import InsecureEndpointError, check_base_url
from .dialogs import error_label, show_error
from .tasks import TaskSet

CUSTOM = "Custom URL…"


@dataclass
class SignInRequest:
    """What the user asked for; the password lives only as long as the attempt."""

    endpoint: str
    identifier: str = ""
    password: str = ""
    login_key: str = ""
    remember: bool = False
    otp: str = ""


class SignInDialog(QDialog):
    """Collects credentials and runs `attempt(request)`; stays open and shows errors inline.

    `attempt` raises to report a failure (its message is shown as plain text) or returns
    normally on success, which accepts the dialog. It may call `ask_otp()` for 2FA accounts.
    """

    def __init__(self, attempt: Callable[[SignInRequest, SignInDialog], Awaitable[None]],
                 parent: QWidget | None = None, endpoint: str | None = None,
                 identifier: str = "", keyring_ok: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("SignInDialog")
        self.setWindowTitle(self.tr("Sign in to impCentral"))
        self._attempt = attempt
        self._tasks = TaskSet()
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
        if not keyring_ok:
            self.remember.setEnabled(False)
            self.remember.setToolTip(self.tr("No system keyring is available on this machine."))
        self.otp = QLineEdit()
        self.otp.setPlaceholderText("123456")
        self.otp.setValidator(QRegularExpressionValidator(r"\s*\d{0,6}\s*"))
        self.otp_label = QLabel(self.tr("&One-time password:"))
        self.otp_label.setBuddy(self.otp)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.addButton(self.tr("Sign in"),
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setDefault(True)

        form = QFormLayout()
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

        self.cloud.currentTextChanged.connect(self._sync)
        self.by_key.toggled.connect(self._sync)
        self.buttons.rejected.connect(self.reject)
        self.submit.clicked.connect(self._on_submit)
        self.set_endpoint(endpoint or settings.CLOUDS["AWS (default)"])
        self.show_otp(False)
        self._sync()

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
            otp=self.otp.text().strip() if self.otp.isVisible() else "")

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
