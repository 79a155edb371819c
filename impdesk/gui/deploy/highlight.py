"""Read-only Squirrel code view: syntax highlighting, line numbers, a highlighted position."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QSyntaxHighlighter,
    QTextBlock,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from .. import theme

KEYWORDS = frozenset((
    "base", "break", "case", "catch", "class", "clone", "const", "constructor", "continue",
    "default", "delete", "else", "enum", "extends", "false", "for", "foreach", "function", "if",
    "in", "instanceof", "local", "null", "resume", "return", "static", "switch", "this", "throw",
    "true", "try", "typeof", "while", "yield", "__FILE__", "__LINE__"))
BUILTINS = frozenset(("agent", "device", "hardware", "imp", "server", "math", "blob", "array",
                      "table", "string", "http", "nv", "format", "print"))

LIGHT_COLOURS = {"keyword": "#0b4f9c", "builtin": "#7b3fa0", "string": "#a0522d",
                 "comment": "#5f7f5f", "number": "#0a7d6d", "line": "#fff3c4", "mark": "#f5a3a3"}
DARK_COLOURS = {"keyword": "#82b1ff", "builtin": "#d7a6f5", "string": "#f0b07a",
                "comment": "#8fb58f", "number": "#6fd6c4", "line": "#4a4225", "mark": "#8c3a3a"}

# block states for constructs that span lines
NORMAL, IN_COMMENT, IN_VERBATIM = 0, 1, 2


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class SquirrelHighlighter(QSyntaxHighlighter):
    """Keywords, built-in objects, strings (also verbatim @"…"), comments, numbers."""

    TOKEN = re.compile(
        r'(?P<comment>//.*|#.*)'
        r'|(?P<block>/\*)'
        r'|(?P<verbatim>@")'
        r'|(?P<string>"(?:[^"\\]|\\.)*"?)'
        r"|(?P<char>'(?:[^'\\]|\\.)*'?)"
        r'|(?P<number>\b(?:0[xX][0-9A-Fa-f]+|\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)\b)'
        r'|(?P<word>\b[A-Za-z_]\w*\b)')

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.dark: bool | None = None
        self.formats: dict[str, Any] = {}
        self.restyle()
        self.keywords = KEYWORDS
        self.builtins = BUILTINS

    def restyle(self) -> bool:
        """Formats for the current palette; True (after re-highlighting) when they changed."""
        dark = theme.is_dark()
        if dark == self.dark:
            return False
        first = self.dark is None
        self.dark = dark
        colours = DARK_COLOURS if dark else LIGHT_COLOURS
        self.formats = {
            "keyword": _fmt(colours["keyword"], bold=True), "builtin": _fmt(colours["builtin"]),
            "string": _fmt(colours["string"]),
            "comment": _fmt(colours["comment"], italic=True), "number": _fmt(colours["number"]),
        }
        if not first:
            self.rehighlight()
        return True

    def highlightBlock(self, text: str) -> None:
        pos = 0
        state = self.previousBlockState()
        if state == IN_COMMENT:
            pos = self._until(text, 0, "*/", "comment", IN_COMMENT)
        elif state == IN_VERBATIM:
            pos = self._verbatim_end(text, 0)
        self.setCurrentBlockState(NORMAL if pos >= 0 else self.currentBlockState())
        while 0 <= pos < len(text):
            match = self.TOKEN.search(text, pos)
            if match is None:
                break
            kind, start, end = match.lastgroup, match.start(), match.end()
            if kind == "block":
                pos = self._until(text, start, "*/", "comment", IN_COMMENT, skip=2)
                continue
            if kind == "verbatim":
                pos = self._verbatim_end(text, start, skip=2)
                continue
            if kind == "word":
                word = match.group()
                if word in self.keywords:
                    self.setFormat(start, end - start, self.formats["keyword"])
                elif word in self.builtins:
                    self.setFormat(start, end - start, self.formats["builtin"])
            elif kind in ("string", "char"):
                self.setFormat(start, end - start, self.formats["string"])
            elif kind in ("comment", "number"):
                self.setFormat(start, end - start, self.formats[kind])
            pos = end

    def _until(self, text: str, start: int, closer: str, fmt: str, state: int,
               skip: int = 0) -> int:
        """Format from start to past `closer`; -1 (and the block state) when it runs on."""
        end = text.find(closer, start + skip)
        if end < 0:
            self.setFormat(start, len(text) - start, self.formats[fmt])
            self.setCurrentBlockState(state)
            return -1
        end += len(closer)
        self.setFormat(start, end - start, self.formats[fmt])
        return end

    def _verbatim_end(self, text: str, start: int, skip: int = 0) -> int:
        i = start + skip
        while i < len(text):
            if text[i] == '"':
                if i + 1 < len(text) and text[i + 1] == '"':
                    i += 2
                    continue
                self.setFormat(start, i + 1 - start, self.formats["string"])
                return i + 1
            i += 1
        self.setFormat(start, len(text) - start, self.formats["string"])
        self.setCurrentBlockState(IN_VERBATIM)
        return -1


class _LineNumbers(QWidget):
    """The gutter; it asks its parent CodeView (no Python reference cycle)."""

    def sizeHint(self) -> QSize:
        view = self.parentWidget()
        return QSize(view.gutter_width() if isinstance(view, CodeView) else 0, 0)

    def paintEvent(self, event: Any) -> None:
        view = self.parentWidget()
        if isinstance(view, CodeView):
            view.paint_gutter(event)


class CodeView(theme.FollowsPalette, QPlainTextEdit):
    """Read-only code with line numbers; `show_position(row, column)` marks a compiler finding."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.highlighter = SquirrelHighlighter(self.document())
        self.marked: tuple[int, int] | None = None  # the row and column show_position marked
        self.gutter = _LineNumbers(self)
        self.blockCountChanged.connect(lambda _: self._update_margin())
        self.updateRequest.connect(self._on_update_request)
        self._update_margin()

    def set_code(self, text: str) -> None:
        self.setExtraSelections([])
        self.marked = None
        self.setPlainText(text)

    def restyle(self) -> None:
        if self.highlighter.restyle() and self.marked:
            self._mark(*self.marked)

    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 12 + self.fontMetrics().horizontalAdvance("9") * max(digits, 3)

    def _update_margin(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, event: Any) -> None:
        painter = QPainter(self.gutter)
        painter.fillRect(event.rect(), self.palette().alternateBase())
        painter.setPen(self.palette().placeholderText().color())
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible():
                painter.drawText(0, top, self.gutter.width() - 6, height,
                                 Qt.AlignmentFlag.AlignRight, str(block.blockNumber() + 1))
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()

    def show_position(self, row: int, column: int) -> str:
        """Scroll to row/column (1-based), mark the line and the character; returns the line."""
        self.marked = (row, column)
        block, offset = self._mark(row, column)
        place = QTextCursor(block)
        place.setPosition(block.position() + offset)
        self.setTextCursor(place)
        self.centerCursor()
        return block.text()

    def _mark(self, row: int, column: int) -> tuple[QTextBlock, int]:
        """Tint the line and the character in the palette's colours; returns (block, offset)."""
        block = self.document().findBlockByNumber(max(row, 1) - 1)
        if not block.isValid():
            block = self.document().lastBlock()
        colours = DARK_COLOURS if theme.is_dark() else LIGHT_COLOURS
        line_sel = QTextEdit.ExtraSelection()
        line_sel.format.setBackground(QColor(colours["line"]))
        line_sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        line_sel.cursor = QTextCursor(block)
        char_sel = QTextEdit.ExtraSelection()
        char_sel.format.setBackground(QColor(colours["mark"]))
        cursor = QTextCursor(block)
        offset = min(max(column, 1) - 1, max(block.length() - 1, 0))
        cursor.setPosition(block.position() + offset)
        if offset < block.length() - 1:
            cursor.movePosition(QTextCursor.MoveOperation.NextCharacter,
                                QTextCursor.MoveMode.KeepAnchor)
        char_sel.cursor = cursor
        self.setExtraSelections([line_sel, char_sel])
        return block, offset
