"""Each diagnostic class at its exact line and column, and recovery from several errors."""

from __future__ import annotations

import pytest

from inferd_tui.grammar import Diagnostic, Matcher, check, sample


def only(source: str, level: str = "error") -> Diagnostic:
    found = [d for d in check(source).diagnostics if d.level == level]
    assert len(found) == 1, [d.format() for d in check(source).diagnostics]
    return found[0]


def position(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.line, diagnostic.column


def test_valid_grammar_has_no_diagnostics() -> None:
    result = check('root ::= "yes" | "no"\n')
    assert result.ok
    assert result.diagnostics == []
    assert result.grammar is not None


def test_empty_grammar_is_an_error_at_1_1() -> None:
    for source in ("", "   \n# just a comment\n"):
        diagnostic = only(source)
        assert position(diagnostic) == (1, 1)
        assert "empty" in diagnostic.message
        assert not check(source).ok


def test_missing_root_is_an_error_at_1_1() -> None:
    diagnostic = only('\n\nanswer ::= "yes"\n')
    assert position(diagnostic) == (1, 1)
    assert "no `root` rule" in diagnostic.message


def test_undefined_rule_at_the_reference_with_a_suggestion() -> None:
    diagnostic = only('root ::= "a" numbr\nnumber ::= [0-9]\n')
    assert position(diagnostic) == (1, 14)
    assert diagnostic.message == "undefined rule `numbr`"
    assert diagnostic.hint == "did you mean `number`?"


def test_direct_left_recursion_names_the_cycle_and_the_rewrite() -> None:
    diagnostic = only('root ::= expr\nexpr ::= expr "+" term | term\nterm ::= [0-9]\n')
    assert position(diagnostic) == (2, 10)
    assert "`expr -> expr`" in diagnostic.message
    assert diagnostic.hint is not None
    assert '`expr ::= term ("+" term)*`' in diagnostic.hint


def test_indirect_left_recursion_names_the_whole_cycle() -> None:
    diagnostic = only('root ::= a\na ::= b "x" | "y"\nb ::= a "z"\n')
    assert position(diagnostic) == (2, 7)
    assert "`a -> b -> a`" in diagnostic.message


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        (
            'root ::= a\na ::= b "x" | "y"\nb ::= a "z"\n',
            "make one rule of the cycle start with something else, for example write `b` out "
            "in `a`, then turn `a ::= a tail | base` into `a ::= base tail*`",
        ),
        (
            'root ::= expr\nexpr ::= expr | "x" expr\n',
            "the alternative `expr` on its own adds nothing: remove it",
        ),
        (
            "root ::= item\nitem ::= item\n",
            "every alternative of `item` starts with `item`: add one that starts with something "
            "else, then write `item ::= base tail*`",
        ),
        (
            'root ::= sum\nsum ::= ws sum "+" | "x"\nws ::= | " "\n',
            "`ws` can match nothing, so `sum` can start with itself: make `ws` match at least one "
            "character there, or move it after the recursion",
        ),
        ('root ::= "" root "a" | "b"\n', 'remove the `""` before `root`'),
    ],
)
def test_left_recursion_hint_uses_the_grammars_own_names(source: str, hint: str) -> None:
    diagnostic = only(source)
    assert "left recursion" in diagnostic.message
    assert diagnostic.hint == hint


def test_left_recursion_warning_hint_names_the_item_llama_cpp_misses() -> None:
    source = 'root ::= a\na ::= ws ws2 a | "x"\nws ::= | " "\nws2 ::= [ ]?\n'
    diagnostic = only(source, "warning")
    assert "through `ws2`" in diagnostic.message
    assert diagnostic.hint is not None
    assert diagnostic.hint.startswith("`ws2` can match nothing")


def test_left_recursion_behind_literally_empty_prefix_is_an_error() -> None:
    diagnostic = only('root ::= expr\nexpr ::= ws expr "+" | "x"\nws ::= | " "\n')
    assert position(diagnostic) == (2, 13)
    assert "`expr -> expr`" in diagnostic.message


