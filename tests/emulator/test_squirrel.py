"""Tests of the emulator's lexical Squirrel compile check (contract §3.5.2)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from impdesk.emulator.squirrel import check_source, compile_errors, position, storage_percent


def err(row: int, column: int, text: str) -> dict:
    return {"row": row, "column": column, "text": text}


# -- an independent, character-by-character reference of the contract's rules ----------------


def reference_position(code: str, index: int) -> tuple[int, int]:
    row, column = 1, 1
    for k in range(index):
        char = code[k]
        if char == "\n" or (char == "\r" and code[k + 1 : k + 2] != "\n"):
            row, column = row + 1, 1
        else:
            column += 1
    return row, column


def reference_check(code: str) -> dict | None:
    def found(index: int, text: str) -> dict:
        row, column = reference_position(code, index)
        return err(row, column, text)

    closers = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    i, n = 0, len(code)
    while i < n:
        char, two = code[i], code[i : i + 2]
        if two == "//" or char == "#":
            while i < n and code[i] not in "\r\n":
                i += 1
        elif two == "/*":
            end = code.find("*/", i + 2)
            if end < 0:
                return found(i, 'missing "*/" in comment')
            i = end + 2
        elif two == '@"':
            j = i + 2
            while True:
                if j >= n:
                    return found(i, "unfinished string")
                if code[j] == '"':
                    if code[j + 1 : j + 2] == '"':
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif char in "\"'":
            j = i + 1
            while True:
                if j >= n or code[j] in "\r\n":
                    return found(i, "newline in a constant")
                if code[j] == "\\":
                    if j + 1 >= n or code[j + 1] in "\r\n":
                        return found(i, "newline in a constant")
                    j += 2
                    continue
                if code[j] == char:
                    break
                j += 1
            i = j + 1
        elif char in closers:
            stack.append(closers[char])
            i += 1
        elif char in ")]}":
            if not stack:
                return found(i, f"unexpected '{char}'")
            want = stack.pop()
            if want != char:
                return found(i, f"expected '{want}'")
            i += 1
        else:
            i += 1
    if stack:
        return found(n, f"expected '{stack[-1]}'")
    return None


# -- code that compiles -----------------------------------------------------------------------

PROGRAM = """\
// Device code: reads a sensor (every [n] seconds)
# hash comment with ) ] }
/* block comment with ( [ {
   over lines */
const INTERVAL = 5;
local names = ["temp", "hum"], table = { "a": [1, { "b": (2 + 3) }] };
function read(i) {
    local s = "value (" + i + ") is \\"ok\\" [";
    local v = @"verbatim ""quoted"" (
spanning ] lines";
    local c = '(', q = '"', e = '\\'', n = '\\n', b = '\\\\';
    local sq = @(x) x * x;    // a lambda: a lone @ is code
    local d = 10 / 2 * 3;     /* a lone / is code */
    return names[i % 2] + s + v;
}
imp.wakeup(INTERVAL, function() { server.log(read(0)); });
"""


@pytest.mark.parametrize(
    "code",
    [
        "",
        'server.log("d");',
        'server.log("a");',
        PROGRAM,
        PROGRAM.replace("\n", "\r\n"),
        PROGRAM.replace("\n", "\r"),
        "x = 1 // unclosed ( in a comment",
        "x = 1 # unclosed { in a comment",
        "/* ) */ /**/ /***/ /* * / ** */",
        '"//" + "/*" + "#" + "@\\"" + "\'"',
        '@"" + @"""" + @"a""b"',
        "'\"' + '\\'' + '\\\\' + '\\n' + '' + 'ab'",
        "x = a @ b; y = @ (z)",
        "x = a */ b",
    ],
)
def test_code_that_compiles(code: str) -> None:
    assert check_source(code) is None
    assert reference_check(code) is None


