"""Tests of the emulator's RFC 6238 TOTP helpers (contract §2.3)."""

from __future__ import annotations

import base64
import random
import re
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from impdesk.emulator import totp as totp_module
from impdesk.emulator.totp import (
    decode_secret,
    new_secret,
    provisioning_uri,
    seconds_remaining,
    totp,
    verify,
)

#: RFC 6238 appendix B: the SHA-1 seed is the ASCII text "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()

#: RFC 6238 appendix B, SHA-1 column, truncated to 6 digits.
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
    (20000000000, "353130"),
]


def test_rfc_secret_is_the_expected_base32() -> None:
    assert RFC_SECRET == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.mark.parametrize(("for_time", "code"), RFC_VECTORS)
def test_rfc_6238_sha1_vectors(for_time: int, code: str) -> None:
    assert totp(RFC_SECRET, for_time) == code
    assert totp(RFC_SECRET, float(for_time)) == code
    assert verify(RFC_SECRET, code, for_time)


def test_code_is_constant_within_a_step_and_changes_at_its_edge() -> None:
    assert totp(RFC_SECRET, 30) == totp(RFC_SECRET, 59.999) == "287082"
    assert totp(RFC_SECRET, 29.999) != "287082"
    assert totp(RFC_SECRET, 60) != "287082"


def test_default_time_is_the_real_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(totp_module.time, "time", lambda: 1111111109.5)
    assert totp(RFC_SECRET) == "081804"
    assert verify(RFC_SECRET, "081804")
    assert seconds_remaining() == 1


def test_default_time_tracks_time_time() -> None:
    before = time.time()
    code = totp(RFC_SECRET)
    after = time.time()
    assert code in {totp(RFC_SECRET, before), totp(RFC_SECRET, after)}
    assert re.fullmatch(r"[0-9]{6}", code)


def test_verify_accepts_previous_current_and_next_step() -> None:
    now = 1111111111  # step 37037037
    for offset in (-1, 0, 1):
        assert verify(RFC_SECRET, totp(RFC_SECRET, now + 30 * offset), now)
    for offset in (-3, -2, 2, 3):
        assert not verify(RFC_SECRET, totp(RFC_SECRET, now + 30 * offset), now)


def test_verify_window() -> None:
    now = 1234567890
    two_back = totp(RFC_SECRET, now - 60)
    assert not verify(RFC_SECRET, two_back, now)
    assert verify(RFC_SECRET, two_back, now, window=2)
    assert verify(RFC_SECRET, totp(RFC_SECRET, now), now, window=0)
    assert not verify(RFC_SECRET, totp(RFC_SECRET, now + 30), now, window=0)
    with pytest.raises(ValueError):
        verify(RFC_SECRET, "005924", now, window=-1)


@pytest.mark.parametrize("code", [" 287082", "287082 ", "\t287082\r\n", "\u00a0287082\u2003"])
def test_verify_trims_whitespace(code: str) -> None:
    assert verify(RFC_SECRET, code, 59)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "28708",
        "0287082",
        "2870820",
        "287 082",
        "28708a",
        "+87082",
        "-87082",
        "２８７０８２",  # full-width digits
        "٢٨٧٠٨٢",  # Arabic-Indic digits
        "287082\x00",
        "287081",
    ],
)
def test_verify_rejects_anything_but_the_six_ascii_digits(code: str) -> None:
    assert not verify(RFC_SECRET, code, 59)


def test_verify_rejects_a_non_string_code() -> None:
    assert not verify(RFC_SECRET, 287082, 59)  # type: ignore[arg-type]  # a JSON number
    assert not verify(RFC_SECRET, None, 59)  # type: ignore[arg-type]


def test_leading_zeros_count() -> None:
    assert verify(RFC_SECRET, "005924", 1234567890)
    assert not verify(RFC_SECRET, "5924", 1234567890)


@pytest.mark.parametrize(
    ("for_time", "remaining"),
    [(0, 30), (1, 29), (29, 1), (29.5, 1), (30, 30), (59, 1), (59.999, 1), (60, 30),
     (1111111111, 29), (1234567890, 30)],
)  # fmt: skip
def test_seconds_remaining(for_time: float, remaining: int) -> None:
    assert seconds_remaining(for_time) == remaining


