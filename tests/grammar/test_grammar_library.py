"""The example library: clean, sampleable, and its samples match."""

from __future__ import annotations

import pytest

from inferd_tui.grammar import (
    EXAMPLES,
    Example,
    Matcher,
    Sampler,
    check,
    get_example,
    print_grammar,
)

REQUIRED = {
    "yes-no",
    "json-value",
    "json-person",
    "item-list",
    "arithmetic",
    "iso-date",
    "csv-row",
    "sql-select",
    "chess-move",
}


def test_library_has_every_required_example_with_a_description() -> None:
    assert {example.name for example in EXAMPLES} >= REQUIRED
    for example in EXAMPLES:
        assert example.description, example.name
        assert "\n" not in example.description


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_checks_with_no_diagnostics(example: Example) -> None:
    result = check(example.source)
    assert result.diagnostics == []
    assert result.grammar is not None


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_samples_match_and_print_round_trips(example: Example) -> None:
    grammar = check(example.source).grammar
    assert grammar is not None
    matcher = Matcher(grammar)
    strings = Sampler(grammar).sample(30, seed=7, max_length=300)
    for string in strings:
        assert len(string) <= 300
        assert matcher.match(string).ok, string
    assert check(print_grammar(grammar)).grammar == grammar


def test_get_example_unknown_name_lists_the_names() -> None:
    assert get_example("yes-no").source.startswith("#")
    with pytest.raises(KeyError, match=r"available: .*yes-no"):
        get_example("nope")
