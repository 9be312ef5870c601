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

import importlib
from typing import TYPE_CHECKING, Any

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


# Imported on first use (PEP 562): `inferd-tui` imports this package to register the
# `grammar` subcommand, and the app needs the engine only when a grammar is checked, so
# nothing here loads before the first frame.
_SUBMODULE_OF: dict[str, str] = {
    "AnyChar": "inferd_tui.grammar.nodes",
    "CharClass": "inferd_tui.grammar.nodes",
    "CheckResult": "inferd_tui.grammar.checks",
    "Diagnostic": "inferd_tui.grammar.diagnostics",
    "END_OF_INPUT": "inferd_tui.grammar.matcher",
    "EmptyLanguageError": "inferd_tui.grammar.diagnostics",
    "Example": "inferd_tui.grammar.examples",
    "Expr": "inferd_tui.grammar.nodes",
    "Grammar": "inferd_tui.grammar.nodes",
    "GrammarError": "inferd_tui.grammar.diagnostics",
    "GrammarToken": "inferd_tui.grammar.tokens",
    "Group": "inferd_tui.grammar.nodes",
    "InvalidGrammarError": "inferd_tui.grammar.diagnostics",
    "LineIndex": "inferd_tui.grammar.diagnostics",
    "Literal": "inferd_tui.grammar.nodes",
    "MAX_NESTING": "inferd_tui.grammar.nodes",
    "MAX_REPETITION": "inferd_tui.grammar.nodes",
    "MatchResult": "inferd_tui.grammar.matcher",
    "Matcher": "inferd_tui.grammar.matcher",
    "Repeat": "inferd_tui.grammar.nodes",
    "Rule": "inferd_tui.grammar.nodes",
    "RuleRef": "inferd_tui.grammar.nodes",
    "Sampler": "inferd_tui.grammar.sampler",
    "Sequence": "inferd_tui.grammar.nodes",
    "Token": "inferd_tui.grammar.nodes",
    "TokenGrammarError": "inferd_tui.grammar.diagnostics",
    "TokenKind": "inferd_tui.grammar.tokens",
    "check": "inferd_tui.grammar.checks",
    "check_grammar": "inferd_tui.grammar.checks",
    "get_example": "inferd_tui.grammar.examples",
    "load_examples": "inferd_tui.grammar.examples",
    "match": "inferd_tui.grammar.matcher",
    "print_grammar": "inferd_tui.grammar.printer",
    "sample": "inferd_tui.grammar.sampler",
    "tokenize": "inferd_tui.grammar.tokens",
}


def __getattr__(name: str) -> Any:
    if name == "EXAMPLES":
        from inferd_tui.grammar.examples import load_examples

        return load_examples()
    submodule = _SUBMODULE_OF.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(submodule), name)
    globals()[name] = value
    return value