# -- each finding of the contract's table -----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # a closer with nothing open: at the closer
        (")", err(1, 1, "unexpected ')'")),
        ("a = b]", err(1, 6, "unexpected ']'")),
        ("f();\n  }", err(2, 3, "unexpected '}'")),
        ("(x))", err(1, 4, "unexpected ')'")),
        # a closer that does not match the innermost open bracket: at the closer
        ("(]", err(1, 2, "expected ')'")),
        ("foo(a[1)", err(1, 8, "expected ']'")),
        ("{\n  x = [1, 2};", err(2, 12, "expected ']'")),
        ("([)]", err(1, 3, "expected ']'")),
        # end of code with brackets open: just past the last character
        ("{", err(1, 2, "expected '}'")),
        ("function f() {\n  g(1", err(2, 6, "expected ')'")),
        ("a[{", err(1, 4, "expected '}'")),
        ("f(g[h{}])(", err(1, 11, "expected ')'")),
        # ... where a trailing line end (\n, \r\n or a lone \r) starts the next row
        ("{\n", err(2, 1, "expected '}'")),
        ("{\r\n", err(2, 1, "expected '}'")),
        ("{\r", err(2, 1, "expected '}'")),
        ("{\n\n", err(3, 1, "expected '}'")),
        ("{ // comment\n", err(2, 1, "expected '}'")),
        ("{ // comment", err(1, 13, "expected '}'")),
        # a " string reaching a line end: at the opening quote
        ('x = "abc\n";', err(1, 5, "newline in a constant")),
        ('x = 1;\ny = "abc\r\n";', err(2, 5, "newline in a constant")),
        ('y = "abc\r";', err(1, 5, "newline in a constant")),
        ('x = "abc', err(1, 5, "newline in a constant")),
        ('x = "abc\\', err(1, 5, "newline in a constant")),
        ('x = "ab\\\nc";', err(1, 5, "newline in a constant")),  # an escape cannot join lines
        ('x = "ab\\\rc";', err(1, 5, "newline in a constant")),
        ('x = "ab\\\r\nc";', err(1, 5, "newline in a constant")),
        ('x = "\\"";\ny = "\\"', err(2, 5, "newline in a constant")),
        # a ' character literal behaves the same
        ("c = 'x", err(1, 5, "newline in a constant")),
        ("c = '\n';", err(1, 5, "newline in a constant")),
        ("c = '\\'", err(1, 5, "newline in a constant")),
        ("c = '\\\r' ", err(1, 5, "newline in a constant")),
        # /* never closed: at the /*
        ("/* x", err(1, 1, 'missing "*/" in comment')),
        ("a();\n\n  b(); /* c\n d */ e /* f", err(4, 9, 'missing "*/" in comment')),
        ("/*/", err(1, 1, 'missing "*/" in comment')),
        ("x = 1; /* *\\/ */ /* * /", err(1, 18, 'missing "*/" in comment')),
        # @" never closed: at the @
        ('s = @"abc', err(1, 5, "unfinished string")),
        ('s = @"abc\n\ndef""', err(1, 5, "unfinished string")),
        ('f();\r\n  s = @"', err(2, 7, "unfinished string")),
    ],
)
def test_findings(code: str, expected: dict) -> None:
    assert check_source(code) == expected
    assert reference_check(code) == expected


def test_contract_example() -> None:
    assert compile_errors('server.log("a");', "local t = {a=") == [
        {"file": "device_code", "type": "error", "row": 1, "column": 14, "text": "expected '}'"}
    ]


def test_only_the_first_error_is_reported() -> None:
    assert check_source(")\n]\n/*") == err(1, 1, "unexpected ')'")
    # open brackets are only reported at the end, so a later lexical error comes first
    assert check_source("(\n/* x") == err(2, 1, 'missing "*/" in comment')
    assert check_source('{\n"abc') == err(2, 1, "newline in a constant")
    assert check_source('{ ] "') == err(1, 3, "expected '}'")


# -- nesting ----------------------------------------------------------------------------------


def test_deep_nesting_balances() -> None:
    code = "".join("([{"[k % 3] for k in range(3000)) + "x"
    code += "".join(")]}"[k % 3] for k in reversed(range(3000)))
    assert check_source(code) is None


