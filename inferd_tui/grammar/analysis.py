"""Fixpoint facts about rules shared by the checks, the sampler and the matcher."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

from inferd_tui.grammar.nodes import (
    SURROGATE_FIRST,
    SURROGATE_LAST,
    AnyChar,
    CharClass,
    Expr,
    Group,
    Literal,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    Token,
    walk_rule,
)

INFINITY = math.inf

# A rule's value in a fixpoint: a shortest length, or the sampler's (length, height) measure.
Value = TypeVar("Value", float, tuple[float, float])


_LAST_CODE_POINT = 0x10FFFF
_SURROGATES = (ord(SURROGATE_FIRST), ord(SURROGATE_LAST))


def class_is_empty(char_class: CharClass) -> bool:
    """True when the class can match no character at all."""
    return not class_spans(char_class)


@functools.lru_cache(maxsize=4096)
def class_spans(char_class: CharClass) -> tuple[tuple[int, int], ...]:
    """The code points a class matches, as sorted, merged, inclusive ranges, never a surrogate.

    The sampler draws from these and the checks and the matcher agree with them, so a class
    that only allows characters far above ASCII is still sampled correctly.
    """
    written = _merged((ord(low), ord(high)) for low, high in char_class.ranges if low <= high)
    if char_class.negated:
        return _complement(_merged([*written, _SURROGATES]))
    # What is written, minus the surrogates: the complement of (not written, or a surrogate).
    return _complement(_merged([*_complement(written), _SURROGATES]))


def _merged(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def _complement(merged: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """The code points up to U+10FFFF outside sorted, merged ranges."""
    gaps: list[tuple[int, int]] = []
    next_free = 0
    for low, high in merged:
        if low > next_free:
            gaps.append((next_free, low - 1))
        next_free = max(next_free, high + 1)
    if next_free <= _LAST_CODE_POINT:
        gaps.append((next_free, _LAST_CODE_POINT))
    return tuple(gaps)


def fixpoint(
    definitions: Mapping[str, Rule],
    evaluate: Callable[[Rule, dict[str, Value]], Value],
    start: Value,
    expressions: Mapping[int, list[Expr]] | None = None,
) -> dict[str, Value]:
    """Evaluate rules from `start` until no value changes; values only decrease, so this ends.

    A worklist re-evaluates only the rules that use a rule whose value just changed.
    Grammars are mostly written top-down, so starting from the last rule usually needs one
    evaluation per rule.
    """
    values: dict[str, Value] = dict.fromkeys(definitions, start)
    # Ordered (dicts, not sets) so the amount of work never depends on hash seeds.
    users: dict[str, dict[str, None]] = {name: {} for name in definitions}
    for name, rule in definitions.items():
        for expr in expressions[id(rule)] if expressions is not None else walk_rule(rule):
            if isinstance(expr, RuleRef) and expr.name in users:
                users[expr.name][name] = None
    pending = list(definitions)  # popped from the end: the last rule first
    queued = set(pending)
    while pending:
        name = pending.pop()
        queued.discard(name)
        value = evaluate(definitions[name], values)
        if value < values[name]:
            values[name] = value
            for user in users[name]:
                if user not in queued:
                    queued.add(user)
                    pending.append(user)
    return values


def min_lengths(
    definitions: Mapping[str, Rule], expressions: Mapping[int, list[Expr]] | None = None
) -> dict[str, float]:
    """The length of each rule's shortest string (infinity if it can never finish).

    `expressions` maps id(rule) to walk_rule(rule), when the caller already has it.
    """

    def rule_length(rule: Rule, values: dict[str, float]) -> float:
        return alternatives_min_length(rule.alternatives, values)

    return fixpoint(definitions, rule_length, INFINITY, expressions)


def alternatives_min_length(
    alternatives: tuple[Sequence, ...], values: Mapping[str, float]
) -> float:
    # A loop rather than min(generator): one frame fewer per level of nesting.
    shortest = INFINITY
    for alt in alternatives:
        shortest = min(shortest, sequence_min_length(alt, values))
    return shortest


def sequence_min_length(sequence: Sequence, values: Mapping[str, float]) -> float:
    total = 0.0
    for item in sequence.items:
        total += expr_min_length(item, values)
        if total == INFINITY:
            break
    return total


def expr_min_length(expr: Expr, values: Mapping[str, float]) -> float:
    if isinstance(expr, Literal):
        return len(expr.text)
    if isinstance(expr, CharClass):
        return INFINITY if class_is_empty(expr) else 1
    if isinstance(expr, AnyChar | Token):
        return 1
    if isinstance(expr, RuleRef):
        return values.get(expr.name, INFINITY)
    if isinstance(expr, Group):
        return alternatives_min_length(expr.alternatives, values)
    if expr.minimum == 0:
        return 0
    return expr.minimum * expr_min_length(expr.item, values)


def nullable_rules(definitions: Mapping[str, Rule]) -> set[str]:
    """Rules that can match the empty string."""
    lengths = min_lengths(definitions)
    return {name for name, length in lengths.items() if length == 0}


def expr_nullable(expr: Expr, nullable: set[str]) -> bool:
    if isinstance(expr, Literal):
        return not expr.text
    if isinstance(expr, CharClass | AnyChar | Token):
        return False
    if isinstance(expr, RuleRef):
        return expr.name in nullable
    if isinstance(expr, Group):
        # Loops rather than any(all(...)): fewer frames per level of nesting.
        for alt in expr.alternatives:
            for item in alt.items:
                if not expr_nullable(item, nullable):
                    break
            else:
                return True
        return False
    return expr.minimum == 0 or expr_nullable(expr.item, nullable)


# llama.cpp's left-recursion check only skips a leading rule that has a literally empty
# alternative after its expansion. These functions model exactly that notion.


def _emits_nothing(expr: Expr) -> bool:
    """The element disappears when llama.cpp expands it (`""`, `x{0}`)."""
    if isinstance(expr, Literal):
        return not expr.text
    if isinstance(expr, Repeat):
        maximum = expr.effective_maximum
        if maximum == 0:
            return True
        return maximum == expr.minimum and _emits_nothing(expr.item)
    return False


def literally_empty_rules(definitions: Mapping[str, Rule]) -> set[str]:
    return {
        name
        for name, rule in definitions.items()
        if any(all(_emits_nothing(item) for item in alt.items) for alt in rule.alternatives)
    }


def llama_skippable(expr: Expr, literally_empty: set[str]) -> bool:
    """Whether llama.cpp's left-recursion walk looks past this element."""
    if isinstance(expr, Literal):
        return not expr.text
    if isinstance(expr, CharClass | AnyChar | Token):
        return False
    if isinstance(expr, RuleRef):
        return expr.name in literally_empty
    if isinstance(expr, Group):
        # A group becomes a helper rule; it is skipped if one alternative emits nothing.
        return any(all(_emits_nothing(i) for i in alt.items) for alt in expr.alternatives)
    # `x*`, `x?` and `x{0,n}` become helper rules with an empty alternative.
    return expr.minimum == 0 or llama_skippable(expr.item, literally_empty)


def left_references(
    items: tuple[Expr, ...], skippable: Callable[[Expr], bool], prefix: tuple[Expr, ...] = ()
) -> Iterator[tuple[RuleRef, tuple[Expr, ...]]]:
    """References that can come first in `items`, each with the skippable items before it."""
    for item in items:
        yield from _expr_left_references(item, skippable, prefix)
        if not skippable(item):
            return
        prefix = (*prefix, item)


def _expr_left_references(
    expr: Expr, skippable: Callable[[Expr], bool], prefix: tuple[Expr, ...]
) -> Iterator[tuple[RuleRef, tuple[Expr, ...]]]:
    if isinstance(expr, RuleRef):
        yield expr, prefix
    elif isinstance(expr, Group):
        for alt in expr.alternatives:
            yield from left_references(alt.items, skippable, prefix)
    elif isinstance(expr, Repeat) and expr.effective_maximum != 0:
        yield from _expr_left_references(expr.item, skippable, prefix)
