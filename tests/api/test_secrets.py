"""No secret in any log record (root logger at DEBUG, urllib3 included) or exception text."""

from __future__ import annotations

import logging
import time

import pytest

import impdesk.api.logstreams as logstreams
from impdesk.api import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    InvalidOtp,
    LogStreamReader,
    NotFound,
    OtpRequired,
    PermissionDenied,
)
from impdesk.api import redact as redact_module
from impdesk.api.redact import RedactingFilter, redact
from tests.api.conftest import password, requests_log


class RecordingStore:
    """A token store that remembers every refresh token it was given."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.seen: list[str] = []

    def load(self) -> str | None:
        return self.token

    def save(self, refresh_token: str) -> None:
        self.token = refresh_token
        self.seen.append(refresh_token)

    def clear(self) -> None:
        self.token = None


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured():
    """All logging at DEBUG through the redacting filter (impdesk.api.redact.install)."""
    root = logging.getLogger()
    handler = ListHandler()
    old_level = root.level
    urllib3 = logging.getLogger("urllib3")
    old_urllib3 = urllib3.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    flt = redact_module.install()
    assert urllib3.level == logging.WARNING  # install() quietens urllib3 ...
    urllib3.setLevel(logging.DEBUG)  # ... but the filter alone must suffice
    yield handler
    for h in root.handlers:
        h.removeFilter(flt)
    root.removeHandler(handler)
    root.setLevel(old_level)
    urllib3.setLevel(old_urllib3)


def test_no_secret_in_logs_or_exceptions(captured, make_client, emu, monkeypatch):
    monkeypatch.setattr(logstreams, "BACKOFF_MIN_S", 0.05)
    secrets: set[str] = set()
    raised: list[BaseException] = []

    def expect(exc_type, call, *args, **kw):
        with pytest.raises(exc_type) as info:
            call(*args, **kw)
        raised.append(info.value)
        return info.value

    # a login, and a wrong one
    store = RecordingStore()
    c = make_client(login=None, token_store=store)
    pw = password(emu)
    secrets.add(pw)
    expect(AuthenticationError, c.login, "demo", pw + "x")
    c.login("demo", pw)

    # a 2FA login with a wrong code first
    pw2 = password(emu, "demo-2fa")
    secrets.add(pw2)
    c2 = make_client(login=None, token_store=RecordingStore())
    otp_needed = expect(OtpRequired, c2.login, "demo-2fa", pw2)
    secrets.add(otp_needed.login_token)
    good = emu.otp()
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    secrets.add(wrong)
    expect(InvalidOtp, c2.complete_login, otp_needed.login_token, wrong)
    good = emu.otp()
    secrets.add(good)
    c2.complete_login(otp_needed.login_token, good)
    secrets.update(c2.token_store.seen)

    # a listing over several pages
    emu.control("POST", "/seed", {"seed": "fleet", "devices": 250})
    assert len(c.list_devices()) == 256

    # a refresh after expiry, then failing calls of several kinds
    emu.control("POST", "/tokens/expire", {"kind": "access", "account": "demo"})
    c.me()
    expect(NotFound, c.get_device, "00000000000000aa")
    expect(PermissionDenied, c.create_login_key, "wrong password")
    emu.control("POST", "/faults/fail_next", {"count": 1, "status": "drop", "method": "POST",
                                              "after_processing": True})
    group = c.list_device_groups()[0]
    expect(ApiConnectionError, c.create_deployment, group.type, group.id, device_code="",
           agent_code="")

    # a login key (its id is the secret) and a log stream (its id is a capability)
    key = c.create_login_key(pw, "ci")
    secrets.add(key.id)
    k = make_client(login=None)
    k.login_with_key(key.id)
    k.me()
    entries = []
    reader = LogStreamReader(c, on_entry=entries.append)
    dev = c.list_devices()[0].id
    reader.watch(dev)
    reader.start()
    deadline = time.monotonic() + 5
    while not any(r["method"] == "PUT" for r in requests_log(emu)):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    emu.control("POST", "/logstreams/drop", {"mode": "abort"})
    time.sleep(0.3)
    reader.stop()
    c.delete_login_key(key.id, pw)
    expect(AuthenticationError, make_client(login=None).login_with_key, key.id)

    # sign out (revokes the refresh token by value, in the URL path), then a dead refresh token
    secrets.update(store.seen)
    c.sign_out()
    c3 = make_client(login=None, token_store=RecordingStore())
    c3.login("demo", pw)
    secrets.update(c3.token_store.seen)
    emu.control("POST", "/tokens/expire", {"kind": "all", "account": "demo"})
    expect(AuthenticationError, c3.me)

    # every access token that went over the wire
    for r in requests_log(emu):
        auth = r["headers"].get("Authorization")
        if auth:
            secrets.add(auth.split(" ", 1)[1])
    streams = {r["path"].split("/")[3] for r in requests_log(emu)
               if r["path"].startswith("/v5/logstream/")}
    secrets.update(streams)
    secrets.discard("")
    assert len(secrets) >= 12

    texts = list(captured.lines)
    for exc in raised:
        assert isinstance(exc, ApiError)
        texts += [str(exc), repr(exc), exc.user_message, repr(exc.args)]
    texts += [repr(c), repr(c._auth), repr(c.token_store), repr(key)]
    assert any("urllib3" in line for line in captured.lines)  # urllib3 was captured
    assert any("***" in line for line in captured.lines)  # and something needed redacting
    blob = "\n".join(texts)
    leaked = sorted(s for s in secrets if s in blob)
    assert leaked == [], f"secrets in logs/exceptions: {len(leaked)}"


# -- redact() --------------------------------------------------------------------------------
TOKEN = "k3Jx0V1cQm9yX2FjY2Vzc190b2tlbl9leGFtcGxlXzQ4X2J5dGVz+/="
REFRESH = "d59a1cc008cec79454368d239b2c198618750b08b63f8c07724432bf590a9143"


@pytest.mark.parametrize("text, secret", [
    (f"Authorization: Bearer {TOKEN}", TOKEN),
    (f"{{'Authorization': 'Bearer {TOKEN}'}}", TOKEN),
    (f"send: b'GET / HTTP/1.1\\r\\nauthorization: bearer {TOKEN}\\r\\n'", TOKEN),
    (f"bearer {TOKEN} somewhere", TOKEN),
    (f'{{"access_token": "{TOKEN}", "expires_in": 3600}}', TOKEN),
    (f'{{"refresh_token":"{REFRESH}"}}', REFRESH),
    (f'{{"token": "{REFRESH}"}}', REFRESH),
    ('{"id": "demo", "password": "hunter2"}', "hunter2"),
    ('{"login_token": "q9cKb2T0cWJ4b2x5X2xvZ2luX3Rva2Vu"}', "q9cKb2T0cWJ4b2x5X2xvZ2luX3Rva2Vu"),
    ("X-Electricimp-OTP-Token: 492039", "492039"),
    ("{'X-Electricimp-Password': 'hunter2'}", "hunter2"),
    ("X-Electricimp-Key: demo-unbond-key", "demo-unbond-key"),
    ('{"key": "5c7e4f0a-2b1d-9e3c-8a6f-0d4b7c2e1f93"}', "5c7e4f0a-2b1d-9e3c-8a6f-0d4b7c2e1f93"),
    ("otp=123456&x=1", "123456"),
    (f'http://127.0.0.1:1 "DELETE /v5/accounts/me/refresh_tokens/{REFRESH} HTTP/1.1" 204 0',
     REFRESH),
    ('"GET /v5/accounts/me/login_keys/5c7e4f0a-2b1d-9e3c-8a6f-0d4b7c2e1f93 HTTP/1.1"',
     "5c7e4f0a-2b1d-9e3c-8a6f-0d4b7c2e1f93"),
    ('"GET /v5/logstream/3f6d1b2a-8c4e-5a79-b0d2-e1f3a5c7e9b1?format=json HTTP/1.1" 200',
     "3f6d1b2a-8c4e-5a79-b0d2-e1f3a5c7e9b1"),
    ("https://api.example.com/v5/x?token=abc123secret", "abc123secret"),
    ("https://user:pa55word@api.example.com/v5", "pa55word"),
])
def test_redact(text, secret):
    out = redact(text)
    assert secret not in out and "***" in out


def test_redact_leaves_ordinary_text():
    text = "GET /v5/devices 200 in 3 ms; 12 devices; product Alpha"
    assert redact(text) == text


def test_filter_merges_args_and_redacts_tracebacks():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", (f"Bearer {TOKEN}",),
                               None)
    assert RedactingFilter().filter(record) is True
    assert TOKEN not in record.getMessage() and record.args is None
    try:
        raise ValueError(f"password={REFRESH}")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    RedactingFilter().filter(record)
    assert REFRESH not in record.exc_text
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "%d %s", ("nope",), None)
    assert RedactingFilter().filter(broken) is True  # a bad format string is not fatal
