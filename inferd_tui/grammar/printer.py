"""Print a syntax tree back as canonical GBNF: one rule per line, single spaces, no comments."""

from __future__ import annotations

from inferd_tui.grammar.nodes import (
    AnyChar,
    CharClass,
    Expr,
    Grammar,
    Group,
    Literal,
    Rule,
    RuleRef,
    Sequence,
    Token,
)

_LITERAL_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CLASS_ESCAPES = {"]": "\\]", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def print_grammar(grammar: Grammar) -> str:
    """Canonical GBNF for `grammar`; parsing the result gives an equal tree.

    A rule whose body ends in an empty alternative swallows the next line (the line break
    after `|` or `::=` is skipped), so such a rule is only printed as-is when it is last;
    elsewhere its empty alternative is moved first, which admits the same strings.
    """
    lines: list[str] = []
    last = len(grammar.rules) - 1
    for position, rule in enumerate(grammar.rules):
        lines.append(print_rule(rule, is_last=position == last))
    return "".join(line + "\n" for line in lines)


def print_rule(rule: Rule, is_last: bool = True) -> str:
    alternatives = list(rule.alternatives)
    if not is_last and alternatives and not alternatives[-1].items:
        if len(alternatives) == 1:
            return f'{rule.name} ::= ""'
        empties = [alt for alt in alternatives if not alt.items]
        alternatives = empties[:1] + [alt for alt in alternatives if alt.items]
    body = print_alternatives(tuple(alternatives))
    return f"{rule.name} ::= {body}" if body else f"{rule.name} ::="


# Loops rather than join(generator): one frame fewer per level of nesting.


def print_alternatives(alternatives: tuple[Sequence, ...]) -> str:
    printed = []
    for alt in alternatives:
        printed.append(print_sequence(alt))
    return " | ".join(printed).strip()


def print_sequence(sequence: Sequence) -> str:
    printed = []
    for item in sequence.items:
        printed.append(print_expr(item))
    return " ".join(printed)


def print_expr(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return print_literal(expr.text)
    if isinstance(expr, CharClass):
        return print_class(expr)
    if isinstance(expr, AnyChar):
        return "."
    if isinstance(expr, RuleRef):
        return expr.name
    if isinstance(expr, Group):
        return f"({print_alternatives(expr.alternatives)})"
    if isinstance(expr, Token):
        return f"{'!' if expr.negated else ''}<{expr.text}>"
    return print_expr(expr.item) + repeat_operator(expr.minimum, expr.maximum)


def repeat_operator(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return {0: "*", 1: "+"}.get(minimum, f"{{{minimum},}}")
    if (minimum, maximum) == (0, 1):
        return "?"
    if minimum == maximum:
        return f"{{{minimum}}}"
    return f"{{{minimum},{maximum}}}"


def print_literal(text: str) -> str:
    return (
        '"'
        + "".join(_LITERAL_ESCAPES.get(char) or _escape_unprintable(char) for char in text)
        + '"'
    )


def print_class(char_class: CharClass) -> str:
    parts: list[str] = []
    last = len(char_class.ranges) - 1
    for position, (low, high) in enumerate(char_class.ranges):
        if position == 0 and not char_class.negated and low == "^":
            low_text = "\\x5E"  # a leading `^` would negate the class
        elif low == "-" and not (low == high and position == last):
            low_text = "\\x2D"  # only a `-` right before `]` is literal
        else:
            low_text = _class_char(low)
        if low == high:
            parts.append(low_text)
        else:
            high_text = "\\x2D" if high == "-" else _class_char(high)
            parts.append(f"{low_text}-{high_text}")
    return f"[{'^' if char_class.negated else ''}{''.join(parts)}]"


def _class_char(char: str) -> str:
    return _CLASS_ESCAPES.get(char) or _escape_unprintable(char)


def _escape_unprintable(char: str) -> str:
    if char.isprintable() and char != "\x7f":
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02X}"
    if code < 0x10000:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"
