"""Sign-in, session restore, profiles and sign-out of the main window."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt

from ..api.client import Client
from ..api.errors import ApiError, OtpRequired
from ..core import gcpause
from ..core.services import AccountService
from ..core.tree import ROOT_KEY, UNASSIGNED_KEY, TreeShape
from ..credentials import KeyringTokenStore
from . import dialogs
from .profiles import KEY, PASSWORD, Profile, ProfileStore
from .signin import SignInDialog, SignInRequest
from .tasks import run_blocking
from .window_constants import MESSAGE_MS

log = logging.getLogger(__name__)


class SessionMixin:
    """MainWindow's account session: start(), sign_in(), sign_out()."""

    # -- sign-in -----------------------------------------------------------------------------
    async def start(self) -> None:
        """First thing after show(): demo signs in by itself; otherwise restore or ask."""
        try:
            if self.info.demo:
                demo = self.info.accounts[0] if self.info.accounts else None
                if demo is not None:
                    await self._sign_in(SignInRequest(self.info.endpoint, demo.username,
                                                      demo.password))
                    return
            profile = ProfileStore(self.settings).restorable()  # last sign-in, if remembered
            if profile is not None:
                store = KeyringTokenStore(profile.identifier, profile.endpoint)
                client = Client(profile.endpoint, token_store=store)
                try:
                    await run_blocking(client.login_with_refresh_token)
                except ApiError:
                    log.info("the saved session could not be restored")
                else:
                    await self._signed_in(client, profile.identifier)
                    return
            self._mark_ready_if_idle()  # waiting for the user now: the window is complete
            await self.sign_in()
        finally:
            self._mark_ready_if_idle()

    async def sign_in(self, profile: str | None = None) -> None:
        """Open the sign-in dialog; the last used profile (or `profile`) is preselected."""
        store = ProfileStore(self.settings)
        last = store.last() if not self.info.demo else None
        endpoint = last.endpoint if last else self.info.endpoint
        identifier = last.identifier if last else ""
        chosen = profile if profile is not None else (last.name if last else "")
        dialog = SignInDialog(self._attempt_sign_in, self, endpoint, identifier,
                              profiles=store, profile=chosen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        await dialogs.ask(dialog)

    async def switch_profile(self) -> None:
        """Sign out (forgetting a remembered session), then sign in with another profile."""
        if self.service is not None:
            await self.sign_out()
        await self.sign_in(profile="")

    async def _attempt_sign_in(self, request: SignInRequest, dialog: SignInDialog) -> None:
        await self._sign_in(request, dialog)

    async def _sign_in(self, request: SignInRequest, dialog: SignInDialog | None = None) -> None:
        """Sign in; raises (for the dialog to show) on failure. 2FA asks for the code."""
        who = request.identifier or "login key"
        store = KeyringTokenStore(who, request.endpoint, persist=request.remember)
        client = Client(request.endpoint, token_store=store)
        if request.login_key:
            await run_blocking(client.login_with_key, request.login_key)
        else:
            try:
                await run_blocking(client.login, request.identifier, request.password)
            except OtpRequired as exc:
                if dialog is None:
                    raise
                otp = request.otp
                if not otp:
                    dialog.show_otp(True)
                    raise ApiError(0, message=self.tr(
                        "This account uses two-factor authentication: enter the six-digit "
                        "one-time password and sign in again.")) from None
                await run_blocking(client.complete_login, exc.login_token, otp)
        if request.remember and store.error:
            self.statusBar().showMessage(store.error, MESSAGE_MS)
        if not self.info.demo:  # the demo's throwaway endpoint must not replace the user's
            ProfileStore(self.settings).record_use(Profile(
                request.profile, request.endpoint, request.identifier,
                bool(request.remember and store.persist),
                KEY if request.login_key else PASSWORD))
        await self._signed_in(client, who)

    async def _signed_in(self, client: Client, who: str) -> None:
        self.service = AccountService(client)
        self.service_changed.emit(self.service)
        self.setWindowTitle(self._title(who))
        self.connection.setText(self.tr("Signed in as %s · %s") % (who, client.base_url))
        self._update_actions()
        await self.refresh(initial=True)
        self._status_timer.start()

    async def sign_out(self) -> None:
        service, self.service = self.service, None
        self.service_changed.emit(None)
        self._status_timer.stop()
        if service is not None:
            try:
                await run_blocking(service.client.sign_out)
            except ApiError as exc:
                log.info("sign-out: %s", exc.code or exc.status)
        self.model.reset_to(_empty_shape())
        gcpause.release()  # the dropped tree was frozen after its load: let the collector in
        self.details.show_node(None)
        self.setWindowTitle(self._title(None))
        self.connection.setText(self.tr("Not signed in"))
        self.last_move = None
        self._update_actions()
        self.statusBar().showMessage(self.tr("Signed out"), MESSAGE_MS)


def _empty_shape() -> TreeShape:
    """A tree with nothing but the Unassigned node (after sign-out)."""
    shape = TreeShape()
    shape.parents[UNASSIGNED_KEY] = ROOT_KEY
    shape.payloads[UNASSIGNED_KEY] = None
    return shape
