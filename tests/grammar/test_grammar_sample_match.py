"""Sampler and matcher on hand-made cases."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable

import pytest

from inferd_tui.grammar import (
    END_OF_INPUT,
    MAX_NESTING,
    EmptyLanguageError,
    Grammar,
    InvalidGrammarError,
    Matcher,
    Sampler,
    TokenGrammarError,
    check,
    get_example,
    match,
    print_grammar,
    sample,
)

YES_NO = 'root ::= "yes" | "no"\n'


def test_sample_is_seeded_and_bounded() -> None:
    json = get_example("json-value").source
    assert sample(json, 20, seed=3) == sample(json, 20, seed=3)
    assert sample(json, 20, seed=3) != sample(json, 20, seed=4)
    assert all(len(s) <= 40 for s in sample(json, 200, seed=1, max_length=40))


def test_sample_with_a_caller_random_generator() -> None:
    sampler = Sampler(YES_NO)
    rng = random.Random(5)
    assert {sampler.sample_one(rng) for _ in range(50)} == {"yes", "no"}
    assert sample(YES_NO, 3, rng=random.Random(1)) == sample(YES_NO, 3, seed=1)


def test_sample_terminates_on_deep_recursion_with_tiny_budget() -> None:
    source = 'root ::= "(" root ")" | "(" root root ")" | "x"\n'
    strings = sample(source, 50, seed=0, max_length=9)
    assert all(len(s) <= 9 and match(source, s).ok for s in strings)


def test_any_char_and_negated_class_sample_printable_characters() -> None:
    for string in sample("root ::= . [^a-z]\n", 100, seed=2):
        assert string.isprintable()
        assert not ("a" <= string[1] <= "z")


def test_free_text_samples_lean_towards_letters_and_spaces() -> None:
    # Uniform printable ASCII would be about 29 % lowercase letters or spaces.
    text = "".join(sample('root ::= [^"]{60}\n', 50, seed=5, max_length=60))
    readable = sum(char.islower() or char == " " for char in text)
    assert readable / len(text) > 0.5


@pytest.mark.parametrize(
    "source",
    [
        "root ::= [^\\x00-\\uFFFF]\n",
        'root ::= "a" [^\\x00-\\uFFFF] "b"\n',
        'root ::= []{3} | "#" [^\\x00-\\u00E9\\]-\\U0001F600]\n',
        "root ::= [^\\x00-\\u2fff]+\n",
        "root ::= [\\U00010000-\\U0010FFFF]\n",
    ],
)
def test_classes_that_allow_only_astral_characters_sample_strings_that_match(
    source: str,
) -> None:
    matcher = Matcher(source)
    for string in sample(source, 30, seed=4):
        assert string and all(ord(char) >= 0x3000 for char in string.strip("ab#"))
        assert matcher.match(string).ok, string


def test_every_alternative_with_a_far_negated_class_is_sampled() -> None:
    strings = set(sample('root ::= "x" [^\\x00-\\u2fff] | "ab"\n', 40, seed=0))
    assert "ab" in strings
    assert any(string.startswith("x") and len(string) == 2 for string in strings)


def test_surrogates_are_never_sampled_or_matched() -> None:
    assert sample("root ::= [\\uD800-\\uE000]\n", 10) == ["\ue000"] * 10
    for source in ("root ::= .\n", "root ::= [^a]\n", "root ::= [\\x00-\\U0010FFFF]\n"):
        assert not match(source, "\ud800").ok, source
    assert not match("root ::= [\\uD000-\\uE000]\n", "\udfff").ok
    assert match("root ::= [\\uD000-\\uE000]\n", "\ud7ff").ok
    with pytest.raises(EmptyLanguageError):
        sample("root ::= [\\uD800-\\uDFFF]\n")
    with pytest.raises(EmptyLanguageError):
        sample("root ::= [^\\x00-\\x7f\\x80-\\U0010FFFF]\n")


def test_sample_refuses_invalid_token_and_too_long_grammars() -> None:
    with pytest.raises(InvalidGrammarError) as invalid:
        sample("root ::= missing\n")
    assert invalid.value.diagnostics[0].message == "undefined rule `missing`"
    with pytest.raises(TokenGrammarError, match="<think>"):
        sample('root ::= <think> "a"\n')
    with pytest.raises(EmptyLanguageError, match="shortest string is 10"):
        sample('root ::= "0123456789"\n', max_length=5)
    with pytest.raises(EmptyLanguageError):
        sample('root ::= "a" root\n')


def test_match_reports_offset_and_expected_literal_remainder() -> None:
    result = match(YES_NO, "yep")
    assert not result.ok
    assert (result.offset, result.line, result.column) == (2, 1, 3)
    assert result.expected == ('"s"',)
    assert match(YES_NO, "").expected == ('"yes"', '"no"')


def test_match_reports_end_of_input_when_text_continues() -> None:
    result = match(YES_NO, "yes!")
    assert result.offset == 3
    assert result.expected == (END_OF_INPUT,)


def test_match_failure_inside_json_lists_what_could_follow() -> None:
    json = get_example("json-value").source
    result = match(json, '{"a": [1, tru]}')
    assert result.offset == 13
    assert result.expected == ('"e"',)
    truncated = match(json, '{"a": 1')
    assert truncated.offset == 7
    assert '","' in truncated.expected
    assert '"}"' in truncated.expected
    assert "[0-9]" in truncated.expected


def test_match_line_and_column_on_later_lines() -> None:
    items = get_example("item-list").source
    result = match(items, "- Apple\n- banana\n")
    assert (result.offset, result.line, result.column) == (10, 2, 3)
    assert result.expected == ("[A-Z]",)
    assert "2:3" in result.render("- Apple\n- banana\n")


def test_match_handles_nullable_and_left_recursive_rules() -> None:
    # llama.cpp misses this left recursion (a warning), but the language is well defined.
    source = 'root ::= expr\nexpr ::= ws expr "+" | "x"\nws ::= [ ]*\n'
    assert match(source, "  x++").ok
    assert match(source, " x+ +").offset == 3
    assert match(source, "x").ok
    assert not match(source, "x++x").ok
    empty = 'root ::= a b a\na ::= | "a"\nb ::= "b"?\n'
    for text in ["", "a", "ab", "aba", "b", "ba"]:
        assert match(empty, text).ok, text
    assert match(empty, "aa").ok
    assert not match(empty, "abab").ok


def test_match_bounded_and_unbounded_repeats() -> None:
    source = 'root ::= "a"{2,4} "b"* [0-9]{3}\n'
    matcher = Matcher(source)
    assert matcher.match("aa123").ok
    assert matcher.match("aaaabbbb123").ok
    assert matcher.match("a123").offset == 1
    assert matcher.match("aaaaa123").offset == 4
    assert matcher.match("aa12").expected == ("[0-9]",)
    # {1,2001} becomes unbounded in llama.cpp.
    assert match('root ::= "a"{1,2001}\n', "a" * 2500).ok


def test_match_rule_that_cannot_finish_fails_at_once() -> None:
    result = match('root ::= "a" | x\nx ::= "b" x\n', "b")
    assert result.offset == 0
    assert result.expected == ('"a"',)


@pytest.mark.parametrize("leaf_first", [False, True])
def test_long_rule_chain_in_either_order_samples_and_matches(leaf_first: bool) -> None:
    rules = [f'r{i} ::= r{i + 1} "a" | "b" r{i + 1}' for i in range(299)] + ['r299 ::= "z"']
    if leaf_first:
        rules.reverse()
    source = "root ::= r0\n" + "\n".join(rules) + "\n"
    sampler = Sampler(source)
    assert sampler.shortest_length == 300
    matcher = Matcher(source)
    for string in sampler.sample(3, max_length=300):
        assert len(string) == 300 and string.count("z") == 1
        assert matcher.match(string).ok
    assert matcher.match("b" * 299 + "z").ok
    short = matcher.match("b" * 298 + "z")
    assert (short.offset, short.expected) == (299, ('"a"',))


def test_match_a_few_kilobytes_quickly() -> None:
    json = get_example("json-value").source
    text = "[" + ", ".join(f'{{"key{i}": [{i}, "value {i}", true, null]}}' for i in range(60)) + "]"
    assert len(text) > 2000
    assert Matcher(json).match(text).ok


def run_with_frame_budget(frames: int, action: Callable[[], None]) -> None:
    """Run `action` in a fresh thread (an empty stack) under a recursion limit of `frames`."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(frames)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        sys.setrecursionlimit(limit)
    if errors:
        raise errors[0]


