"""Tokens for highlighting, the printer, and import hygiene."""

from __future__ import annotations

import subprocess
import sys

from inferd_tui.grammar import (
    CharClass,
    Grammar,
    Literal,
    Rule,
    Sequence,
    check,
    print_grammar,
    tokenize,
)


def kinds(source: str) -> list[tuple[str, str]]:
    return [(t.kind, source[t.start : t.end]) for t in tokenize(source)]


def test_tokenize_classifies_every_construct() -> None:
    source = 'root ::= item{1,3} ("a\\n" | [^0-9])* . <think> # done\nitem ::= bad_name'
    assert kinds(source) == [
        ("rule-name", "root"),
        ("operator", "::="),
        ("reference", "item"),
        ("repeat", "{1,3}"),
        ("operator", "("),
        ("string", '"a'),
        ("escape", "\\n"),
        ("string", '"'),
        ("operator", "|"),
        ("class", "[^0-9]"),
        ("operator", ")"),
        ("repeat", "*"),
        ("operator", "."),
        ("token", "<think>"),
        ("comment", "# done"),
        ("rule-name", "item"),
        ("operator", "::="),
        ("error", "bad_name"),
    ]


def test_tokenize_marks_unterminated_and_bad_escapes() -> None:
    assert kinds('root ::= "abc\nx ::= "\\q"') == [
        ("rule-name", "root"),
        ("operator", "::="),
        ("error", '"abc'),
        ("rule-name", "x"),
        ("operator", "::="),
        ("string", '"'),
        ("error", "\\q"),
        ("string", '"'),
    ]


def test_printer_is_canonical_and_idempotent() -> None:
    source = (
        "root   ::=  # a comment\n"
        '    "a" x (  "q"|  ) *   \n'
        'x ::= [a-z-] "\\"\\x01" "a"{0,1} "b"{2,} ( "c" |\n   "d" ){ 1 , 3 }\n'
    )
    result = check(source)
    assert result.grammar is not None, [d.format() for d in result.diagnostics]
    printed = print_grammar(result.grammar)
    assert printed == (
        'root ::= "a" x ("q" |)*\nx ::= [a-z-] "\\"\\x01" "a"? "b"{2,} ("c" | "d"){1,3}\n'
    )
    assert check(printed).grammar == result.grammar
    assert print_grammar(check(printed).grammar or Grammar(())) == printed


def test_printer_escapes_class_edge_characters() -> None:
    grammar = Grammar(
        (Rule("root", (Sequence((CharClass((("^", "^"), ("-", "-"), ("a", "-"))),)),)),)
    )
    printed = print_grammar(grammar)
    assert printed == "root ::= [\\x5E\\x2Da-\\x2D]\n"
    assert check(printed).grammar == grammar


def test_printer_moves_empty_alternatives_off_the_line_end() -> None:
    grammar = Grammar(
        (
            Rule("root", (Sequence((Literal("a"),)), Sequence(()))),
            Rule("x", (Sequence(()),)),
            Rule("y", (Sequence(()),)),
        )
    )
    printed = print_grammar(grammar)
    assert printed == 'root ::= | "a"\nx ::= ""\ny ::=\n'
    assert check(printed).ok


def test_grammar_package_imports_no_ui_or_third_party_modules() -> None:
    code = (
        "import sys, inferd_tui.grammar as g; g.check('root ::= \"a\"'); g.EXAMPLES;"
        "bad = {'textual', 'rich', 'pydantic', 'anyio'} & {m.split('.')[0] for m in sys.modules};"
        "print(sorted(bad))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "[]"