@pytest.mark.parametrize("prefix", ['" "*', '" "?', '" "{0,3}', '("" | " ")'])
def test_left_recursion_behind_expanded_empty_helper_is_an_error(prefix: str) -> None:
    diagnostic = only(f'root ::= expr\nexpr ::= {prefix} expr "+" | "x"\n')
    assert diagnostic.line == 2
    assert "left recursion" in diagnostic.message


def test_left_recursion_llama_cpp_misses_is_a_warning() -> None:
    result = check('root ::= expr\nexpr ::= ws expr "+" | "x"\nws ::= [ ]*\n')
    assert result.ok
    diagnostic = only('root ::= expr\nexpr ::= ws expr "+" | "x"\nws ::= [ ]*\n', "warning")
    assert position(diagnostic) == (2, 13)
    assert "through `ws`, which can match nothing" in diagnostic.message


def test_underscore_in_a_name_is_an_error_at_the_underscore() -> None:
    result = check('root ::= my_rule\nmy_rule ::= "a"\n')
    assert [position(d) for d in result.errors] == [(1, 12), (2, 3)]
    assert all(d.hint == "use `-` instead: `my-rule`" for d in result.errors)


def test_underscore_is_the_only_diagnostic_for_its_name() -> None:
    result = check('root ::= "a"\r\nb ::= c_d\r\n')
    assert [(d.level, position(d)) for d in result.diagnostics] == [
        ("warning", (2, 1)),  # `b` itself is unused
        ("error", (2, 8)),
    ]
    result = check('root ::= "a"\n\nx_y ::= "b"\nx_y ::= "c"\n')
    assert [(d.message, position(d)) for d in result.diagnostics] == [
        ("`_` is not allowed in rule names (in `x_y`)", (3, 2)),
        ("`_` is not allowed in rule names (in `x_y`)", (4, 2)),
    ]


def test_a_rule_with_a_syntax_error_is_not_also_called_unfinishable() -> None:
    diagnostic = only('root ::= x\nx ::= ("a"\n')
    assert diagnostic.message == "unterminated group: `(` is not closed before the end of the input"
    assert check('root ::= x\nx ::= ("a"\n').warnings == []


def test_unknown_escape_is_an_error_at_the_backslash() -> None:
    diagnostic = only('root ::= "ab\\qc"\n')
    assert position(diagnostic) == (1, 13)
    assert diagnostic.message == "unknown escape `\\q`"


def test_unterminated_string_class_and_group_point_at_the_opening_character() -> None:
    assert position(only('root ::= "abc\n')) == (1, 10)
    assert position(only("root ::= x\nx ::= [a-z\n")) == (2, 7)
    group = only('root ::= ("a" | "b"\nother ::= "x"\n')
    assert position(group) == (1, 10)
    assert "unterminated group" in group.message
    assert position(only('root ::= ("a" | "b"')) == (1, 10)


def test_intended_multi_line_string_stays_valid_beside_another_error() -> None:
    result = check('root ::= "a\nb" x\nx ::= "\\q"\n')
    found = [(d.level, position(d)) for d in result.diagnostics]
    assert found == [("warning", (1, 10)), ("error", (3, 8))]
    assert result.diagnostics[0].message == "string literal continues onto the next line"
    assert result.diagnostics[1].message == "unknown escape `\\q`"


def test_missing_quote_is_found_beside_an_intended_multi_line_string() -> None:
    source = 'root ::= "a\nb" x z\nx ::= [a\nb]\ny ::= "open\nz ::= "ok"\n'
    result = check(source)
    assert [(d.level, position(d)) for d in result.diagnostics] == [
        ("warning", (1, 10)),
        ("error", (5, 7)),
    ]
    assert result.errors[0].message == 'unterminated string: no closing `"` on this line'


def test_repetition_over_2000_is_an_error() -> None:
    diagnostic = only('root ::= "a"{2001}\n')
    assert position(diagnostic) == (1, 13)
    assert "2000" in diagnostic.message


