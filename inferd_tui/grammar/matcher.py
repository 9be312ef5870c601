"""Does a string belong to a grammar's language? An Earley recogniser over characters.

The grammar is flattened into numbered productions; unbounded repetitions become
left-recursive helper rules (`H ::= ε | H x`), which Earley handles in linear time, and a
repetition of a repetition (`(x*)*`) becomes one repetition, which admits the same strings
without the quadratic choice of where each copy ends. Right recursion (`r ::= "a" r | ""`,
and the chains that bounded repetitions become) is linear too, by Leo's shortcut for chains
of completions. Empty rules use Aycock and Horspool's fix (a nullable
symbol is skipped at prediction time). Rules that can never finish are dropped first, so
every prefix the recogniser keeps alive really extends to a match and the failure offset is
exactly the end of the longest viable prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inferd_tui.grammar.analysis import class_is_empty, class_spans
from inferd_tui.grammar.compile import usable_grammar
from inferd_tui.grammar.diagnostics import LineIndex
from inferd_tui.grammar.nodes import (
    SURROGATE_FIRST,
    SURROGATE_LAST,
    AnyChar,
    CharClass,
    Expr,
    Grammar,
    Group,
    Literal,
    Repeat,
    RuleRef,
    Sequence,
    Token,
)
from inferd_tui.grammar.printer import print_class, print_literal

END_OF_INPUT = "end of input"
# Classes with at most this many characters are matched with a set lookup.
_SET_CLASS_LIMIT = 1024

_COMPLETE, _NONTERMINAL, _TERMINAL = 0, 1, 2

CharTest = Callable[[str], bool]


@dataclass(frozen=True)
class MatchResult:
    """`ok`, or where the text stops being a prefix of any string in the language.

    `offset` is 0-based (`len(text)` when the text is a viable prefix that ends too early);
    `expected` lists what could come there, e.g. `"yes"`, `[0-9]` or `end of input`.
    """

    ok: bool
    offset: int | None = None
    expected: tuple[str, ...] = ()
    line: int | None = None
    column: int | None = None

    def describe(self) -> str:
        """A one-line explanation: `match`, or where it failed and what was expected."""
        if self.ok:
            return "match"
        return f"no match at {self.line}:{self.column}: expected {_join_or(self.expected)}"

    def render(self, text: str) -> str:
        """The explanation plus the failing line of `text` and a caret under the offset."""
        if self.ok or self.offset is None or self.line is None or self.column is None:
            return self.describe()
        line_text = LineIndex(text).line_text(self.line)
        shown = _visible(line_text[: self.column - 1])
        rest = _visible(line_text[self.column - 1 :])
        return f"{self.describe()}\n  {shown}{rest}\n  {' ' * len(shown)}^"


def _visible(text: str) -> str:
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _join_or(items: tuple[str, ...]) -> str:
    if not items:
        return "nothing (no string can continue here)"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


class Matcher:
    """Compiles a grammar once; `match()` then checks any number of strings."""

    def __init__(self, grammar_or_source: Grammar | str) -> None:
        self.grammar = usable_grammar(grammar_or_source, "match")
        builder = _Builder(self.grammar)
        builder.build()
        self._tables = builder.tables()

    def match(self, text: str) -> MatchResult:
        (
            kinds,
            symbols,
            next_state,
            lhs,
            tests,
            descriptions,
            starts,
            nullable,
            start_state,
            accept_state,
        ) = self._tables
        length = len(text)
        waiting_at: list[dict[int, list[tuple[int, int]]]] = []
        # Per finished set and symbol: the top of its chain of completions, or None.
        leo_at: list[dict[int, tuple[int, int] | None]] = []

        def chain_top(origin: int, symbol: int) -> tuple[int, int] | None:
            """Leo's shortcut: when completing `symbol` from set `origin` only completes a
            chain of items, each the one item waiting in its set and waiting on its last
            symbol, the completed item at the top of the chain stands for the whole chain."""
            path: list[tuple[int, int]] = []
            on_path: set[tuple[int, int]] = set()
            top: tuple[int, int] | None = None
            while True:
                known = leo_at[origin]
                if symbol in known:
                    top = known[symbol] or top
                    break
                parents = waiting_at[origin].get(symbol, ())
                if len(parents) != 1 or kinds[next_state[parents[0][0]]] != _COMPLETE:
                    known[symbol] = None
                    break
                if (origin, symbol) in on_path:
                    top = None  # a cycle of unit rules: complete it the ordinary way
                    break
                path.append((origin, symbol))
                on_path.add((origin, symbol))
                parent_state, parent_origin = parents[0]
                top = (next_state[parent_state], parent_origin)
                origin, symbol = parent_origin, lhs[parent_state]
            for step_origin, step_symbol in path:
                leo_at[step_origin][step_symbol] = top
            return top

        items: list[tuple[int, int]] = [(start_state, 0)]
        seen: set[tuple[int, int]] = {(start_state, 0)}
        for position in range(length + 1):
            waiting: dict[int, list[tuple[int, int]]] = {}
            predicted: set[int] = set()
            scans: list[tuple[int, int]] = []
            accepted = False
            k = 0
            while k < len(items):
                state, origin = items[k]
                k += 1
                kind = kinds[state]
                if kind == _NONTERMINAL:
                    symbol = symbols[state]
                    waiting.setdefault(symbol, []).append((state, origin))
                    if symbol not in predicted:
                        predicted.add(symbol)
                        for first in starts[symbol]:
                            item = (first, position)
                            if item not in seen:
                                seen.add(item)
                                items.append(item)
                    if symbol in nullable:
                        item = (next_state[state], origin)
                        if item not in seen:
                            seen.add(item)
                            items.append(item)
                elif kind == _TERMINAL:
                    scans.append((state, origin))
                else:
                    if state == accept_state:
                        accepted = True
                        continue
                    if origin == position:
                        parents = waiting.get(lhs[state], ())
                    else:
                        top = chain_top(origin, lhs[state])
                        if top is not None:
                            if top not in seen:
                                seen.add(top)
                                items.append(top)
                            continue
                        parents = waiting_at[origin].get(lhs[state], ())
                    for parent_state, parent_origin in parents:
                        item = (next_state[parent_state], parent_origin)
                        if item not in seen:
                            seen.add(item)
                            items.append(item)
            waiting_at.append(waiting)
            leo_at.append({})
            if position == length:
                if accepted:
                    return MatchResult(True)
                return self._failure(text, position, scans, descriptions, accepted)
            char = text[position]
            items = []
            seen = set()
            for state, origin in scans:
                if tests[state](char):
                    item = (next_state[state], origin)
                    if item not in seen:
                        seen.add(item)
                        items.append(item)
            if not items:
                return self._failure(text, position, scans, descriptions, accepted)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _failure(
        text: str,
        position: int,
        scans: list[tuple[int, int]],
        descriptions: list[str],
        accepted: bool,
    ) -> MatchResult:
        expected = list(dict.fromkeys(descriptions[state] for state, _ in scans))
        if accepted:
            expected.append(END_OF_INPUT)
        line, column = LineIndex(text).line_col(position)
        return MatchResult(False, position, tuple(expected), line, column)


def match(grammar_or_source: Grammar | str, text: str) -> MatchResult:
    """Whether `text` is in the grammar's language; if not, where and what was expected.

    Raises InvalidGrammarError for a grammar with errors and TokenGrammarError for one that
    uses model tokens.
    """
    return Matcher(grammar_or_source).match(text)


# Symbols in productions: a nonterminal id (>= 0) or a terminal `~index` (< 0).
_Production = tuple[int, tuple[int, ...]]


class _Builder:
    def __init__(self, grammar: Grammar) -> None:
        self.definitions = grammar.definitions()
        self.rule_ids = {name: index for index, name in enumerate(self.definitions)}
        self.symbol_count = len(self.rule_ids)
        self.productions: list[_Production] = []
        self.terminals: list[tuple[CharTest, str]] = []
        self.class_tests: dict[CharClass, CharTest] = {}
        # id(expr) -> its symbol, for items that innermost_repeated takes out of their rule.
        self.shared_symbols: dict[int, int] = {}

    def new_symbol(self) -> int:
        self.symbol_count += 1
        return self.symbol_count - 1

    def terminal(self, test: CharTest, description: str) -> int:
        self.terminals.append((test, description))
        return ~(len(self.terminals) - 1)

    def build(self) -> None:
        for name, rule in self.definitions.items():
            for alt in rule.alternatives:
                self.productions.append((self.rule_ids[name], self.sequence(alt)))
        self.start_symbol = self.new_symbol()
        self.productions.append((self.start_symbol, (self.rule_ids["root"],)))

    def sequence(self, sequence: Sequence) -> tuple[int, ...]:
        symbols: list[int] = []
        for item in sequence.items:
            symbols.extend(self.expr(item))
        return tuple(symbols)

    def expr(self, expr: Expr) -> list[int]:
        if isinstance(expr, Literal):
            text = expr.text
            return [
                self.terminal(char.__eq__, print_literal(text[index:]))
                for index, char in enumerate(text)
            ]
        if isinstance(expr, CharClass):
            return [self.terminal(self.class_test(expr), print_class(expr))]
        if isinstance(expr, AnyChar):
            return [self.terminal(_any_char, "any character")]
        if isinstance(expr, RuleRef):
            return [self.rule_ids[expr.name]]
        if isinstance(expr, Group):
            if len(expr.alternatives) == 1:
                return list(self.sequence(expr.alternatives[0]))
            symbol = self.new_symbol()
            for alt in expr.alternatives:
                self.productions.append((symbol, self.sequence(alt)))
            return [symbol]
        if isinstance(expr, Token):  # pragma: no cover - usable_grammar refuses tokens
            raise AssertionError("tokens cannot be matched")
        return self.repeat(expr)

    def single(self, expr: Expr) -> int:
        """`expr` as one symbol, wrapping it in a helper rule when it is longer."""
        symbols = self.expr(expr)
        if len(symbols) == 1:
            return symbols[0]
        symbol = self.new_symbol()
        self.productions.append((symbol, tuple(symbols)))
        return symbol

    def shared(self, expr: Expr) -> int:
        """`expr` as one symbol, built once: it may come from another rule, and may contain
        this very repetition again (`r ::= ("a" | r+)*`), so its symbol exists before its body."""
        if not isinstance(expr, Group | Repeat):
            return self.single(expr)  # a leaf: building it cannot come back here
        symbol = self.shared_symbols.get(id(expr))
        if symbol is None:
            symbol = self.shared_symbols[id(expr)] = self.new_symbol()
            self.productions.append((symbol, tuple(self.expr(expr))))
        return symbol

    def repeat(self, expr: Repeat) -> list[int]:
        maximum = expr.effective_maximum
        if maximum == 0:
            return []
        minimum = expr.minimum
        repeated = expr.item
        if maximum is None:
            repeated, minimum = self.innermost_repeated(repeated, minimum)
        item = self.single(expr.item) if repeated is expr.item else self.shared(repeated)
        symbols = [item] * minimum
        if maximum is None:
            star = self.new_symbol()
            self.productions.append((star, ()))
            self.productions.append((star, (star, item)))
            symbols.append(star)
        elif maximum > minimum:
            # up_to[j] matches 0..j copies: up_to[j] ::= ε | item up_to[j-1]. Right recursion,
            # as llama.cpp expands it: each position predicts one of them, and Leo's shortcut
            # completes the chain, so `x{0,2000}` is linear.
            previous = None
            for _ in range(maximum - minimum):
                current = self.new_symbol()
                self.productions.append((current, ()))
                body = (item,) if previous is None else (item, previous)
                self.productions.append((current, body))
                previous = current
            assert previous is not None
            symbols.append(previous)
        return symbols

    def innermost_repeated(self, item: Expr, minimum: int) -> tuple[Expr, int]:
        """What an unbounded repetition repeats, and how often at least, seen through nesting.

        `(y{a,b})*` is `y*` and `(y{a,b})+` is `y{a,}` whenever a <= 1 <= b (b may be
        unbounded): every run of `y` splits into such copies. The inner repetition may sit in
        a one-item group or be a rule's only item.
        """
        looked_up: set[str] = set()
        while minimum <= 1:
            inner = item
            while True:
                if isinstance(inner, RuleRef) and inner.name not in looked_up:
                    looked_up.add(inner.name)
                    alternatives = self.definitions[inner.name].alternatives
                elif isinstance(inner, Group):
                    alternatives = inner.alternatives
                else:
                    break
                if len(alternatives) != 1 or len(alternatives[0].items) != 1:
                    break
                inner = alternatives[0].items[0]
            if not isinstance(inner, Repeat) or inner.minimum > 1 or inner.effective_maximum == 0:
                break
            item, minimum = inner.item, minimum * inner.minimum
        return item, minimum

    def class_test(self, char_class: CharClass) -> CharTest:
        cached = self.class_tests.get(char_class)
        if cached is not None:
            return cached
        if class_is_empty(char_class):
            return _never
        ranges = [(low, high) for low, high in char_class.ranges if low <= high]
        size = sum(ord(high) - ord(low) + 1 for low, high in ranges)
        test: CharTest
        if size > _SET_CLASS_LIMIT:
            test = char_class.contains
        elif char_class.negated:
            excluded = frozenset(
                chr(code) for low, high in ranges for code in range(ord(low), ord(high) + 1)
            )

            def test(char: str) -> bool:
                return char not in excluded and not SURROGATE_FIRST <= char <= SURROGATE_LAST
        else:
            test = frozenset(
                chr(code) for low, high in class_spans(char_class) for code in range(low, high + 1)
            ).__contains__
        self.class_tests[char_class] = test
        return test

    def tables(
        self,
    ) -> tuple[
        list[int],
        list[int],
        list[int],
        list[int],
        list[CharTest],
        list[str],
        list[list[int]],
        frozenset[int],
        int,
        int,
    ]:
        productions = self._productive_productions()
        nullable = self._nullable(productions)
        kinds: list[int] = []
        symbols: list[int] = []
        next_state: list[int] = []
        lhs: list[int] = []
        tests: list[CharTest] = []
        descriptions: list[str] = []
        starts: list[list[int]] = [[] for _ in range(self.symbol_count)]
        accept_state = -1
        start_state = -1
        for head, body in productions:
            first = len(kinds)
            starts[head].append(first)
            if head == self.start_symbol:
                start_state = first
                accept_state = first + len(body)
            for dot in range(len(body) + 1):
                state = first + dot
                lhs.append(head)
                next_state.append(state + 1)
                if dot == len(body):
                    kinds.append(_COMPLETE)
                    symbols.append(-1)
                    tests.append(_never)
                    descriptions.append("")
                elif body[dot] >= 0:
                    kinds.append(_NONTERMINAL)
                    symbols.append(body[dot])
                    tests.append(_never)
                    descriptions.append("")
                else:
                    test, description = self.terminals[~body[dot]]
                    kinds.append(_TERMINAL)
                    symbols.append(-1)
                    tests.append(test)
                    descriptions.append(description)
        if start_state < 0:
            # `root` cannot finish: a start state with nothing to do fails at offset 0.
            start_state = accept_state = len(kinds)
            kinds.append(_TERMINAL)
            symbols.append(-1)
            next_state.append(start_state)
            lhs.append(self.start_symbol)
            tests.append(_never)
            descriptions.append("nothing (`root` can never finish)")
        return (
            kinds,
            symbols,
            next_state,
            lhs,
            tests,
            descriptions,
            starts,
            frozenset(nullable),
            start_state,
            -2 if accept_state == start_state else accept_state,
        )

    def _productive_productions(self) -> list[_Production]:
        """Drop productions that use a symbol which can never finish or a class matching nothing."""
        dead_terminals = {
            ~index for index, (test, _) in enumerate(self.terminals) if test is _never
        }
        _, kept = _derivable(self.productions, lambda terminal: terminal not in dead_terminals)
        return [production for production, keep in zip(self.productions, kept, strict=True) if keep]

    @staticmethod
    def _nullable(productions: list[_Production]) -> set[int]:
        nullable, _ = _derivable(productions, lambda terminal: False)
        return nullable


def _derivable(
    productions: list[_Production], usable: Callable[[int], bool]
) -> tuple[set[int], list[bool]]:
    """The symbols that derive a string of `usable` terminals, and the productions that do.

    A worklist: each production counts the nonterminals it still waits for, and a symbol
    that starts to derive ticks off only the productions that use it.
    """
    waiting: list[int] = []
    users: dict[int, list[int]] = {}
    ready: list[int] = []
    for index, (head, body) in enumerate(productions):
        if not all(usable(symbol) for symbol in body if symbol < 0):
            waiting.append(-1)  # never derives: it is not in `users`, so it stays below 0
            continue
        nonterminals = [symbol for symbol in body if symbol >= 0]
        waiting.append(len(nonterminals))
        for symbol in nonterminals:
            users.setdefault(symbol, []).append(index)
        if not nonterminals:
            ready.append(head)
    derives: set[int] = set()
    while ready:
        symbol = ready.pop()
        if symbol in derives:
            continue
        derives.add(symbol)
        for index in users.get(symbol, ()):
            waiting[index] -= 1
            if waiting[index] == 0:
                ready.append(productions[index][0])
    return derives, [count == 0 for count in waiting]


def _any_char(char: str) -> bool:
    return not SURROGATE_FIRST <= char <= SURROGATE_LAST


def _never(char: str) -> bool:
    return False
