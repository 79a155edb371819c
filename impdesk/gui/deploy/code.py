"""Qt-free helpers for deployments: code files, tags, labels, compiler messages, diffs."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from typing import Any

from ...api.records import Deployment

MAX_CODE_BYTES = 2 * 1024 * 1024  # larger files are refused before anything is read in full
MAX_TEXT = 255  # description and origin (§3.5.1 VX106 / VX104)
MAX_TAG_CHARS = 500  # all tags together (§3.5.1 VX111)
TAG_RE = re.compile(r"[A-Za-z0-9_\-*.]+")
FILES = ("agent_code", "device_code")
FILE_LABELS = {"agent_code": "Agent code", "device_code": "Device code"}


class CodeFileError(Exception):
    """A code file that cannot be used; the message is for people."""


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes" if size != 1 else "1 byte"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def file_size(path: str) -> int | None:
    try:
        return os.stat(path).st_size if os.path.isfile(path) else None
    except OSError:
        return None


def read_code_file(path: str) -> str:
    """The UTF-8 text of a code file (never executed); CodeFileError when unusable."""
    name = os.path.basename(path) or path
    if not path:
        raise CodeFileError("No file chosen.")
    if not os.path.isfile(path):
        raise CodeFileError(f"{name}: no such file.")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CODE_BYTES + 1)
    except OSError as exc:
        raise CodeFileError(f"{name}: {exc.strerror or exc}") from None
    if len(data) > MAX_CODE_BYTES:
        raise CodeFileError(f"{name} is larger than {format_size(MAX_CODE_BYTES)}.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CodeFileError(f"{name} is not UTF-8 text.") from None
    return text.removeprefix("\ufeff")


def parse_tags(text: str) -> list[str]:
    """Tags from "a, b c": split on commas and spaces, duplicates dropped (first kept)."""
    return list(dict.fromkeys(t for t in re.split(r"[,\s]+", text) if t))


def tags_problem(tags: list[str]) -> str | None:
    """Why the service would refuse these tags (VX111), or None."""
    bad = [t for t in tags if not TAG_RE.fullmatch(t)]
    if bad:
        return (f"Tag '{bad[0]}' may only contain letters, digits and _ - * . "
                "(separate tags with commas or spaces).")
    total = sum(len(t) for t in tags)
    if total > MAX_TAG_CHARS:
        return f"All tags together may have at most {MAX_TAG_CHARS} characters ({total} now)."
    return None


def short_sha(sha: str) -> str:
    return sha[:7]


def deployment_label(dep: Deployment) -> str:
    """"<sha7> · <description>" for the tree and pickers."""
    sha = short_sha(dep.sha) or dep.id[:8]
    return f"{sha} · {dep.description}" if dep.description else sha


@dataclass(frozen=True)
class CompilerMessage:
    """One compiler error or warning: file (`agent_code`/`device_code`), 1-based position."""

    file: str
    row: int
    column: int
    text: str
    kind: str = "error"

    def line(self) -> str:
        """"file:line:column message", with "warning:" for warnings."""
        prefix = "warning: " if self.kind == "warning" else ""
        return f"{self.file}:{self.row}:{self.column} {prefix}{self.text}"


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def compiler_messages(items: list[Any], kind: str | None = None) -> list[CompilerMessage]:
    """CompileError.items or Deployment.warnings as messages. Warnings come nested
    (`[{status, title, detail, meta: [{file, ...}]}]`, §3.5.2); flat items are accepted too."""
    out: list[CompilerMessage] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        nested = item.get("meta")
        if isinstance(nested, list) and "file" not in item:
            out.extend(compiler_messages(nested, kind))
            continue
        out.append(CompilerMessage(
            file=str(item.get("file") or "?"), row=_int(item.get("row")),
            column=_int(item.get("column")),
            text=str(item.get("text") or item.get("detail") or item.get("title") or ""),
            kind=kind or str(item.get("type") or "error")))
    return out


# -- side-by-side diff ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff; a line number of None means no line on that side."""

    tag: str  # "equal", "replace", "delete", "insert"
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(left: str, right: str) -> list[DiffRow]:
    """Align two texts line by line with difflib."""
    a, b = left.splitlines(), right.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            li, rj = i1 + k, j1 + k
            has_l, has_r = li < i2, rj < j2
            rows.append(DiffRow(tag if has_l and has_r else ("delete" if has_l else "insert"),
                                li + 1 if has_l else None, a[li] if has_l else "",
                                rj + 1 if has_r else None, b[rj] if has_r else ""))
    return rows


def diff_summary(rows: list[DiffRow]) -> str:
    changed = sum(r.tag != "equal" for r in rows)
    return "identical" if not changed else f"{changed} line(s) differ"
