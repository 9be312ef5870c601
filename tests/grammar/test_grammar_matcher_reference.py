"""The matcher agrees with a slow, obviously correct reference on every string it is given.

The reference computes, for each rule and start position, the set of positions where a match
can end, as a least fixpoint; it knows nothing of Earley items, Leo's shortcut or the
flattening of nested repetitions.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_grammar_properties import FAST, grammars

from inferd_tui.grammar import (
    AnyChar,
    CharClass,
    Expr,
    Grammar,
    Group,
    Literal,
    Matcher,
    Repeat,
    RuleRef,
    Sequence,
    check,
)


def reference_match(grammar: Grammar, text: str) -> bool:
    definitions = grammar.definitions()
    ends: dict[tuple[str, int], frozenset[int]] = {("root", 0): frozenset()}

    def expr_ends(expr: Expr, starts: frozenset[int]) -> frozenset[int]:
        if isinstance(expr, Literal):
            return frozenset(i + len(expr.text) for i in starts if text.startswith(expr.text, i))
        if isinstance(expr, CharClass | AnyChar):
            return frozenset(
                i + 1
                for i in starts
                if i < len(text)
                and (expr.contains(text[i]) if isinstance(expr, CharClass) else True)
            )
        if isinstance(expr, RuleRef):
            found: set[int] = set()
            for i in starts:
                found |= ends.setdefault((expr.name, i), frozenset())
            return frozenset(found)
        if isinstance(expr, Group):
            return alternatives_ends(expr.alternatives, starts)
        assert isinstance(expr, Repeat)
        current = starts
        for _ in range(expr.minimum):
            current = expr_ends(expr.item, current)
        reached = set(current)
        maximum = expr.effective_maximum
        copies = 0
        while current and (maximum is None or copies < maximum - expr.minimum):
            current = expr_ends(expr.item, current) - reached
            reached |= current
            copies += 1
        return frozenset(reached)

    def alternatives_ends(
        alternatives: tuple[Sequence, ...], starts: frozenset[int]
    ) -> frozenset[int]:
        found: set[int] = set()
        for alternative in alternatives:
            current = starts
            for item in alternative.items:
                current = expr_ends(item, current)
            found |= current
        return frozenset(found)

    changed = True
    while changed:
        keys = len(ends)
        changed = False
        for (name, start), known in list(ends.items()):
            found = alternatives_ends(definitions[name].alternatives, frozenset([start]))
            if found != known:
                ends[(name, start)] = found
                changed = True
        changed = changed or len(ends) > keys  # newly referenced (rule, start) pairs
    return len(text) in ends[("root", 0)]


# Right recursion (Leo's shortcut) and repetitions of repetitions (flattened), each next to
# a variant the shortcuts must leave alone.
GRAMMARS = [
    'root ::= "a" root | ""',
    'root ::= "a" root | "b"',
    'root ::= "a" b | ""\nb ::= "b" root',
    'root ::= "a" root "b" | ""',
    'root ::= x*\nx ::= "a"*',
    'root ::= x+ "b"\nx ::= ("a" | "b")+',
    'root ::= ws* "b"\nws ::= " "*',
    'root ::= ("a"{0,2})* "b"?',
    'root ::= ("a" | "a" "b"){0,4} "b"?',
    'root ::= ("a"{1,3} " "?){2,3}',
    'root ::= ("a"{1,2})+',
    'root ::= ("a"{2,3})*',
    'root ::= (("a"? "b"?)+)*',
    'root ::= ("a"* | "b")*',
    'root ::= ("a"*)+ "b"',
    'root ::= (x "a")+ x\nx ::= "b" root | ""',
    'root ::= "a" x | "a" y\nx ::= "b" root | ""\ny ::= "b" root "a" | "b"',
    'root ::= (x)+\nx ::= y\ny ::= "a"+ | ""',
    'root ::= "a"+ root | "b"',
    'root ::= line root | line\nline ::= [a ]{0,3} "b"',
    # The flattened repetition's item contains the repetition again.
    'root ::= ("a" | "b" root+ | " " r?)*\nr ::= (root | "")',
]


@pytest.mark.parametrize("source", GRAMMARS)
def test_matcher_agrees_with_the_reference_on_every_short_string(source: str) -> None:
    grammar = check(source + "\n").grammar
    assert grammar is not None
    matcher = Matcher(grammar)
    for length in range(8):
        for letters in itertools.product("ab ", repeat=length):
            text = "".join(letters)
            assert matcher.match(text).ok == reference_match(grammar, text), (source, text)


def test_right_recursion_and_nested_repetitions_still_fail_at_the_right_offset() -> None:
    assert Matcher('root ::= "a" root | "b"\n').match("aaac").offset == 3
    assert Matcher('root ::= "a" root | ""\n').match("a" * 500 + "b").offset == 500
    nested = Matcher('root ::= x* "c"\nx ::= "a"*\n').match("aaab")
    assert (nested.offset, set(nested.expected)) == (3, {'"a"', '"c"'})
    spaces = Matcher('root ::= ws* "x"\nws ::= " "*\n').match("   ")
    assert (spaces.offset, set(spaces.expected)) == (3, {'" "', '"x"'})


@settings(FAST, max_examples=60)
@given(grammars(), st.lists(st.sampled_from("ab-]é \n"), max_size=6).map("".join))
def test_matcher_agrees_with_the_reference_on_random_grammars(grammar: Grammar, text: str) -> None:
    assert Matcher(grammar).match(text).ok == reference_match(grammar, text)