@pytest.mark.parametrize(
    "source",
    [
        "root ::= " + "(" * MAX_NESTING + '"a"' + ")" * MAX_NESTING + "\n",
        "root ::= " + '("b" | ' * MAX_NESTING + "x" + ")" * MAX_NESTING + '\nx ::= "a"\n',
        'root ::= "a"' + "?" * MAX_NESTING + "\n",
        "root ::= " + "(" * (MAX_NESTING // 2) + '"a"' + ")?" * (MAX_NESTING // 2) + "\n",
    ],
    ids=["groups", "alternatives", "repeats", "repeated-groups"],
)
def test_deepest_allowed_nesting_works_in_half_the_default_recursion_limit(source: str) -> None:
    reparsed: list[Grammar | None] = []

    def every_walker() -> None:
        result = check(source)
        assert result.ok and result.grammar is not None
        reparsed.append(check(print_grammar(result.grammar)).grammar)
        matcher = Matcher(result.grammar)
        for string in Sampler(result.grammar).sample(5, seed=1):
            assert matcher.match(string).ok

    run_with_frame_budget(500, every_walker)
    # Comparing trees recurses too, so it runs with the normal limit.
    assert reparsed == [check(source).grammar]


def test_a_valid_start_that_ends_early_fails_at_its_end() -> None:
    # The transcript reads offset == len(text) as "fits so far, incomplete".
    result = match('root ::= [0-9]{4} "-" [0-9]{2}\n', "1862-0")
    assert not result.ok and result.offset == len("1862-0")
