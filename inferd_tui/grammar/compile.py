"""Turn a grammar or its source into a checked tree the sampler and matcher can rely on."""

from __future__ import annotations

from inferd_tui.grammar.checks import check, check_grammar
from inferd_tui.grammar.diagnostics import InvalidGrammarError, TokenGrammarError
from inferd_tui.grammar.nodes import Grammar, Token, walk_rule


def usable_grammar(grammar_or_source: Grammar | str, purpose: str) -> Grammar:
    """The grammar, or an InvalidGrammarError / TokenGrammarError saying why not."""
    if isinstance(grammar_or_source, str):
        result = check(grammar_or_source)
        diagnostics = result.diagnostics
        grammar = result.grammar
    else:
        grammar = grammar_or_source
        diagnostics = check_grammar(grammar)
    errors = [d for d in diagnostics if d.level == "error"]
    if grammar is None or errors:
        first = errors[0].message if errors else "the grammar could not be parsed"
        raise InvalidGrammarError(
            f"cannot {purpose}: the grammar has {len(errors)} error(s); first: {first}",
            diagnostics,
        )
    for rule in grammar.rules:
        for expr in walk_rule(rule):
            if isinstance(expr, Token):
                raise TokenGrammarError(
                    f"cannot {purpose}: rule `{rule.name}` uses the model token "
                    f"`{'!' if expr.negated else ''}<{expr.text}>`, which needs the model's "
                    "vocabulary",
                    [d for d in diagnostics if d.level == "note"],
                )
    return grammar
