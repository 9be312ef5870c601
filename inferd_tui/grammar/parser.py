"""A hand-written recursive-descent parser for GBNF exactly as llama.cpp reads it.

On a syntax error the parser records a diagnostic and resumes at the next line that looks
like the start of a rule (`name ::=`), so one pass reports every problem it can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from inferd_tui.grammar.analysis import class_is_empty
from inferd_tui.grammar.diagnostics import Diagnostic, Level, LineIndex, make_diagnostic
from inferd_tui.grammar.nodes import (
    MAX_NESTING,
    MAX_REPETITION,
    SURROGATE_FIRST,
    SURROGATE_LAST,
    AnyChar,
    CharClass,
    Expr,
    Grammar,
    Group,
    Literal,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    Token,
)

_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
_DIGITS_RE = re.compile(r"[0-9]+")
# Inline whitespace (spaces, tabs, comments), and the same plus line breaks.
_WS_RE = re.compile(r"(?:[ \t]+|#[^\r\n]*)*")
_WS_NL_RE = re.compile(r"(?:[ \t\r\n]+|#[^\r\n]*)*")
# Where recovery resumes: `name ::=`, or any unindented name (continuation lines are indented).
_RULE_START_RE = re.compile(r"[ \t]*[A-Za-z0-9_-]+[ \t]*::=|[A-Za-z0-9_-]")
_LINE_BREAK_RE = re.compile(r"\r\n?|\n")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_SIMPLE_STRING_RE = re.compile(r'"[^"\\\r\n\ud800-\udfff]*"')
# Characters that need no special handling inside a string literal.
_PLAIN_STRING_RE = re.compile(r'[^"\\\r\n\ud800-\udfff]+')

_SIMPLE_ESCAPES = {
    "t": "\t",
    "r": "\r",
    "n": "\n",
    "\\": "\\",
    '"': '"',
    "[": "[",
    "]": "]",
}
_HEX_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}
_HEX_RE = re.compile(r"[0-9A-Fa-f]+")
_LAST_CHAR = "\U0010ffff"

_CONTINUATION_HINT = (
    "a rule ends at the end of its line; end the previous line with `|` to continue it, "
    "or wrap the alternatives in ( ) which may span lines"
)
_ITEM_STARTS = frozenset('"[(.<!*+?{')
_STRAY_CHAR_HINTS = {
    "'": 'GBNF strings use double quotes: write `"..."`',
    ";": "rules end at the end of the line; no `;` is needed",
    ",": "items in a sequence are separated by spaces, not commas",
    "/": "comments start with `#`",
    "=": "rules are defined with `::=`",
    ":": "rules are defined with `::=`",
}


@dataclass
class ParseResult:
    rules: list[Rule]
    diagnostics: list[Diagnostic]
    # Names of rules whose definition started but failed, so later checks do not also call
    # them undefined.
    attempted_names: set[str] = field(default_factory=set)

    @property
    def syntax_ok(self) -> bool:
        return not any(d.level == "error" for d in self.diagnostics)

    @property
    def grammar(self) -> Grammar:
        return Grammar(tuple(self.rules))


class _Abort(Exception):
    """Raised after a diagnostic is recorded; the parser resumes at `resume`."""

    def __init__(self, resume: int) -> None:
        super().__init__(resume)
        self.resume = resume


def parse(source: str, index: LineIndex | None = None) -> ParseResult:
    """Parse GBNF source into rules plus diagnostics for every syntax problem found.

    llama.cpp lets a string or class run over line breaks, so one missing `"` can swallow
    the rest of the file. When a rule with such a string fails to parse, the source is parsed
    again with line breaks ending every string except those in rules that parsed, which
    points at the real mistake and leaves intended multi-line strings alone.
    """
    index = index or LineIndex(source)
    lenient = _Parser(source, index, may_span=None)
    result = lenient.run()
    if lenient.failed_spanning:
        return _Parser(source, index, may_span=frozenset(lenient.good_spans)).run()
    return result


def describe_char(char: str) -> str:
    if char in "\r\n":
        return "the end of the line"
    if not char.isprintable() or char in " \t":
        return f"character U+{ord(char):04X}"
    return f"`{char}`"


class _Parser:
    def __init__(self, source: str, index: LineIndex, may_span: frozenset[int] | None) -> None:
        # Starts of the strings and classes allowed to run over a line break (None: all).
        self.may_span = may_span
        # Starts of those that did, in the rule being parsed and in rules that parsed.
        self.rule_spans: list[int] = []
        self.good_spans: list[int] = []
        self.failed_spanning = False
        self.src = source
        self.length = len(source)
        self.pos = 0
        self.index = index
        self.diagnostics: list[Diagnostic] = []
        self.rules: list[Rule] = []
        self.attempted: set[str] = set()
        self.open_groups = 0

    # -- helpers -------------------------------------------------------------------------

    def report(
        self,
        level: Level,
        message: str,
        offset: int,
        end: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.diagnostics.append(make_diagnostic(self.index, level, message, offset, end, hint))

    def fail(
        self, message: str, offset: int, end: int | None = None, hint: str | None = None
    ) -> _Abort:
        self.report("error", message, offset, end, hint)
        return _Abort(self.resync_after(offset))

    def peek(self, ahead: int = 0) -> str:
        at = self.pos + ahead
        return self.src[at] if at < self.length else ""

    def skip_ws(self, newlines: bool) -> None:
        match = (_WS_NL_RE if newlines else _WS_RE).match(self.src, self.pos)
        if match:
            self.pos = match.end()

    def resync_after(self, offset: int) -> int:
        """The start of the first rule-looking line after the line holding `offset`."""
        line_break = _LINE_BREAK_RE.search(self.src, offset)
        if line_break is None:
            return self.length
        return self.resync_from(line_break.end())

    def resync_from(self, line_start: int) -> int:
        """The start of the first rule-looking line at or after `line_start`."""
        pos = line_start
        while pos < self.length:
            if _RULE_START_RE.match(self.src, pos):
                return pos
            line_break = _LINE_BREAK_RE.search(self.src, pos)
            if line_break is None:
                break
            pos = line_break.end()
        return self.length

    def line_start_of(self, offset: int) -> int:
        line, _column = self.index.line_col(offset)
        return self.index.starts[line - 1]

    # -- grammar and rules ---------------------------------------------------------------

    def run(self) -> ParseResult:
        self.skip_ws(newlines=True)
        while self.pos < self.length:
            rule_start = self.pos
            self.rule_spans = []
            self.open_groups = 0
            try:
                self.rules.append(self.parse_rule())
                self.good_spans += self.rule_spans
            except _Abort as abort:
                self.failed_spanning = self.failed_spanning or bool(self.rule_spans)
                # Always make progress, even if recovery points back into this rule.
                self.pos = (
                    abort.resume if abort.resume > rule_start else self.resync_after(rule_start)
                )
            self.skip_ws(newlines=True)
        return ParseResult(self.rules, self.diagnostics, self.attempted)

    def parse_rule(self) -> Rule:
        start = self.pos
        char = self.peek()
        if not _NAME_RE.match(char):
            # After a rule, a line that starts with `|` or an item was meant to continue it.
            continues = char == "|" or (char in _ITEM_STARTS and bool(self.rules))
            hint = _CONTINUATION_HINT if continues else _STRAY_CHAR_HINTS.get(char)
            raise self.fail(
                f"expected a rule name at the start of a rule, found {describe_char(char)}",
                start,
                hint=hint,
            )
        name = self.parse_name()
        name_end = self.pos
        self.attempted.add(name)
        self.skip_ws(newlines=False)
        if not self.src.startswith("::=", self.pos):
            found = self.peek()
            hint = None
            if found in ("=", ":") or self.src.startswith("->", self.pos):
                hint = "GBNF defines rules with `::=`"
            elif found and found not in "\r\n":
                hint = f"a rule is written `{name} ::= ...`"
            raise self.fail(
                f"expected `::=` after rule name `{name}`, found "
                + (describe_char(found) if found else "the end of the input"),
                self.pos,
                hint=hint,
            )
        self.pos += 3
        self.skip_ws(newlines=True)
        alternatives, _height = self.parse_alternates(nested=False)
        end = self.pos
        char = self.peek()
        if char == "\r":
            self.pos += 2 if self.peek(1) == "\n" else 1
        elif char == "\n":
            self.pos += 1
        elif char:
            raise self.unexpected_after_sequence(name, nested=False)
        return Rule(name, alternatives, start, end, name_end)

    def unexpected_after_sequence(self, rule_name: str, nested: bool) -> _Abort:
        """Diagnose the character that stopped a sequence where the rule should end."""
        char = self.peek()
        at = self.pos
        if self.src.startswith("::=", at):
            # A line ending in `|` or `::=` continues, so the next rule's name was read as a
            # reference and its `::=` landed here.
            self.report(
                "error",
                "unexpected `::=`: the next rule was read as part of this one",
                at,
                at + 3,
                hint="a line that ends with `|` or `::=` continues onto the next line; "
                'write an empty alternative first (`ws ::= | " "`) or use `""`',
            )
            return _Abort(self.resync_from(self.line_start_of(at)))
        if char == ")" and not nested:
            return self.fail("unmatched `)`: no `(` before it in this rule", at)
        if char in "]}>":
            return self.fail(f"unexpected `{char}` in rule `{rule_name}`", at)
        return self.fail(
            f"unexpected {describe_char(char)} in rule `{rule_name}`",
            at,
            hint=_STRAY_CHAR_HINTS.get(char),
        )

    def parse_name(self) -> str:
        match = _NAME_RE.match(self.src, self.pos)
        assert match is not None
        name = match.group()
        underscore = name.find("_")
        if underscore >= 0:
            self.report(
                "error",
                f"`_` is not allowed in rule names (in `{name}`)",
                self.pos + underscore,
                hint=f"use `-` instead: `{name.replace('_', '-')}`",
            )
        self.pos = match.end()
        return name

    # -- alternatives, sequences, elements ------------------------------------------------

    def parse_alternates(self, nested: bool) -> tuple[tuple[Sequence, ...], int]:
        """The alternatives and the height of the tallest item in them."""
        sequence, height = self.parse_sequence(nested)
        alternatives = [sequence]
        while self.peek() == "|":
            self.pos += 1
            self.skip_ws(newlines=True)
            sequence, sequence_height = self.parse_sequence(nested)
            alternatives.append(sequence)
            height = max(height, sequence_height)
        return tuple(alternatives), height

    def parse_sequence(self, nested: bool) -> tuple[Sequence, int]:
        """The sequence and the height of its tallest item (groups and repeats it nests)."""
        start = self.pos
        end = start
        items: list[Expr] = []
        heights: list[int] = []
        src = self.src
        length = self.length
        whitespace = _WS_NL_RE if nested else _WS_RE
        while self.pos < length:
            pos = self.pos
            char = src[pos]
            if char == '"':
                simple = _SIMPLE_STRING_RE.match(src, pos)
                if simple:  # fast path: no escapes, no line breaks
                    self.pos = simple.end()
                    items.append(Literal(simple.group()[1:-1], pos, self.pos))
                else:
                    items.append(self.parse_string())
            elif char in _NAME_CHARS:
                name_match = _NAME_RE.match(src, pos)
                assert name_match is not None
                if "_" in name_match.group():
                    name = self.parse_name()
                else:
                    name = name_match.group()
                    self.pos = name_match.end()
                items.append(RuleRef(name, pos, self.pos))
            elif char == "[":
                items.append(self.parse_class())
            elif char == "(":
                group, height = self.parse_group()
                items.append(group)
                heights.append(height)
            elif char == ".":
                items.append(AnyChar(pos, pos + 1))
                self.pos += 1
            elif char == "<" or (char == "!" and self.peek(1) == "<"):
                items.append(self.parse_token())
            elif char in "*+?{":
                minimum, maximum = self.parse_repeat_operator(nested)
                if not items:
                    self.report(
                        "error",
                        f"`{src[pos : self.pos]}` has nothing before it to repeat",
                        pos,
                        self.pos,
                    )
                else:
                    height = heights[-1] + 1
                    if self.open_groups + height > MAX_NESTING:
                        raise self.too_deep(pos)
                    heights[-1] = height
                    item = items[-1]
                    items[-1] = Repeat(item, minimum, maximum, item.start, self.pos)
            else:
                break
            heights += [0] * (len(items) - len(heights))  # a leaf nests nothing
            end = self.pos
            space = whitespace.match(src, end)
            if space:
                self.pos = space.end()
        return Sequence(tuple(items), start, end), max(heights, default=0)

    def parse_string(self) -> Literal | CharClass:
        start = self.pos
        self.pos += 1
        parts: list[str] = []
        spans_lines = False
        impossible = False
        src = self.src
        while True:
            if self.pos >= self.length:
                raise self.fail(
                    'unterminated string: no closing `"`',
                    start,
                    hint='add the closing `"`; a `"` inside a string is written `\\"`',
                )
            char = src[self.pos]
            if char == '"':
                self.pos += 1
                break
            if char == "\\":
                escape_start = self.pos
                decoded = self.parse_escape(in_class=False)
                if decoded is not None and SURROGATE_FIRST <= decoded <= SURROGATE_LAST:
                    self.report_surrogate_in_string(
                        f"`{src[escape_start : self.pos]}`", escape_start, self.pos
                    )
                    decoded = None
                if decoded is None:
                    impossible = True
                else:
                    parts.append(decoded)
                continue
            if SURROGATE_FIRST <= char <= SURROGATE_LAST:
                self.report_surrogate_in_string(f"U+{ord(char):04X}", self.pos, self.pos + 1)
                impossible = True
                self.pos += 1
                continue
            if char in "\r\n":
                self.spans_line("string", '"', start, first=not spans_lines)
                spans_lines = True
                parts.append(char)
                self.pos += 1
                continue
            plain = _PLAIN_STRING_RE.match(src, self.pos)
            assert plain is not None
            parts.append(plain.group())
            self.pos = plain.end()
        if spans_lines:
            self.report(
                "warning",
                "string literal continues onto the next line",
                start,
                hint='if the closing `"` is missing, add it; to match a line break write `\\n`',
            )
        if impossible:
            # No text contains one of its characters: it matches nothing, exactly like `[]`.
            return CharClass((), False, start, self.pos)
        return Literal("".join(parts), start, self.pos)

    def report_surrogate_in_string(self, written: str, offset: int, end: int) -> None:
        self.report(
            "warning",
            f"{written} is a surrogate code point, not a character: no UTF-8 text contains it, "
            "so this string can never match",
            offset,
            end,
        )

    def spans_line(self, what: str, closer: str, start: int, first: bool) -> None:
        """A string or class reached a line break: note it, or fail if it must end here."""
        if self.may_span is not None and start not in self.may_span:
            raise self.fail(
                f"unterminated {what}: no closing `{closer}` on this line",
                start,
                hint=f"add the closing `{closer}`; to match a line break write `\\n`",
            )
        if first:
            self.rule_spans.append(start)

    def parse_escape(self, in_class: bool) -> str | None:
        """Decode the escape at the backslash; report and recover from bad ones.

        None stands for a code point beyond U+10FFFF, which no text can contain.
        """
        start = self.pos
        kind = self.peek(1)
        if not kind:
            self.pos += 1
            return "\\"
        if kind in _SIMPLE_ESCAPES:
            self.pos += 2
            return _SIMPLE_ESCAPES[kind]
        if kind in _HEX_ESCAPE_DIGITS:
            count = _HEX_ESCAPE_DIGITS[kind]
            digits = self.src[self.pos + 2 : self.pos + 2 + count]
            hex_match = _HEX_RE.match(digits)
            if hex_match is None or len(hex_match.group()) != count:
                got = len(hex_match.group()) if hex_match else 0
                self.pos += 2 + got
                self.report(
                    "error",
                    f"`\\{kind}` needs exactly {count} hex digits",
                    start,
                    self.pos,
                    hint=f"for example `\\{kind}{'0' * (count - 2)}41` for `A`",
                )
                return "?"
            self.pos += 2 + count
            value = int(digits, 16)
            if value > ord(_LAST_CHAR):
                # llama.cpp reads the hex digits without a range check.
                consequence = "" if in_class else ", so this string can never match"
                self.report(
                    "warning",
                    f"`\\{kind}{digits}` is beyond U+10FFFF, the last Unicode code point: "
                    f"llama.cpp accepts it, but no text contains it{consequence}",
                    start,
                    self.pos,
                    hint="the last code point is `\\U0010FFFF`",
                )
                return None
            return chr(value)
        if kind == "-":
            self.pos += 2
            self.report(
                "warning",
                "`\\-` is accepted only by newer llama.cpp builds",
                start,
                self.pos,
                hint="put `-` first or last in the class instead" if in_class else "write `-`",
            )
            return "-"
        self.pos += 2
        escaped = kind if kind.isprintable() else f"U+{ord(kind):04X}"
        hint = 'valid escapes are \\t \\r \\n \\\\ \\" \\[ \\] \\xHH \\uHHHH \\UHHHHHHHH'
        if kind.isprintable():
            hint += f"; write `{kind}` without the backslash"
        self.report("error", f"unknown escape `\\{escaped}`", start, self.pos, hint=hint)
        return kind

    def parse_class(self) -> CharClass:
        start = self.pos
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[str, str]] = []
        spans_lines = False
        reversed_range = False
        while True:
            if self.pos >= self.length:
                raise self.fail(
                    "unterminated character class: no closing `]`",
                    start,
                    hint="add the closing `]`; a `]` inside a class is written `\\]`",
                )
            char = self.src[self.pos]
            if char == "]":
                self.pos += 1
                break
            if char in "\r\n":
                self.spans_line("character class", "]", start, first=not spans_lines)
                spans_lines = True
            range_start = self.pos
            low = self.parse_class_char()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                high = self.parse_class_char()
                if low is None:
                    continue  # the range starts past every character
                if high is None:
                    high = _LAST_CHAR  # every character up to the end of Unicode
                if high < low:
                    reversed_range = True
                    self.report(
                        "warning",
                        f"range `{self.src[range_start : self.pos]}` is reversed and empty",
                        range_start,
                        self.pos,
                        hint="write the lower character first",
                    )
                ranges.append((low, high))
            elif low is not None:
                ranges.append((low, low))
        char_class = CharClass(tuple(ranges), negated, start, self.pos)
        if self.pos == start + 2:
            self.report("warning", "empty class `[]` matches no character", start, self.pos)
        elif ranges and not reversed_range and class_is_empty(char_class):
            why = (
                "it excludes every character"
                if negated
                else "surrogates (U+D800 to U+DFFF) are not characters; no UTF-8 text contains one"
            )
            self.report(
                "warning",
                f"class `{self.src[start : self.pos]}` matches no character: {why}",
                start,
                self.pos,
            )
        return char_class

    def parse_class_char(self) -> str | None:
        char = self.src[self.pos]
        if char == "\\":
            return self.parse_escape(in_class=True)
        self.pos += 1
        return char

    def parse_group(self) -> tuple[Group, int]:
        """The group and its height."""
        start = self.pos
        if self.open_groups >= MAX_NESTING:
            raise self.too_deep(start)
        self.open_groups += 1
        self.pos += 1
        self.skip_ws(newlines=True)
        alternatives, height = self.parse_alternates(nested=True)
        self.open_groups -= 1
        char = self.peek()
        if char == ")":
            self.pos += 1
            return Group(alternatives, start, self.pos), height + 1
        if not char or self.src.startswith("::=", self.pos):
            where = "before the end of the input" if not char else "before the next rule"
            self.report(
                "error",
                f"unterminated group: `(` is not closed {where}",
                start,
                hint="add the matching `)`",
            )
            if not char:
                raise _Abort(self.resync_after(start))
            raise _Abort(self.resync_from(self.line_start_of(self.pos)))
        line, column = self.index.line_col(start)
        raise self.fail(
            f"expected `)` to close the `(` at {line}:{column}, found {describe_char(char)}",
            self.pos,
            hint=_STRAY_CHAR_HINTS.get(char),
        )

    def too_deep(self, offset: int) -> _Abort:
        return self.fail(
            f"nesting too deep (more than {MAX_NESTING} levels of groups and repetitions)",
            offset,
            hint="move the inner part into a rule of its own",
        )

    def parse_token(self) -> Token:
        start = self.pos
        negated = self.peek() == "!"
        if negated:
            self.pos += 1
        close = self.src.find(">", self.pos)
        line_break = _LINE_BREAK_RE.search(self.src, self.pos)
        if close < 0 or (line_break is not None and line_break.start() < close):
            raise self.fail("unterminated token: `<` has no closing `>`", start)
        text = self.src[self.pos + 1 : close]
        self.pos = close + 1
        if not text:
            self.report("error", "empty token `<>`", start, self.pos)
        elif text.startswith("[") and not re.fullmatch(r"\[[0-9]+\]", text):
            self.report(
                "error",
                f"token id `<{text}>` must be a number in brackets, like `<[123]>`",
                start,
                self.pos,
            )
        else:
            self.report(
                "note",
                f"model token `{self.src[start : self.pos]}` cannot be checked or sampled here",
                start,
                self.pos,
                hint="llama.cpp accepts it, but it needs the model's vocabulary",
            )
        return Token(text, negated, start, self.pos)

    def parse_repeat_operator(self, nested: bool) -> tuple[int, int | None]:
        """Parse `*`, `+`, `?` or `{...}` and check its bounds; returns (minimum, maximum)."""
        start = self.pos
        char = self.src[start]
        self.pos += 1
        if char == "*":
            return 0, None
        if char == "+":
            return 1, None
        if char == "?":
            return 0, 1
        self.skip_ws(nested)
        minimum = self.parse_int("`{`")
        self.skip_ws(nested)
        maximum: int | None
        exact = False
        if self.peek() == "}":
            maximum = minimum
            exact = True
        elif self.peek() == ",":
            self.pos += 1
            self.skip_ws(nested)
            maximum = self.parse_int("`,`") if self.peek().isdigit() else None
            self.skip_ws(nested)
            if self.peek() != "}":
                raise self.fail(
                    f"expected `}}` to close the repetition, found {describe_char(self.peek())}"
                    if self.peek()
                    else "expected `}` to close the repetition, found the end of the input",
                    self.pos,
                )
        else:
            found = self.peek()
            raise self.fail(
                "expected `,` or `}` in the repetition, found "
                + (describe_char(found) if found else "the end of the input"),
                self.pos,
            )
        self.pos += 1
        written = self.src[start : self.pos]
        if minimum > MAX_REPETITION:
            form = "`{m}`" if exact else "the minimum"
            self.report(
                "error",
                f"repetition `{written}` is over llama.cpp's limit of {MAX_REPETITION} ({form})",
                start,
                self.pos,
                hint="use `*` or `+`, or a smaller count",
            )
        elif maximum is not None and minimum > maximum:
            # llama.cpp accepts it, but its count of optional copies, maximum - minimum, is
            # unsigned: it wraps around and the expansion runs until memory is exhausted.
            self.report(
                "error",
                f"repetition `{written}` has its minimum above its maximum: llama.cpp takes "
                f"{maximum} - {minimum} optional copies as a huge unsigned number and runs out "
                f"of memory expanding them (older builds read it as `{{{minimum}}}`)",
                start,
                self.pos,
                hint=f"write `{{{maximum},{minimum}}}` or `{{{minimum}}}`",
            )
        elif maximum is not None and maximum > MAX_REPETITION:
            self.report(
                "warning",
                f"repetition `{written}` is over llama.cpp's limit of {MAX_REPETITION}; "
                f"it becomes unbounded, `{{{minimum},}}`",
                start,
                self.pos,
                hint=f"write `{{{minimum},}}` if unbounded is what you mean",
            )
        return minimum, maximum

    def parse_int(self, after: str) -> int:
        match = _DIGITS_RE.match(self.src, self.pos)
        if match is None:
            found = self.peek()
            raise self.fail(
                f"expected a number after {after}, found "
                + (describe_char(found) if found else "the end of the input"),
                self.pos,
            )
        self.pos = match.end()
        return int(match.group())
