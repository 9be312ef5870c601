"""Hypothesis: samples always match, print/parse is stable, any text only yields diagnostics."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferd_tui.grammar import (
    EXAMPLES,
    AnyChar,
    CharClass,
    EmptyLanguageError,
    Expr,
    Grammar,
    Group,
    Literal,
    Matcher,
    Repeat,
    Rule,
    RuleRef,
    Sampler,
    Sequence,
    check,
    print_grammar,
    tokenize,
)
from inferd_tui.grammar.analysis import min_lengths

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHABET = 'ab-]"\\^\n\t é\U0001f600'
# Class bounds also reach the surrogates and the astral planes.
CLASS_CHARS = ALPHABET + "\x00\u3000\ud7ff\ud800\udfff\ue000\uffff\U00010000\U0010ffff"
RULE_NAMES = ["root", "r1", "r2", "r3"]


def class_ranges() -> st.SearchStrategy[tuple[str, str]]:
    char = st.sampled_from(CLASS_CHARS)
    written = st.tuples(char, char).map(lambda pair: (min(pair), max(pair)))
    # From the bottom of Unicode to far above ASCII: negated, such a range leaves only rare
    # or astral characters, or none at all.
    wide = st.tuples(
        st.sampled_from("\x00 "),
        st.sampled_from(["\u2fff", "\uffff", "\U0001f600", "\U0010fffe", "\U0010ffff"]),
    )
    return written | wide


def expressions(names: list[str]) -> st.SearchStrategy[Expr]:
    leaves: st.SearchStrategy[Expr] = st.one_of(
        st.builds(Literal, st.text(ALPHABET, max_size=3)),
        st.builds(
            CharClass,
            st.lists(class_ranges(), min_size=1, max_size=3).map(tuple),
            st.booleans(),
        ),
        st.just(AnyChar()),
    )
    if names:
        leaves = leaves | st.sampled_from(names).map(RuleRef)

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        sequences = st.lists(inner, max_size=3).map(lambda items: Sequence(tuple(items)))
        bounds = st.sampled_from([(0, None), (1, None), (0, 1), (2, 2), (0, 3), (1, 2), (2, None)])
        return st.one_of(
            st.lists(sequences, min_size=1, max_size=3).map(lambda a: Group(tuple(a))),
            st.tuples(inner, bounds).map(lambda p: Repeat(p[0], p[1][0], p[1][1])),
        )

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def grammars(draw: st.DrawFn) -> Grammar:
    count = draw(st.integers(1, len(RULE_NAMES)))
    rules = []
    for position in range(count):
        # Only later rules are referenced, so there is no left recursion to reject.
        later = RULE_NAMES[position + 1 : count]
        items = st.lists(expressions(later), min_size=1, max_size=3)
        alternatives = [
            Sequence(tuple(seq)) for seq in draw(st.lists(items, min_size=1, max_size=3))
        ]
        if draw(st.booleans()):
            alternatives.insert(0, Sequence(()))  # an empty alternative is legal first
        rules.append(Rule(RULE_NAMES[position], tuple(alternatives)))
    return Grammar(tuple(rules))


@settings(FAST, max_examples=100)
@given(grammars(), st.integers(0, 2**32))
def test_random_grammar_prints_parses_back_equal_and_samples_match(
    grammar: Grammar, seed: int
) -> None:
    source = print_grammar(grammar)
    result = check(source)
    assert result.grammar == grammar, source
    assert print_grammar(result.grammar) == source
    assert result.ok, [d.format() for d in result.errors]
    sampler = Sampler(grammar)
    # The sampler's own measure of each choice agrees with the checks' shortest lengths.
    assert sampler.shortest_length == min_lengths(grammar.definitions())["root"]
    try:
        strings = sampler.sample(5, seed=seed, max_length=60)
    except EmptyLanguageError:
        return
    matcher = Matcher(grammar)
    for string in strings:
        assert len(string) <= 60
        assert matcher.match(string).ok, (source, string)


@FAST
@given(st.sampled_from(EXAMPLES), st.integers(0, 2**32))
def test_example_samples_always_match(example: object, seed: int) -> None:
    source = example.source  # type: ignore[attr-defined]
    for string in Sampler(source).sample(5, seed=seed):
        assert Matcher(source).match(string).ok


GBNF_ISH = st.lists(
    st.sampled_from([*list('root::=|()[]{}"\\*+?.<>!#^-_ \t\r\nabx0129,'), "::=", "root ::= "]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), GBNF_ISH))
def test_any_text_gives_diagnostics_never_an_exception(source: str) -> None:
    result = check(source)
    for diagnostic in result.diagnostics:
        assert diagnostic.line >= 1
        assert diagnostic.column >= 1
        assert 0 <= diagnostic.offset <= len(source)
        diagnostic.render(source, "x.gbnf")
    if result.grammar is not None:
        assert check(print_grammar(result.grammar)).grammar == result.grammar
    tokens = tokenize(source)
    previous_end = 0
    for token in tokens:
        assert previous_end <= token.start < token.end <= len(source)
        previous_end = token.end


@FAST
@given(st.sampled_from(EXAMPLES), st.text(max_size=40))
def test_matcher_never_raises_and_offset_is_within_text(example: object, text: str) -> None:
    result = Matcher(example.source).match(text)  # type: ignore[attr-defined]
    if not result.ok:
        assert result.offset is not None
        assert 0 <= result.offset <= len(text)
        assert result.expected