def test_seconds_remaining_default_is_within_a_step() -> None:
    assert 1 <= seconds_remaining() <= 30
    assert isinstance(seconds_remaining(), int)


def test_code_stays_valid_while_seconds_remain() -> None:
    start = 1111111110.0  # first second of a step
    code = totp(RFC_SECRET, start)
    last = start + seconds_remaining(start) - 0.001
    assert totp(RFC_SECRET, last) == code
    assert totp(RFC_SECRET, start + seconds_remaining(start)) != code


def test_new_secret_shape() -> None:
    secret = new_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(decode_secret(secret)) == 20  # 160 bits
    assert new_secret() != secret
    assert re.fullmatch(r"[0-9]{6}", totp(secret, 59))


def test_new_secret_with_rng_is_reproducible() -> None:
    assert new_secret(random.Random(7)) == new_secret(random.Random(7))
    assert new_secret(random.Random(7)) != new_secret(random.Random(8))
    assert re.fullmatch(r"[A-Z2-7]{32}", new_secret(random.SystemRandom()))


def test_provisioning_uri_matches_the_contract() -> None:
    assert provisioning_uri("demo-2fa", "JBSWY3DPEHPK3PXP") == (
        "otpauth://totp/impCentral%20Emulator:demo-2fa?secret=JBSWY3DPEHPK3PXP"
        "&issuer=impCentral%20Emulator&algorithm=SHA1&digits=6&period=30"
    )


def test_provisioning_uri_percent_encodes_the_username() -> None:
    uri = provisioning_uri("Ann Lee@example.com/ü:x?&=#", RFC_SECRET)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert parts.path == "/impCentral%20Emulator:Ann%20Lee%40example.com%2F%C3%BC%3Ax%3F%26%3D%23"
    assert unquote(parts.path) == "/impCentral Emulator:Ann Lee@example.com/ü:x?&=#"
    assert not parts.fragment
    assert parse_qs(parts.query) == {
        "secret": [RFC_SECRET],
        "issuer": ["impCentral Emulator"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }


def test_provisioning_uri_normalises_the_secret() -> None:
    uri = provisioning_uri("u", "jbsw y3dp ehpk 3pxp===")
    assert "?secret=JBSWY3DPEHPK3PXP&" in uri


def test_decode_secret_handles_missing_padding_case_and_spaces() -> None:
    assert decode_secret(RFC_SECRET) == b"12345678901234567890"
    assert decode_secret("JBSWY3DPEHPK3PXP") == b"Hello!\xde\xad\xbe\xef"
    assert decode_secret("jbsw y3dp ehpk 3pxp") == b"Hello!\xde\xad\xbe\xef"
    assert decode_secret("JBSWY3DPEHPK3PXP====") == b"Hello!\xde\xad\xbe\xef"


#: Lengths from 16 to 32 characters that RFC 4648 base32 text without padding can have.
BASE32_LENGTHS = [n for n in range(16, 33) if n % 8 in (0, 2, 4, 5, 7)]


@given(
    st.sampled_from(BASE32_LENGTHS).flatmap(
        lambda n: st.binary(min_size=n * 5 // 8, max_size=n * 5 // 8)
    )
)
def test_unpadded_secrets_of_16_to_32_characters_decode(raw: bytes) -> None:
    secret = base64.b32encode(raw).decode().rstrip("=")
    assert 16 <= len(secret) <= 32
    assert decode_secret(secret) == raw
    assert re.fullmatch(r"[0-9]{6}", totp(secret, 1234567890))
    assert verify(secret, totp(secret, 1234567890), 1234567890)


def test_every_length_from_16_to_32_that_base32_allows() -> None:
    assert BASE32_LENGTHS == [16, 18, 20, 21, 23, 24, 26, 28, 29, 31, 32]
    for length in BASE32_LENGTHS:
        assert decode_secret("A" * length) == bytes(length * 5 // 8)


@pytest.mark.parametrize("bad", ["JBSWY3DPEHPK3PX1", "JBSWY3DPEHPK3PX!", "A" * 17, "A" * 19])
def test_invalid_secrets_raise_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        decode_secret(bad)
    with pytest.raises(ValueError):
        totp(bad, 59)
