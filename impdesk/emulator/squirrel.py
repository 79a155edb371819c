"""Lexical compile check of Squirrel deployment code, as the emulator does it (contract §3.5.2)."""

from __future__ import annotations

import re
from typing import Final

#: Texts of the findings, exactly as the contract's table spells them.
MISSING_COMMENT_END: Final = 'missing "*/" in comment'
NEWLINE_IN_CONSTANT: Final = "newline in a constant"
UNFINISHED_STRING: Final = "unfinished string"

#: Bytes of program storage a device offers, used by `storage_percent` (a plausible imp figure).
STORAGE_CAPACITY_BYTES: Final = 256 * 1024

_CLOSER_OF: Final = {"(": ")", "[": "]", "{": "}"}

# The constructs the check skips, each matched whole and only when well-formed. Possessive
# quantifiers keep every pattern linear: a failed match never backtracks.
_SKIPPED: Final = "|".join(
    (
        r"//[^\r\n]*+",  # line comment
        r"#[^\r\n]*+",  # line comment
        r"/\*[^*]*+\*++(?:[^/*][^*]*+\*++)*+/",  # block comment
        r'"[^"\\\r\n]*+(?:\\[^\r\n][^"\\\r\n]*+)*+"',  # string: escapes, no line end
        r'@"[^"]*+(?:""[^"]*+)*+"',  # verbatim string: "" is a quote
        r"'[^'\\\r\n]*+(?:\\[^\r\n][^'\\\r\n]*+)*+'",  # character literal (any length)
    )
)

# Locating scan, one match per token: brackets and the openers of *unterminated* constructs come
# back as named groups; well-formed comments and literals are consumed whole, unnamed.
_TOKEN: Final = re.compile(
    rf"""(?P<open>[(\[{{])|(?P<close>[)\]}}])|{_SKIPPED}"""
    rf"""|(?P<comment>/\*)|(?P<verbatim>@")|(?P<string>["'])"""
)

# Fast scan: deletes everything but brackets in one C-level `sub`. What survives is the bracket
# skeleton of the code plus the first character of any unterminated construct (`/`, `@`, `"`,
# `'`), so a clean skeleton proves the code clean without a Python step per token.
_NOT_SKELETON: Final = re.compile(rf"""[^()\[\]{{}}/#@"']++|{_SKIPPED}|/(?![/*])|@(?!")""")


def position(code: str, index: int) -> tuple[int, int]:
    """Return the 1-based (row, column) of the character index `index` of `code`.

    Rows end at `\\n`, `\\r\\n` (one line end) or a lone `\\r`; columns count code points. An
    `index` equal to `len(code)` is the position just past the last character: if the code ends
    with a line end, that is column 1 of the next row.
    """
    prefix = code[:index]
    line_ends = prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n")
    line_start = max(prefix.rfind("\n"), prefix.rfind("\r")) + 1
    return line_ends + 1, index - line_start + 1


def _finding(code: str, index: int, text: str) -> dict:
    row, column = position(code, index)
    return {"row": row, "column": column, "text": text}


def check_source(code: str) -> dict | None:
    """Scan one file of Squirrel code lexically and return its first error, or None.

    Skipped: `// ...` and `# ...` comments to the end of the line, `/* ... */` comments, string
    literals `"..."` (a backslash escapes the next character, but neither the string nor an
    escape may cross a line end), verbatim strings `@"..."` (may cross lines; `""` is a quote)
    and character literals `'...'`. Character literals are lexed like one-line strings with `'`
    as the delimiter and are lenient about their contents (`'x'`, `'\\n'`, `'"'`, `'\\''`, and
    also `''` or `'ab'`, which real Squirrel would reject); a `'` that is not closed on its own
    line is `newline in a constant` at the `'`, as in Squirrel's lexer. An `@` not followed by
    `"` is ordinary code.

    Brackets `()`, `[]`, `{}` must nest and balance. A closer with nothing open is
    `unexpected '<c>'`, a closer that does not match the innermost open bracket is
    `expected '<its closer>'`, both at the closer; brackets still open at the end of the code
    give `expected '<closer of the innermost>'` just past the last character (see `position`).

    Args:
        code: the source text.

    Returns:
        `{"row": int, "column": int, "text": str}` with a 1-based row and column, or None.
    """
    if _skeleton_is_clean(_NOT_SKELETON.sub("", code)):
        return None
    return _first_error(code)


def _skeleton_is_clean(skeleton: str) -> bool:
    """Tell whether a bracket skeleton nests and balances and holds no unterminated construct."""
    expected: list[str] = []
    push = expected.append
    pop = expected.pop
    closer_of = _CLOSER_OF
    for char in skeleton:
        want = closer_of.get(char)
        if want is not None:
            push(want)
        elif not expected or pop() != char:  # also any of / @ " ' (never an expected closer)
            return False
    return not expected


def _first_error(code: str) -> dict | None:
    """Scan `code` token by token and return its first finding with its position."""
    expected: list[str] = []  # the closer each open bracket needs, innermost last
    for match in _TOKEN.finditer(code):
        kind = match.lastgroup
        if kind is None:  # a complete comment or literal: skipped
            continue
        if kind == "open":
            expected.append(_CLOSER_OF[match.group()])
        elif kind == "close":
            char = match.group()
            if not expected:
                return _finding(code, match.start(), f"unexpected '{char}'")
            want = expected.pop()
            if want != char:
                return _finding(code, match.start(), f"expected '{want}'")
        elif kind == "comment":
            return _finding(code, match.start(), MISSING_COMMENT_END)
        elif kind == "verbatim":
            return _finding(code, match.start(), UNFINISHED_STRING)
        else:  # "string": a " or ' literal that reaches a line end or the end of the code
            return _finding(code, match.start(), NEWLINE_IN_CONSTANT)
    if expected:
        return _finding(code, len(code), f"expected '{expected[-1]}'")
    return None


def compile_errors(agent_code: str, device_code: str) -> list[dict]:
    """Return the CX005 `meta` items: the first error of each failing file, agent code first.

    Each item is `{"file": "agent_code"|"device_code", "type": "error", "row", "column",
    "text"}`; an empty list means both files compile.
    """
    errors: list[dict] = []
    for file, code in (("agent_code", agent_code), ("device_code", device_code)):
        finding = check_source(code)
        if finding is not None:
            errors.append({"file": file, "type": "error", **finding})
    return errors


def storage_percent(device_code: str) -> str:
    """Return a plausible, deterministic "NN.NN" program-storage figure for `device_code`.

    A 4.00 % baseline (firmware tables) plus the UTF-8 size of the code as a share of
    `STORAGE_CAPACITY_BYTES`, rounded down to hundredths and capped at 99.99, so the result
    always matches `\\d+\\.\\d{2}` and stays below 100.00.
    """
    size = len(device_code.encode("utf-8", "surrogatepass"))
    hundredths = min(400 + size * 10_000 // STORAGE_CAPACITY_BYTES, 9_999)
    return f"{hundredths // 100}.{hundredths % 100:02d}"