def test_deep_nesting_reports_the_innermost_open_bracket() -> None:
    code = "{" * 500 + "(" + "[" * 500 + "]" * 500
    assert check_source(code) == err(1, len(code) + 1, "expected ')'")
    assert check_source(code + "}") == err(1, len(code) + 1, "expected ')'")


def test_siblings_and_nesting_across_lines() -> None:
    code = "class A {\n  function f(a, b) {\n    return [a, (b)];\n  }\n}\n"
    assert check_source(code) is None
    assert check_source(code.replace("(b)", "(b]")) == err(3, 18, "expected ')'")
    assert check_source(code[:-2]) == err(5, 1, "expected '}'")  # ends with a line end
    assert check_source(code[:-3]) == err(4, 4, "expected '}'")


# -- brackets inside comments and literals are ignored ----------------------------------------


@pytest.mark.parametrize(
    "inert",
    [
        "// ) ] }",
        "# ) ] }",
        "/* ) ] } */",
        "/* (\n[\n{ */",
        '") ] }"',
        '"\\" ) ] }"',
        "')'",
        "'}'",
        '@") ] }"',
        '@"(\n[\n{"',
        '@""")"""',
        '"/* ) */"',
        '"// ("',
        '// @" ( unterminated verbatim in a comment',
        '/* " ( unterminated string in a comment */',
        "# /* ( unterminated comment in a comment",
    ],
)
def test_brackets_in_comments_and_literals_are_ignored(inert: str) -> None:
    code = f"f(a, {{ x = [1,\n{inert}\n] }});"
    assert check_source(code) is None
    rows = 3 + inert.count("\n")
    assert check_source(f"f(\n{inert}\n") == err(rows, 1, "expected ')'")


def test_comment_markers_inside_strings_are_text() -> None:
    assert check_source('"// not a comment" )') == err(1, 20, "unexpected ')'")
    assert check_source('@"/* not a comment" )') == err(1, 21, "unexpected ')'")


def test_line_comment_ends_at_any_line_end() -> None:
    for line_end in ("\n", "\r\n", "\r"):
        assert check_source(f"// (( {line_end})") == err(2, 1, "unexpected ')'")
        assert check_source(f"# (( {line_end} )") == err(2, 2, "unexpected ')'")


# -- verbatim strings -------------------------------------------------------------------------


def test_verbatim_strings_cross_lines_and_rows_keep_counting() -> None:
    code = 'local s = @"line one (\nline "" two [\r\nline three {";\n  x = )'
    assert check_source(code) == err(4, 7, "unexpected ')'")


def test_doubled_quote_does_not_close_a_verbatim_string() -> None:
    assert check_source('@"a"" )') == err(1, 1, "unfinished string")
    assert check_source('@"a""" )') == err(1, 8, "unexpected ')'")


def test_backslash_is_plain_text_in_a_verbatim_string() -> None:
    assert check_source('@"C:\\dir\\" )') == err(1, 12, "unexpected ')'")


# -- columns count code points ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("é)", err(1, 2, "unexpected ')'")),
        ("😀😀)", err(1, 3, "unexpected ')'")),
        ('"日本語" )', err(1, 7, "unexpected ')'")),
        ('s = "ünïcödé (";\n/* 💥 */ x = "😀', err(2, 13, "newline in a constant")),
        ("{ // 注释 😀", err(1, 10, "expected '}'")),
        ("e\u0301 ]", err(1, 4, "unexpected ']'")),  # a combining accent is its own code point
    ],
)
def test_columns_count_code_points(code: str, expected: dict) -> None:
    assert check_source(code) == expected


def test_other_unicode_line_separators_do_not_end_rows() -> None:
    assert check_source("a\u2028b\x0bc\x0cd\x85)") == err(1, 9, "unexpected ')'")
    assert check_source("// x\u2028)") is None  # still inside the comment


def test_position() -> None:
    code = "ab\ncd\r\nef\rg"
    indexes = [k for k in range(len(code) + 1) if code[k - 1 : k + 1] != "\r\n"]  # not mid-\r\n
    assert [position(code, k) for k in indexes] == [reference_position(code, k) for k in indexes]
    assert position(code, len(code)) == (4, 2)
    assert position("", 0) == (1, 1)
    assert position("x\n", 2) == (2, 1)