def test_repetition_maximum_over_2000_warns_it_becomes_unbounded() -> None:
    diagnostic = only('root ::= "a"{1,2001}\n', "warning")
    assert position(diagnostic) == (1, 13)
    assert "unbounded" in diagnostic.message
    assert check('root ::= "a"{1,2001}\n').ok


def test_repetition_minimum_above_maximum_is_an_error_that_says_what_llama_cpp_does() -> None:
    diagnostic = only('root ::= "a"{5,3}\n')
    assert position(diagnostic) == (1, 13)
    assert "minimum above its maximum" in diagnostic.message
    assert "runs out of memory" in diagnostic.message
    assert "older builds read it as `{5}`" in diagnostic.message
    assert diagnostic.hint == "write `{3,5}` or `{5}`"


def test_escape_beyond_unicode_is_a_warning_and_matches_nothing() -> None:
    source = 'root ::= "a" | "b\\U00110000" | [x-\\U00110000] | [^\\U0011FFFF]\n'
    result = check(source)
    assert result.ok
    assert [position(d) for d in result.warnings] == [(1, 18), (1, 35), (1, 51)]
    assert "so this string can never match" in result.warnings[0].message
    assert "llama.cpp accepts it" in result.warnings[1].message
    matcher = Matcher(source)
    assert matcher.match("\U0010ffff").ok  # the range runs to the end of Unicode
    assert matcher.match("\n").ok  # the negated class excludes nothing
    assert all(matcher.match(text).ok for text in sample(source, 30, seed=1))
    assert sample('root ::= "a" | "b\\U00110000"\n', 20) == ["a"] * 20
    assert not Matcher('root ::= "a" | "b\\U00110000"\n').match("b").ok


def test_surrogates_in_a_string_are_a_warning_and_it_matches_nothing() -> None:
    source = 'root ::= "a\\uD800b" | "c\ud800" | "d"\n'
    result = check(source)
    assert [(position(d), d.end_offset - d.offset) for d in result.warnings] == [
        ((1, 12), 6),
        ((1, 25), 1),
    ]
    assert result.warnings[0].message.startswith("`\\uD800` is a surrogate code point")
    assert result.warnings[1].message.startswith("U+D800 is a surrogate code point")
    assert sample(source, 10) == ["d"] * 10


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("root ::= [\\uD800-\\uDFFF] | x\n", "surrogates (U+D800 to U+DFFF) are not characters"),
        ("root ::= [^\\x00-\\x7f\\x80-\\U0010FFFF] | x\n", "it excludes every character"),
    ],
)
def test_class_that_matches_no_character_warns_at_the_class(source: str, why: str) -> None:
    diagnostic = only(source + 'x ::= "x"\n', "warning")
    assert position(diagnostic) == (1, 10)
    assert f"matches no character: {why}" in diagnostic.message


def test_nested_repetition_product_reaching_2000_is_an_error() -> None:
    diagnostic = only('root ::= ("a"{50}){40}\n')
    assert position(diagnostic) == (1, 10)
    assert "2000" in diagnostic.message
    assert check('root ::= ("a"{50}){39}\n').ok


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("root ::= " + "(" * 200 + '"a"' + ")" * 200, 110),  # the 101st `(`
        ("root ::= " + "(" * 5000 + '"a"' + ")" * 5000, 110),
        ('root ::= "a"' + "?" * 2000, 113),  # the 101st `?`
        ("root ::= " + "(" * 300 + '"a"' + ")?" * 300, 110),
        # 60 groups, each wrapped in `?`: the 41st `?` from inside makes 101 levels.
        ("root ::= " + "(" * 60 + '"a"' + ")?" * 60, 154),
    ],
    ids=["200-groups", "5000-groups", "2000-repeats", "300-repeated-groups", "60-repeated-groups"],
)
def test_nesting_deeper_than_the_limit_is_one_error_where_it_happens(
    source: str, column: int
) -> None:
    result = check(source + '\nnext ::= "\\q"\n')
    assert [(d.message, position(d)) for d in result.errors] == [
        ("nesting too deep (more than 100 levels of groups and repetitions)", (1, column)),
        ("unknown escape `\\q`", (2, 11)),
    ]
    assert result.grammar is None


