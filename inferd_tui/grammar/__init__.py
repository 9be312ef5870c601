"""GBNF grammars as llama.cpp reads them: check, sample, match and print, without a model.

Pure Python, standard library only. The main entry points:

    check(source) -> CheckResult            diagnostics with line:column for every problem
    sample(grammar_or_source, n) -> [str]   random strings the grammar admits (seeded)
    match(grammar_or_source, text)          MatchResult: ok, or the failing offset + expected
    print_grammar(grammar) -> str           canonical GBNF (parse -> print -> parse is stable)
    tokenize(source) -> [GrammarToken]      for syntax highlighting
    EXAMPLES                                the example library (loaded on first use)

Errors: GrammarError -> InvalidGrammarError (the grammar has errors), TokenGrammarError (it
uses model tokens), EmptyLanguageError (nothing short enough to sample).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inferd_tui._lazy import lazy_exports

if TYPE_CHECKING:
    from inferd_tui.grammar.checks import CheckResult, check, check_grammar
    from inferd_tui.grammar.diagnostics import (
        Diagnostic,
        EmptyLanguageError,
        GrammarError,
        InvalidGrammarError,
        LineIndex,
        TokenGrammarError,
    )
    from inferd_tui.grammar.examples import Example, get_example, load_examples
    from inferd_tui.grammar.matcher import END_OF_INPUT, Matcher, MatchResult, match
    from inferd_tui.grammar.nodes import (
        MAX_NESTING,
        MAX_REPETITION,
        AnyChar,
        CharClass,
        Expr,
        Grammar,
        Group,
        Literal,
        Repeat,
        Rule,
        RuleRef,
        Sequence,
        Token,
    )
    from inferd_tui.grammar.printer import print_grammar
    from inferd_tui.grammar.sampler import Sampler, sample
    from inferd_tui.grammar.tokens import GrammarToken, TokenKind, tokenize

    EXAMPLES: tuple[Example, ...]

__all__ = [
    "END_OF_INPUT",
    "EXAMPLES",
    "MAX_NESTING",
    "MAX_REPETITION",
    "AnyChar",
    "CharClass",
    "CheckResult",
    "Diagnostic",
    "EmptyLanguageError",
    "Example",
    "Expr",
    "Grammar",
    "GrammarError",
    "GrammarToken",
    "Group",
    "InvalidGrammarError",
    "LineIndex",
    "Literal",
    "MatchResult",
    "Matcher",
    "Repeat",
    "Rule",
    "RuleRef",
    "Sampler",
    "Sequence",
    "Token",
    "TokenGrammarError",
    "TokenKind",
    "check",
    "check_grammar",
    "get_example",
    "load_examples",
    "match",
    "print_grammar",
    "sample",
    "tokenize",
]


# Imported on first use (see inferd_tui._lazy): `inferd-tui` imports this package to
# register the `grammar` subcommand, and the app needs the engine only when a grammar is
# checked, so nothing here loads before the first frame.
if not TYPE_CHECKING:  # a misspelt name stays an error for type checkers
    _exported, __dir__ = lazy_exports(__name__)

    def __getattr__(name: str) -> Any:
        if name == "EXAMPLES":  # not cached: load_examples() holds the one copy
            from inferd_tui.grammar.examples import load_examples

            return load_examples()
        return _exported(name)
