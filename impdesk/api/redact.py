"""A logging filter that scrubs secrets (tokens, passwords, keys, stream ids) from records."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # Header lines and dict reprs: Authorization, X-Electricimp-Password/-OTP-Token/-Key
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+"),
     r"\1\2***"),
    (re.compile(r"(?i)(x-electricimp-(?:password|otp-token|key)['\"]?\s*[:=]\s*['\"]?)"
                r"[^\s'\",}]+"), r"\1***"),
    # JSON or key=value pairs of secret names
    (re.compile(r"(?i)(['\"]?(?:access_token|refresh_token|password|otp|login_token|token|key)"
                r"['\"]?\s*[:=]\s*['\"]?)[^\s'\",}&]+"), r"\1***"),
    # Bearer tokens anywhere
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9+/=._~-]+"), r"\1***"),
    # Log-stream ids act as capability URLs; query strings may carry anything
    (re.compile(r"(/logstream/)[0-9a-fA-F-]{8,}"), r"\1***"),
    (re.compile(r"(/refresh_tokens/)[^\s/?'\"]+"), r"\1***"),
    (re.compile(r"(/login_keys/)[^\s/?'\"]+"), r"\1***"),
    (re.compile(r"(https?://[^\s?'\"]+)\?[^\s'\"]*"), r"\1?***"),
    (re.compile(r"(https?://)[^\s/@'\"]+@"), r"\1***@"),
]


def redact(text: str) -> str:
    """`text` with every known kind of secret replaced by ***."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its arguments merged) through `redact()`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the filter to every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    flt = RedactingFilter()
    for handler in target.handlers:
        handler.addFilter(flt)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    return flt