def test_duplicate_rule_warns_at_the_second_definition() -> None:
    diagnostic = only('root ::= x\nx ::= "a"\nx ::= "b"\n', "warning")
    assert position(diagnostic) == (3, 1)
    assert "line 2" in diagnostic.message


def test_each_redefinition_names_the_one_it_replaces() -> None:
    result = check('root ::= x\nx ::= "a"\nx ::= "b"\nx ::= "c"\n')
    assert [(position(d), d.message[-9:]) for d in result.warnings] == [
        ((3, 1), "on line 2"),
        ((4, 1), "on line 3"),
    ]


def test_unreachable_rule_warns_at_its_name() -> None:
    diagnostic = only('root ::= "a"\n\nunused ::= "b"\n', "warning")
    assert position(diagnostic) == (3, 1)
    assert "never used" in diagnostic.message


def test_optional_chain_warns_and_suggests_a_bounded_repeat() -> None:
    diagnostic = only('root ::= "x" d? d? d? d?\nd ::= [0-9]\n', "warning")
    assert position(diagnostic) == (1, 14)
    assert diagnostic.hint == "write `d{0,4}`"
    assert check("root ::= d? d?\nd ::= [0-9]\n").diagnostics == []


def test_model_tokens_get_a_note() -> None:
    result = check('root ::= <think> "a" !<[42]>\n')
    assert result.ok
    assert [position(d) for d in result.notes] == [(1, 10), (1, 22)]
    assert all(d.level == "note" for d in result.diagnostics)


def test_continuation_line_starting_with_a_bar_explains_line_endings() -> None:
    diagnostic = only('root ::= "a"\n  | "b"\n')
    assert position(diagnostic) == (2, 3)
    assert diagnostic.hint is not None
    assert "end the previous line with `|`" in diagnostic.hint


@pytest.mark.parametrize("line", ['  "b"', "\t[0-9]", ' ( "b" )', '"b"'])
def test_line_starting_with_an_item_after_a_rule_explains_line_endings(line: str) -> None:
    diagnostic = only(f'root ::= "a"\n{line}\n')
    assert position(diagnostic) == (2, len(line) - len(line.lstrip()) + 1)
    assert diagnostic.message.startswith("expected a rule name at the start of a rule")
    assert diagnostic.hint is not None
    assert "end the previous line with `|`" in diagnostic.hint


def test_expected_definition_after_rule_name() -> None:
    diagnostic = only('root ::= foo\nfoo "bar"\n')
    assert position(diagnostic) == (2, 5)
    assert diagnostic.message == 'expected `::=` after rule name `foo`, found `"`'


def test_trailing_empty_alternative_swallowing_the_next_rule() -> None:
    diagnostic = only('root ::= ws "a"\nws ::= " " |\nnext ::= "b"\n')
    assert position(diagnostic) == (3, 6)
    assert "read as part of this one" in diagnostic.message


def test_recovery_reports_every_broken_rule() -> None:
    source = 'root ::= a b c d\na ::= "x\nb = "y"\nc ::= [0-9\nd ::= "ok" )\ne_x ::= "z"\n'
    result = check(source)
    assert [position(d) for d in result.errors] == [(2, 7), (3, 3), (4, 7), (5, 12), (6, 2)]
    assert result.grammar is None


def test_render_shows_source_line_and_caret() -> None:
    source = 'root ::= x\n\tx ::= "b\\q"\n'
    diagnostic = only(source)
    assert diagnostic.render(source, "g.gbnf").splitlines() == [
        "g.gbnf:2:10: error: unknown escape `\\q`",
        ' 2 | \tx ::= "b\\q"',
        "   | \t        ^~",
        '  hint: valid escapes are \\t \\r \\n \\\\ \\" \\[ \\] \\xHH \\uHHHH \\UHHHHHHHH;'
        " write `q` without the backslash",
    ]


def test_crlf_line_endings_count_lines_correctly() -> None:
    diagnostic = only("root ::= x\r\nx ::= y\r\n")
    assert position(diagnostic) == (2, 7)