# -- both files -------------------------------------------------------------------------------


def test_compile_errors_both_files_fail_in_agent_then_device_order() -> None:
    assert compile_errors("f(\n", 'x = "') == [
        {"file": "agent_code", "type": "error", "row": 2, "column": 1, "text": "expected ')'"},
        {"file": "device_code", "type": "error", "row": 1, "column": 5,
         "text": "newline in a constant"},
    ]  # fmt: skip


def test_compile_errors_one_file_fails() -> None:
    assert compile_errors("}", "ok();") == [
        {"file": "agent_code", "type": "error", "row": 1, "column": 1, "text": "unexpected '}'"}
    ]
    assert compile_errors("ok();", "/*") == [
        {"file": "device_code", "type": "error", "row": 1, "column": 1,
         "text": 'missing "*/" in comment'},
    ]  # fmt: skip


def test_compile_errors_none() -> None:
    assert compile_errors("", "") == []
    assert compile_errors(PROGRAM, PROGRAM) == []


def test_large_code_with_a_late_error() -> None:
    code = PROGRAM * 2000
    rows = code.count("\n")
    assert check_source(code) is None
    assert check_source(code + "  ]") == err(rows + 1, 3, "unexpected ']'")
    assert check_source(code + "(") == err(rows + 1, 2, "expected ')'")


# -- properties -------------------------------------------------------------------------------

SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="()[]{}\"'/#"),
    max_size=8,
)


@st.composite
def balanced(draw: st.DrawFn, depth: int = 0) -> str:
    parts = [draw(SAFE_TEXT)]
    for _ in range(draw(st.integers(0, 3 if depth < 4 else 0))):
        opener, closer = draw(st.sampled_from(["()", "[]", "{}"]))
        parts += [opener, draw(balanced(depth + 1)), closer, draw(SAFE_TEXT)]
    return "".join(parts)


@settings(max_examples=300)
@given(balanced())
def test_balanced_brackets_around_safe_text_compile(code: str) -> None:
    assert check_source(code) is None


TOKENS = [
    "(", ")", "[", "]", "{", "}", '"', "'", "@", '@"', '""', "/", "*", "/*", "*/", "//", "#",
    "\\", "\n", "\r", "\r\n", " ", "a", "é", "😀",
]  # fmt: skip


@settings(max_examples=1500)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
@example('"\\"(')
@example('@"a""\n)')
@example("/*/ ) */ )")
def test_agrees_with_the_reference(code: str) -> None:
    assert check_source(code) == reference_check(code)


@given(st.text(max_size=60))
def test_any_text_gives_none_or_a_finding_inside_the_code(code: str) -> None:
    finding = check_source(code)
    assert finding == reference_check(code)
    if finding is not None:
        rows = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        assert 1 <= finding["row"] <= len(rows)
        assert 1 <= finding["column"] <= len(rows[finding["row"] - 1]) + 1


# -- storage percentage -----------------------------------------------------------------------


def test_storage_percent_format_and_bounds() -> None:
    sizes = [0, 1, 100, 10_000, 100_000, 250_000, 10**6, 10**7]
    values = [storage_percent("x" * size) for size in sizes]
    assert values[0] == "4.00"
    for value in values:
        assert re.fullmatch(r"\d+\.\d{2}", value)
        assert float(value) < 100.0
    assert [float(v) for v in values] == sorted(float(v) for v in values)
    assert values[-1] == "99.99"


def test_storage_percent_is_deterministic_and_counts_utf8_bytes() -> None:
    assert storage_percent(PROGRAM) == storage_percent(PROGRAM)
    assert storage_percent("é" * 50_000) == storage_percent("xx" * 50_000)
    assert storage_percent("😀" * 25_000) == storage_percent("x" * 100_000)
    assert re.fullmatch(r"\d+\.\d{2}", storage_percent("\ud800"))  # a lone surrogate from JSON
