"""The GBNF syntax tree.

Every node is a frozen dataclass. Source positions (`start`, `end`: 0-based character offsets,
end exclusive) are excluded from equality, so a grammar parsed from its own printed form
compares equal to the original.

    Grammar
      └─ Rule(name, alternatives)
           └─ alternatives: tuple[Sequence, ...]     (an empty Sequence is a legal alternative)
                └─ Sequence.items: tuple[Expr, ...]
                     Expr = Literal | CharClass | AnyChar | RuleRef | Group | Repeat | Token
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# llama.cpp rejects `{m}` above this and turns `{m,n}` with n above it into `{m,}`.
MAX_REPETITION = 2000
# The parser refuses groups and repetitions nested deeper than this (llama.cpp has no limit),
# so every recursive walk over a tree stays far inside Python's default recursion limit.
MAX_NESTING = 100
# Surrogates are code points but not characters: no UTF-8 text (so no model output) contains
# one, so no class, `.` or string matches them.
SURROGATE_FIRST = "\ud800"
SURROGATE_LAST = "\udfff"


@dataclass(frozen=True, slots=True)
class Literal:
    """A string literal `"..."`, with escapes decoded."""

    text: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class CharClass:
    """`[...]` or `[^...]`: `ranges` holds inclusive (low, high) pairs; a single char is (c, c)."""

    ranges: tuple[tuple[str, str], ...]
    negated: bool = False
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    def contains(self, char: str) -> bool:
        if SURROGATE_FIRST <= char <= SURROGATE_LAST:
            return False
        inside = any(low <= char <= high for low, high in self.ranges)
        return inside != self.negated


@dataclass(frozen=True, slots=True)
class AnyChar:
    """`.`: any single character."""

    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A reference to another rule by name."""

    name: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Group:
    """`( a | b )`."""

    alternatives: tuple[Sequence, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Repeat:
    """`item*`, `item+`, `item?`, `item{m}`, `item{m,}` or `item{m,n}` (`maximum` None = unbounded).

    `maximum` is what was written; `effective_maximum` is what llama.cpp uses.
    """

    item: Expr
    minimum: int
    maximum: int | None
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    @property
    def effective_maximum(self) -> int | None:
        if self.maximum is not None and self.maximum > MAX_REPETITION:
            return None
        return self.maximum


@dataclass(frozen=True, slots=True)
class Token:
    """A model token: `<name>`, `<[123]>`, or negated `!<...>`. Needs the model's vocabulary."""

    text: str
    negated: bool = False
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


Expr = Literal | CharClass | AnyChar | RuleRef | Group | Repeat | Token


@dataclass(frozen=True, slots=True)
class Sequence:
    items: tuple[Expr, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    alternatives: tuple[Sequence, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)
    name_end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Grammar:
    """Rules in source order. A name defined twice keeps both; the later one is in effect."""

    rules: tuple[Rule, ...]

    def definitions(self) -> dict[str, Rule]:
        """The rule in effect for each name (the last definition wins, as in llama.cpp)."""
        return {rule.name: rule for rule in self.rules}


def children(expr: Expr) -> Iterator[Expr]:
    """The expressions directly inside `expr`."""
    if isinstance(expr, Group):
        for sequence in expr.alternatives:
            yield from sequence.items
    elif isinstance(expr, Repeat):
        yield expr.item


def walk_rule(rule: Rule) -> list[Expr]:
    """Every expression in a rule, outermost first, in source order."""
    found: list[Expr] = []

    def visit(items: tuple[Expr, ...]) -> None:
        for expr in items:
            found.append(expr)
            if isinstance(expr, Group):
                for sequence in expr.alternatives:
                    visit(sequence.items)
            elif isinstance(expr, Repeat):
                visit((expr.item,))

    for sequence in rule.alternatives:
        visit(sequence.items)
    return found
