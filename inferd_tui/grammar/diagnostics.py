"""Diagnostics with line and column, rendered like a compiler's, and the package's errors."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning", "note"]

_LINE_BREAK = re.compile(r"\r\n?|\n")


class LineIndex:
    """Maps 0-based offsets to 1-based (line, column); `\\r\\n`, `\\r` and `\\n` end lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(source))]

    def line_col(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.source)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.source)
        return self.source[start:end].rstrip("\r\n")


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a grammar, at a 1-based line and column."""

    level: Level
    message: str
    line: int
    column: int
    offset: int
    end_offset: int
    hint: str | None = None

    def format(self, filename: str = "<grammar>") -> str:
        """`file:line:col: level: message`, the shape editors and CI parse."""
        return f"{filename}:{self.line}:{self.column}: {self.level}: {self.message}"

    def render(self, source: str, filename: str = "<grammar>") -> str:
        """The formatted line, the source line, a caret under the span, and the hint."""
        lines = [self.format(filename)]
        index = LineIndex(source)
        if 1 <= self.line <= len(index.starts):
            text = index.line_text(self.line)
            gutter = str(self.line)
            pad = " " * len(gutter)
            shown = _visible(text)
            lines.append(f" {gutter} | {shown}")
            before = _visible(text[: self.column - 1])
            # Keep tabs so the caret lines up with the source line in a terminal.
            indent = "".join("\t" if char == "\t" else " " for char in before)
            line_end = index.starts[self.line - 1] + len(text)
            width = max(1, min(self.end_offset, line_end) - self.offset)
            width = len(_visible(text[self.column - 1 : self.column - 1 + width])) or 1
            lines.append(f" {pad} | {indent}^{'~' * (width - 1)}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def _visible(text: str) -> str:
    """Control characters other than tab shown as `\\xNN`, so they cannot move the cursor."""
    return "".join(
        char
        if char == "\t" or (char.isprintable() and char != "\x7f")
        else f"\\x{ord(char):02x}"
        if ord(char) < 0x100
        else f"\\u{ord(char):04x}"
        for char in text
    )


def make_diagnostic(
    index: LineIndex,
    level: Level,
    message: str,
    offset: int,
    end_offset: int | None = None,
    hint: str | None = None,
) -> Diagnostic:
    line, column = index.line_col(offset)
    end = offset + 1 if end_offset is None else max(end_offset, offset)
    return Diagnostic(level, message, line, column, offset, end, hint)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """By position, dropping exact duplicates."""
    unique = dict.fromkeys(diagnostics)
    return sorted(unique, key=lambda d: (d.offset, d.level != "error", d.message))


class GrammarError(Exception):
    """A grammar that cannot be used for what was asked; `diagnostics` says why."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics)


class InvalidGrammarError(GrammarError):
    """The grammar has errors (llama.cpp would reject it)."""


class TokenGrammarError(GrammarError):
    """The grammar uses model tokens (`<...>`), which need the model's vocabulary."""


class EmptyLanguageError(GrammarError):
    """No string within the length limit satisfies the grammar."""
