"""RFC 6238 time-based one-time passwords for the emulator's two-factor accounts (contract §2.3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import time
from random import Random
from typing import Final
from urllib.parse import quote

DIGITS: Final = 6
STEP_S: Final = 30
ISSUER: Final = "impCentral Emulator"
SECRET_BYTES: Final = 20  # 160 bits: 32 base32 characters without padding

_OTP_PATTERN: Final = re.compile(r"[0-9]{6}")  # not \d, which also matches non-ASCII digits
_WHITESPACE: Final = re.compile(r"\s+")


def decode_secret(secret_b32: str) -> bytes:
    """Decode an RFC 4648 base32 secret that may lack its `=` padding.

    Whitespace is removed and lower case accepted, as authenticator apps display and accept
    secrets that way.

    Raises:
        ValueError: the text is not base32 (a bad character, or a length no base32 text has).
    """
    text = _WHITESPACE.sub("", secret_b32).rstrip("=").upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except ValueError as exc:  # binascii.Error is a ValueError; re-raise with a clear message
        raise ValueError(f"not a base32 secret: {exc}") from exc


def _now(for_time: float | None) -> float:
    # The real wall clock, never the emulator's adjustable clock (contract §2.3).
    return time.time() if for_time is None else for_time


def _counter(for_time: float | None) -> int:
    return math.floor(_now(for_time) / STEP_S)  # T0 = 0


def _hotp(key: bytes, counter: int) -> str:
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFF_FFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


def totp(secret_b32: str, for_time: float | None = None) -> str:
    """Return the 6-digit TOTP code (HMAC-SHA-1, 30 s step, T0 = 0) for a base32 secret.

    Args:
        secret_b32: the shared secret in base32, padding optional.
        for_time: Unix time in seconds; the real wall clock when None.

    Raises:
        ValueError: the secret is not base32.
    """
    return _hotp(decode_secret(secret_b32), _counter(for_time))


def verify(secret_b32: str, code: str, for_time: float | None = None, window: int = 1) -> bool:
    """Tell whether `code` is the TOTP of `secret_b32` for a step within `window` of `for_time`.

    With the default window, the previous, current and next 30-second steps are accepted.
    Surrounding whitespace is trimmed; anything but exactly six ASCII digits is rejected. No
    replay list is kept, so a code stays valid for its whole window.

    Raises:
        ValueError: the secret is not base32, or `window` is negative.
    """
    if window < 0:
        raise ValueError("window must be >= 0")
    key = decode_secret(secret_b32)
    if not isinstance(code, str):
        return False
    code = code.strip()
    if not _OTP_PATTERN.fullmatch(code):
        return False
    counter = _counter(for_time)
    # Check every step (no early exit) and compare in constant time.
    matched = False
    for step in range(counter - window, counter + window + 1):
        matched |= hmac.compare_digest(_hotp(key, step), code)
    return matched


def seconds_remaining(for_time: float | None = None) -> int:
    """Return the whole seconds, 1 to 30, until the current code's step ends (rounded up)."""
    return STEP_S - math.floor(_now(for_time)) % STEP_S


def new_secret(rng: Random | None = None) -> str:
    """Return a new 160-bit secret: 32 upper-case base32 characters, no padding.

    Args:
        rng: a `random.Random` for reproducible secrets (tests, seeds); the `secrets` module's
            CSPRNG when None.
    """
    raw = secrets.token_bytes(SECRET_BYTES) if rng is None else rng.randbytes(SECRET_BYTES)
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def provisioning_uri(username: str, secret: str) -> str:
    """Return the `otpauth://` URI an authenticator app scans, as contract §2.3 spells it.

    The username is percent-encoded (`@`, `:`, `/`, spaces and non-ASCII included); the secret
    is written without whitespace or padding, in upper case.
    """
    label = f"{quote(ISSUER, safe='')}:{quote(username, safe='')}"
    secret_text = _WHITESPACE.sub("", secret).rstrip("=").upper()
    return (
        f"otpauth://totp/{label}?secret={secret_text}&issuer={quote(ISSUER, safe='')}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP_S}"
    )
