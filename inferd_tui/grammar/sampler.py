"""Random strings a grammar admits, seeded and bounded in length.

Each node knows the length of its shortest string, so every choice leaves room for what must
still follow and a string never exceeds `max_length`. Past a depth limit every choice takes
the shortest, shallowest option, which always terminates. Generation uses an explicit stack,
so deep grammars cannot hit Python's recursion limit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping

from inferd_tui.grammar.analysis import INFINITY, class_is_empty, class_spans, fixpoint
from inferd_tui.grammar.compile import usable_grammar
from inferd_tui.grammar.diagnostics import EmptyLanguageError
from inferd_tui.grammar.nodes import (
    SURROGATE_FIRST,
    SURROGATE_LAST,
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


# Characters `.` and negated classes draw from: printable ASCII, weighted towards letters
# and spaces (listed several times) so that free text in a sample reads like words rather
# than line noise; every printable character can still appear.
def _reading_weight(char: str) -> int:
    if char.islower():
        return 6
    if char == " ":
        return 3
    return 2 if char.isalnum() else 1


_FREE_TEXT_POOL = [
    chr(code) for code in range(0x20, 0x7F) for _ in range(_reading_weight(chr(code)))
]
_FALLBACK_POOL = [chr(code) for code in range(0xA1, 0x250)]
_SURROGATE_CODES = (ord(SURROGATE_FIRST), ord(SURROGATE_LAST))
# Below this many characters a class is listed outright; above, ranges are drawn from.
_LISTED_CLASS_LIMIT = 4096
# After this many nested choices, every choice takes the shortest option.
_FREE_DEPTH = 40
_CONTINUE_PROBABILITY = 0.5

_LIT, _CHARS, _REF, _ALT, _SEQ, _REP = range(6)

Measure = tuple[float, float]  # (shortest length, smallest height of a shortest derivation)


class _Node:
    __slots__ = (
        "chars",
        "items",
        "kind",
        "maximum",
        "measure",
        "minimum",
        "ranges",
        "target",
        "text",
        "weights",
    )

    def __init__(self, kind: int, measure: Measure) -> None:
        self.kind = kind
        self.measure = measure
        self.text = ""
        self.items: list[_Node] = []
        self.target: _Node | None = None
        self.minimum = 0
        self.maximum: int | None = None
        self.chars: list[str] = []
        self.ranges: list[tuple[int, int]] = []
        self.weights: list[int] = []


class Sampler:
    """Compiles a grammar once; `sample_one()` then draws strings quickly."""

    def __init__(self, grammar_or_source: Grammar | str) -> None:
        self.grammar = usable_grammar(grammar_or_source, "sample")
        self._definitions = self.grammar.definitions()
        self._measures = _rule_measures(self._definitions)
        self._rules: dict[str, _Node] = {}
        for name in self._definitions:
            self._rules[name] = _Node(_ALT, self._measures[name])
        for name, rule in self._definitions.items():
            self._rules[name].items = [self._sequence(alt) for alt in rule.alternatives]
        self._root = self._rules["root"]

    @property
    def shortest_length(self) -> float:
        """Length of the shortest string the grammar admits (infinity if none)."""
        return self._root.measure[0]

    def sample_one(self, rng: random.Random | None = None, max_length: int = 200) -> str:
        """One string of at most `max_length` characters (or the shortest one, if longer)."""
        rng = rng or random.Random()
        if self._root.measure[0] == INFINITY:
            raise EmptyLanguageError("cannot sample: `root` admits no finite string")
        limit = max(max_length, int(self._root.measure[0]))
        out: list[str] = []
        produced = 0
        # Frames: (node, absolute length limit, depth) or, for repetitions in progress,
        # (node, limit, depth, copies made, copies wanted).
        stack: list[tuple[_Node, int, int] | tuple[_Node, int, int, int, int]] = [
            (self._root, limit, 0)
        ]
        choice = rng.choice
        uniform = rng.random
        while stack:
            frame = stack.pop()
            node, limit, depth = frame[0], frame[1], frame[2]
            kind = node.kind
            if kind == _LIT:
                out.append(node.text)
                produced += len(node.text)
            elif kind == _CHARS:
                out.append(_pick_char(node, rng))
                produced += 1
            elif kind == _SEQ:
                reserve = 0.0
                for item in reversed(node.items):
                    stack.append((item, int(limit - reserve), depth))
                    reserve += item.measure[0]
            elif kind == _REF:
                assert node.target is not None
                stack.append((node.target, limit, depth))
            elif kind == _ALT:
                room = limit - produced
                options = node.items
                if depth >= _FREE_DEPTH:
                    picked = min(options, key=_measure_of)
                else:
                    feasible = [o for o in options if o.measure[0] <= room]
                    picked = choice(feasible) if feasible else min(options, key=_measure_of)
                stack.append((picked, limit, depth + 1))
            else:
                item = node.items[0]
                item_length = item.measure[0]
                if len(frame) == 3:
                    wanted = node.minimum
                    if depth < _FREE_DEPTH:
                        wanted += _extra_copies(node, uniform)
                    made = 0
                else:
                    made, wanted = frame[3], frame[4]
                if made >= wanted or item_length == INFINITY:
                    continue
                mandatory_left = max(0, node.minimum - made - 1)
                copy_limit = int(limit - mandatory_left * item_length)
                if made >= node.minimum and produced + item_length > copy_limit:
                    continue  # no room for another optional copy
                stack.append((node, limit, depth, made + 1, wanted))
                stack.append((item, copy_limit, depth + 1))
        return "".join(out)

    def sample(
        self,
        n: int = 5,
        *,
        seed: int | None = 0,
        max_length: int = 200,
        rng: random.Random | None = None,
    ) -> list[str]:
        """`n` strings; the same seed gives the same strings. `rng` overrides `seed`."""
        generator = rng if rng is not None else random.Random(seed)
        return [self.sample_one(generator, max_length) for _ in range(n)]

    # -- compilation ---------------------------------------------------------------------

    def _sequence(self, sequence: Sequence) -> _Node:
        items = [self._expr(item) for item in sequence.items]
        if len(items) == 1:
            return items[0]
        node = _Node(_SEQ, _sequence_measure([item.measure for item in items]))
        node.items = items
        return node

    def _expr(self, expr: Expr) -> _Node:
        if isinstance(expr, Literal):
            node = _Node(_LIT, (len(expr.text), 0))
            node.text = expr.text
            return node
        if isinstance(expr, CharClass | AnyChar):
            return _char_node(expr)
        if isinstance(expr, RuleRef):
            target = self._rules[expr.name]
            node = _Node(_REF, target.measure)
            node.target = target
            return node
        if isinstance(expr, Group):
            options = [self._sequence(alt) for alt in expr.alternatives]
            if len(options) == 1:
                return options[0]
            node = _Node(_ALT, _alternatives_measure([o.measure for o in options]))
            node.items = options
            return node
        if isinstance(expr, Token):  # pragma: no cover - usable_grammar refuses tokens
            raise AssertionError("tokens cannot be sampled")
        item = self._expr(expr.item)
        node = _Node(_REP, _repeat_measure(item.measure, expr.minimum))
        node.items = [item]
        node.minimum = expr.minimum
        node.maximum = expr.effective_maximum
        return node


def _measure_of(node: _Node) -> Measure:
    return node.measure


def _extra_copies(node: _Node, draw: Callable[[], float]) -> int:
    if node.maximum is None:
        extra = 0
        while draw() < _CONTINUE_PROBABILITY:
            extra += 1
        return extra
    span = node.maximum - node.minimum
    return min(span, int(draw() * (span + 1)))


def _pick_char(node: _Node, rng: random.Random) -> str:
    if node.chars:
        return node.chars[int(rng.random() * len(node.chars))]
    for _ in range(8):
        low, high = rng.choices(node.ranges, weights=node.weights)[0]
        char = chr(rng.randint(low, high))
        if char.isprintable():
            return char
    return chr(node.ranges[0][0])


def _char_node(expr: CharClass | AnyChar) -> _Node:
    """A node that draws one character the class allows (class_spans decides which)."""
    if isinstance(expr, CharClass) and class_is_empty(expr):
        return _Node(_CHARS, (INFINITY, INFINITY))
    node = _Node(_CHARS, (1, 0))
    if isinstance(expr, AnyChar) or expr.negated:
        pool = [c for c in _FREE_TEXT_POOL if expr_contains(expr, c)]
        if not pool:
            pool = [c for c in _FALLBACK_POOL if expr_contains(expr, c) and c.isprintable()]
        if pool:
            node.chars = pool
            return node
    assert isinstance(expr, CharClass)  # `.` always allows printable ASCII
    # A positive class is listed in the order written, so samples do not depend on merging.
    spans = (
        list(class_spans(expr))
        if expr.negated
        else [(ord(low), ord(high)) for low, high in expr.ranges if low <= high]
    )
    total = sum(high - low + 1 for low, high in spans)
    if total <= _LISTED_CLASS_LIMIT:
        listed = dict.fromkeys(
            chr(code)
            for low, high in spans
            for code in range(low, high + 1)
            if not _SURROGATE_CODES[0] <= code <= _SURROGATE_CODES[1]
        )
        node.chars = list(listed)
    else:
        node.ranges = list(class_spans(expr))
        node.weights = [high - low + 1 for low, high in node.ranges]
    return node


def expr_contains(expr: CharClass | AnyChar, char: str) -> bool:
    return True if isinstance(expr, AnyChar) else expr.contains(char)


# -- measures: (shortest length, smallest height among shortest derivations) ----------------


def _sequence_measure(measures: list[Measure]) -> Measure:
    if not measures:
        return (0, 0)
    length = sum(m[0] for m in measures)
    if length == INFINITY:
        return (INFINITY, INFINITY)
    return (length, 1 + max(m[1] for m in measures))


def _alternatives_measure(measures: list[Measure]) -> Measure:
    return min(measures, default=(INFINITY, INFINITY))


def _repeat_measure(item: Measure, minimum: int) -> Measure:
    if minimum == 0:
        return (0, 0)
    if item[0] == INFINITY:
        return (INFINITY, INFINITY)
    return (item[0] * minimum, item[1] + 1)


def _expr_measure(expr: Expr, rules: Mapping[str, Measure]) -> Measure:
    if isinstance(expr, Literal):
        return (len(expr.text), 0)
    if isinstance(expr, CharClass):
        return (INFINITY, INFINITY) if class_is_empty(expr) else (1, 0)
    if isinstance(expr, AnyChar | Token):
        return (1, 0)
    if isinstance(expr, RuleRef):
        return rules.get(expr.name, (INFINITY, INFINITY))
    if isinstance(expr, Group):
        return _alternatives_measure(
            [
                _sequence_measure([_expr_measure(i, rules) for i in a.items])
                for a in expr.alternatives
            ]
        )
    return _repeat_measure(_expr_measure(expr.item, rules), expr.minimum)


def _rule_measures(definitions: Mapping[str, Rule]) -> dict[str, Measure]:
    """Each rule's measure, as a fixpoint over the rules that use a changed one."""

    def rule_measure(rule: Rule, measures: dict[str, Measure]) -> Measure:
        return _alternatives_measure(
            [
                _sequence_measure([_expr_measure(i, measures) for i in alt.items])
                for alt in rule.alternatives
            ]
        )

    return fixpoint(definitions, rule_measure, (INFINITY, INFINITY))


def sample(
    grammar_or_source: Grammar | str,
    n: int = 5,
    *,
    seed: int | None = 0,
    max_length: int = 200,
    rng: random.Random | None = None,
) -> list[str]:
    """`n` random strings the grammar admits, each at most `max_length` characters.

    Raises InvalidGrammarError for a grammar with errors, TokenGrammarError for one that uses
    model tokens, and EmptyLanguageError when `root` admits no finite string.
    """
    if n < 0 or max_length < 0:
        raise ValueError("n and max_length must not be negative")
    sampler = Sampler(grammar_or_source)
    if sampler.shortest_length > max_length:
        shortest = sampler.shortest_length
        raise EmptyLanguageError(
            "cannot sample: `root` admits no finite string"
            if math.isinf(shortest)
            else f"cannot sample: the shortest string is {int(shortest)} characters, "
            f"over max_length {max_length}"
        )
    return sampler.sample(n, seed=seed, max_length=max_length, rng=rng)
