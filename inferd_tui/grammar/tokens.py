"""Split GBNF source into highlightable tokens (never fails; bad text becomes `error` tokens)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal[
    "rule-name",  # the name being defined
    "reference",  # a name used in a rule body
    "operator",  # ::=  |  (  )  .
    "repeat",  # *  +  ?  {m,n}
    "string",  # "..." (escapes are separate tokens)
    "class",  # [...] (escapes are separate tokens)
    "escape",  # \n, \x41, ... inside a string or class
    "token",  # <think>, !<[42]>
    "comment",
    "error",
]


@dataclass(frozen=True)
class GrammarToken:
    kind: TokenKind
    start: int
    end: int


_NAME = re.compile(r"[A-Za-z0-9_-]+")
_DEFINITION_AFTER_NAME = re.compile(r"[ \t]*::=")
_SPACE = re.compile(r"[ \t\r\n]+")
_COMMENT = re.compile(r"#[^\r\n]*")
_REPEAT = re.compile(r"\{[ \t]*[0-9]+[ \t]*(?:,[ \t]*[0-9]*[ \t]*)?\}")
_TOKEN = re.compile(r"!?<[^>\r\n]*>")
_ESCAPE = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[trn\\\"\[\]-])")
_OPERATORS = {"|", "(", ")", "."}
_REPEATS = {"*", "+", "?"}


def tokenize(source: str) -> list[GrammarToken]:
    """Tokens in source order, covering everything but whitespace."""
    tokens: list[GrammarToken] = []
    pos = 0
    length = len(source)
    while pos < length:
        char = source[pos]
        if match := _SPACE.match(source, pos):
            pos = match.end()
        elif char == "#":
            end = _COMMENT.match(source, pos).end()  # type: ignore[union-attr]
            tokens.append(GrammarToken("comment", pos, end))
            pos = end
        elif match := _NAME.match(source, pos):
            defines = _DEFINITION_AFTER_NAME.match(source, match.end()) is not None
            kind: TokenKind = "rule-name" if defines else "reference"
            if "_" in match.group():
                kind = "error"
            tokens.append(GrammarToken(kind, pos, match.end()))
            pos = match.end()
        elif source.startswith("::=", pos):
            tokens.append(GrammarToken("operator", pos, pos + 3))
            pos += 3
        elif char == '"' or char == "[":
            pos = _quoted(source, pos, tokens)
        elif char in _OPERATORS:
            tokens.append(GrammarToken("operator", pos, pos + 1))
            pos += 1
        elif char in _REPEATS:
            tokens.append(GrammarToken("repeat", pos, pos + 1))
            pos += 1
        elif match := _REPEAT.match(source, pos):
            tokens.append(GrammarToken("repeat", pos, match.end()))
            pos = match.end()
        elif match := _TOKEN.match(source, pos):
            tokens.append(GrammarToken("token", pos, match.end()))
            pos = match.end()
        else:
            tokens.append(GrammarToken("error", pos, pos + 1))
            pos += 1
    return tokens


def _quoted(source: str, start: int, tokens: list[GrammarToken]) -> int:
    """Tokenize a string or class starting at `start`; returns the offset after it."""
    closer = '"' if source[start] == '"' else "]"
    kind: TokenKind = "string" if closer == '"' else "class"
    pieces: list[GrammarToken] = []
    piece_start = start
    pos = start + 1
    length = len(source)
    while pos < length:
        char = source[pos]
        if char in "\r\n":
            break  # llama.cpp allows this, but it is almost always a missing closer
        if char == closer:
            pos += 1
            if pos > piece_start:
                pieces.append(GrammarToken(kind, piece_start, pos))
            tokens.extend(pieces)
            return pos
        if char == "\\":
            if pos > piece_start:
                pieces.append(GrammarToken(kind, piece_start, pos))
            escape = _ESCAPE.match(source, pos)
            end = escape.end() if escape else min(pos + 2, length)
            pieces.append(GrammarToken("escape" if escape else "error", pos, end))
            pos = piece_start = end
            continue
        pos += 1
    # Unterminated: mark the rest of the opening line as an error, then carry on after it.
    line_end = start
    while line_end < length and source[line_end] not in "\r\n":
        line_end += 1
    tokens.append(GrammarToken("error", start, line_end))
    return line_end
