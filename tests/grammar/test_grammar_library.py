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


@pytest.mark.parametrize(
    ("name", "admitted", "refused"),
    [
        ("chess-move", ["e4", "exd8=Q#", "e1=N", "Nxf3+", "O-O"], ["e8", "e4=Q", "exd1"]),
        ("sql-select", ["SELECT my_col FROM t_1;"], ["SELECT my-col FROM t;"]),
        ("arithmetic", ["0", "7645", "10 + 0 * (3 - 20)"], ["07645", "1 + 00"]),
    ],
)
def test_example_admits_what_it_describes_and_no_more(
    name: str, admitted: list[str], refused: list[str]
) -> None:
    matcher = Matcher(get_example(name).source)
    for text in admitted:
        assert matcher.match(text).ok, text
    for text in refused:
        assert not matcher.match(text).ok, text


def test_get_example_unknown_name_lists_the_names() -> None:
    assert get_example("yes-no").source.startswith("#")
    with pytest.raises(KeyError, match=r"available: .*yes-no"):
        get_example("nope")
