"""`check()`: parse a grammar and report everything llama.cpp would reject or mishandle."""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from inferd_tui.grammar.analysis import (
    INFINITY,
    expr_nullable,
    left_references,
    literally_empty_rules,
    llama_skippable,
    min_lengths,
)
from inferd_tui.grammar.diagnostics import (
    Diagnostic,
    Level,
    LineIndex,
    make_diagnostic,
    sort_diagnostics,
)
from inferd_tui.grammar.nodes import (
    MAX_REPETITION,
    Expr,
    Grammar,
    Group,
    Literal,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    walk_rule,
)
from inferd_tui.grammar.parser import parse
from inferd_tui.grammar.printer import print_alternatives, print_expr

# This many `x?` in a row get a warning; llama.cpp's sampler slows down sharply on them.
OPTIONAL_CHAIN_LENGTH = 3


@dataclass(frozen=True)
class CheckResult:
    """What `check()` found. `grammar` is None when syntax errors kept the tree incomplete."""

    grammar: Grammar | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "warning"]

    @property
    def notes(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "note"]

    @property
    def ok(self) -> bool:
        """No errors (warnings and notes allowed): llama.cpp would accept the grammar."""
        return not self.errors


def check(source: str) -> CheckResult:
    """Parse `source` and run every check; never raises for any input text."""
    index = LineIndex(source)
    parsed = parse(source, index)
    grammar = parsed.grammar
    diagnostics = list(parsed.diagnostics)
    diagnostics += _Checker(grammar, index, parsed.attempted_names, parsed.syntax_ok).run()
    return CheckResult(grammar if parsed.syntax_ok else None, sort_diagnostics(diagnostics))


def check_grammar(grammar: Grammar, source: str = "") -> list[Diagnostic]:
    """The semantic checks alone, for a tree built or changed in code."""
    return sort_diagnostics(_Checker(grammar, LineIndex(source), set(), True).run())


class _Checker:
    def __init__(
        self, grammar: Grammar, index: LineIndex, attempted: set[str], syntax_ok: bool
    ) -> None:
        self.grammar = grammar
        self.index = index
        self.attempted = attempted
        self.syntax_ok = syntax_ok
        self.definitions = grammar.definitions()
        self.diagnostics: list[Diagnostic] = []
        self.expressions = {id(rule): walk_rule(rule) for rule in grammar.rules}
        self._min_lengths: dict[str, float] | None = None

    @property
    def min_lengths(self) -> dict[str, float]:
        if self._min_lengths is None:
            self._min_lengths = min_lengths(self.definitions, self.expressions)
        return self._min_lengths

    def report(
        self,
        level: Level,
        message: str,
        offset: int,
        end: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.diagnostics.append(make_diagnostic(self.index, level, message, offset, end, hint))

    def run(self) -> list[Diagnostic]:
        if not self.grammar.rules:
            if self.syntax_ok:
                self.report(
                    "error",
                    "the grammar is empty: it has no rules",
                    0,
                    hint='start with `root ::= ...`, for example `root ::= "yes" | "no"`',
                )
            return self.diagnostics
        self.check_root()
        self.check_duplicates()
        self.check_references()
        self.check_reachable()
        self.check_left_recursion()
        self.check_rules_finish()
        for rule in self.grammar.rules:
            self.check_repetition_nesting(rule)
            self.check_optional_chains(rule)
        return self.diagnostics

    def check_root(self) -> None:
        if "root" not in self.definitions and "root" not in self.attempted:
            self.report(
                "error",
                "no `root` rule: generation starts at `root`",
                0,
                hint="add `root ::= ...` or rename your top rule to `root`",
            )

    def check_duplicates(self) -> None:
        latest: dict[str, Rule] = {}
        for rule in self.grammar.rules:
            if _misnamed(rule.name):
                continue
            earlier = latest.get(rule.name)
            latest[rule.name] = rule
            if earlier is not None:
                line, _ = self.index.line_col(earlier.start)
                self.report(
                    "warning",
                    f"rule `{rule.name}` is defined again; this definition replaces the one "
                    f"on line {line}",
                    rule.start,
                    rule.name_end,
                    hint="llama.cpp silently keeps the later definition; remove or rename one",
                )

    def check_references(self) -> None:
        names = list(dict.fromkeys([*self.definitions, *sorted(self.attempted)]))
        for rule in self.grammar.rules:
            for expr in self.expressions[id(rule)]:
                if not isinstance(expr, RuleRef) or expr.name in self.definitions:
                    continue
                if expr.name in self.attempted or _misnamed(expr.name):
                    continue  # a syntax error, already reported
                close = difflib.get_close_matches(expr.name, names, n=1, cutoff=0.6)
                hint = (
                    f"did you mean `{close[0]}`?" if close else f"define it: `{expr.name} ::= ...`"
                )
                self.report(
                    "error", f"undefined rule `{expr.name}`", expr.start, expr.end, hint=hint
                )

    def references(self, rule: Rule) -> Iterator[str]:
        for expr in self.expressions[id(rule)]:
            if isinstance(expr, RuleRef):
                yield expr.name

    def check_reachable(self) -> None:
        if "root" not in self.definitions:
            return
        reached = {"root"}
        queue = deque(["root"])
        while queue:
            for name in self.references(self.definitions[queue.popleft()]):
                if name in self.definitions and name not in reached:
                    reached.add(name)
                    queue.append(name)
        for name, rule in self.definitions.items():
            if name not in reached and not _misnamed(name):
                self.report(
                    "warning",
                    f"rule `{name}` is never used: it cannot be reached from `root`",
                    rule.start,
                    rule.name_end,
                    hint="reference it from another rule, or delete it",
                )

    # -- left recursion ----------------------------------------------------------------------

    def left_graph(
        self, skippable_nullable: bool
    ) -> dict[str, list[tuple[RuleRef, tuple[Expr, ...]]]]:
        """Edges rule -> references that can be its first item."""
        if skippable_nullable:
            nullable = {name for name, length in self.min_lengths.items() if length == 0}

            def skippable(expr: Expr) -> bool:
                return expr_nullable(expr, nullable)
        else:
            empty = literally_empty_rules(self.definitions)

            def skippable(expr: Expr) -> bool:
                return llama_skippable(expr, empty)

        graph: dict[str, list[tuple[RuleRef, tuple[Expr, ...]]]] = {}
        for name, rule in self.definitions.items():
            edges = []
            for alt in rule.alternatives:
                for ref, prefix in left_references(alt.items, skippable):
                    if ref.name in self.definitions:
                        edges.append((ref, prefix))
            graph[name] = edges
        return graph

    def check_left_recursion(self) -> None:
        full = self.left_graph(skippable_nullable=True)
        components = _cyclic_components(full)
        if not components:
            return
        llama = self.left_graph(skippable_nullable=False)
        order = {name: position for position, name in enumerate(self.definitions)}
        for component in components:
            start = min(component, key=order.__getitem__)
            llama_cycle = None
            for sub in _cyclic_components(llama, within=component):
                llama_cycle = _find_cycle(llama, min(sub, key=order.__getitem__), sub)
                break
            if llama_cycle is not None:
                self.report_left_recursion(llama_cycle, "error")
            else:
                cycle = _find_cycle(full, start, component)
                if cycle is not None:
                    self.report_left_recursion(cycle, "warning")

    def report_left_recursion(
        self, cycle: list[tuple[str, RuleRef, tuple[Expr, ...]]], level: Level
    ) -> None:
        path = " -> ".join([cycle[0][0], *(ref.name for _, ref, _ in cycle)])
        _, first_ref, _ = cycle[0]
        prefixes = [item for _, _, prefix in cycle for item in prefix]
        if level == "error":
            message = f"left recursion: `{path}`; llama.cpp rejects left-recursive rules"
            if prefixes:
                message += f" (`{print_expr(prefixes[0])}` before it can match nothing)"
        else:
            empty = literally_empty_rules(self.definitions)
            prefixes = [p for p in prefixes if not llama_skippable(p, empty)] or prefixes
            message = (
                f"left recursion `{path}` through `{print_expr(prefixes[0])}`, which can match "
                "nothing; llama.cpp does not notice it, and generation may never end"
            )
        hint = self.left_recursion_hint(cycle, prefixes[0] if prefixes else None)
        self.report(level, message, first_ref.start, first_ref.end, hint=hint)

    def left_recursion_hint(
        self, cycle: list[tuple[str, RuleRef, tuple[Expr, ...]]], skipped: Expr | None
    ) -> str:
        """A rewrite in the grammar's own names: the exact one for `a ::= a tail | base`.

        `skipped` is the item before the recursion that can match nothing, if any.
        """
        name = cycle[0][0]
        if isinstance(skipped, Literal) and not skipped.text:
            return f'remove the `""` before `{cycle[0][1].name}`'
        if skipped is not None:
            written = print_expr(skipped)
            return (
                f"`{written}` can match nothing, so `{name}` can start with itself: make "
                f"`{written}` match at least one character there, or move it after the recursion"
            )
        if len(cycle) > 1:
            following = cycle[1][0]
            return (
                f"make one rule of the cycle start with something else, for example write "
                f"`{following}` out in `{name}`, then turn `{name} ::= {name} tail | base` "
                f"into `{name} ::= base tail*`"
            )
        rule = self.definitions[name]
        recursive: list[Sequence] = []
        base: list[Sequence] = []
        for alt in rule.alternatives:
            first = alt.items[0] if alt.items else None
            if isinstance(first, RuleRef) and first.name == name:
                recursive.append(Sequence(alt.items[1:]))
            else:
                base.append(alt)
        if not base:
            return (
                f"every alternative of `{name}` starts with `{name}`: add one that starts with "
                f"something else, then write `{name} ::= base tail*`"
            )
        if any(not alt.items for alt in recursive):
            return f"the alternative `{name}` on its own adds nothing: remove it"
        head = _grouped(tuple(base))
        tail = _grouped(tuple(recursive), always=True)
        return f"rewrite it as a repetition: `{name} ::= {head} {tail}*`"

    # -- other checks ------------------------------------------------------------------------

    def check_rules_finish(self) -> None:
        if not self.syntax_ok or any(d.level == "error" for d in self.diagnostics):
            return  # broken, undefined or left-recursive rules already explain it
        for name, rule in self.definitions.items():
            if self.min_lengths[name] == INFINITY:
                self.report(
                    "warning",
                    f"rule `{name}` can never finish: every alternative needs more of itself "
                    "or something that matches nothing",
                    rule.start,
                    rule.name_end,
                    hint="give it an alternative that ends, for example an empty one",
                )

    def check_repetition_nesting(self, rule: Rule) -> None:
        for alt in rule.alternatives:
            for item in alt.items:
                self._nesting(item, 1, None)

    def _nesting(self, expr: Expr, product: int, outermost: Repeat | None) -> None:
        """Multiply counts down nested repetitions; report at the outermost one."""
        if isinstance(expr, Repeat):
            maximum = expr.effective_maximum
            count = maximum if maximum is not None else max(expr.minimum, 1)
            if count > 1:
                if outermost is not None and product * count >= MAX_REPETITION:
                    self.report(
                        "error",
                        f"nested repetitions multiply to {product * count} copies, which "
                        f"reaches llama.cpp's limit of {MAX_REPETITION}",
                        outermost.start,
                        outermost.end,
                        hint="use `*`/`+` for one of the levels, or smaller counts",
                    )
                    return
                product *= count
                outermost = outermost or expr
            self._nesting(expr.item, product, outermost)
        elif isinstance(expr, Group):
            for alt in expr.alternatives:
                for item in alt.items:
                    self._nesting(item, product, outermost)

    def check_optional_chains(self, rule: Rule) -> None:
        for sequence in self._sequences(rule):
            if len(sequence.items) < OPTIONAL_CHAIN_LENGTH:
                continue
            run: list[Repeat] = []
            for item in (*sequence.items, None):
                optional = _optional(item)
                if optional is not None and run and optional.item == run[0].item:
                    run.append(optional)
                    continue
                if len(run) >= OPTIONAL_CHAIN_LENGTH:
                    body = print_expr(run[0].item)
                    self.report(
                        "warning",
                        f"{len(run)} optional `{body}?` in a row are very slow to sample",
                        run[0].start,
                        run[-1].end,
                        hint=f"write `{body}{{0,{len(run)}}}`",
                    )
                run = [optional] if optional is not None else []

    def _sequences(self, rule: Rule) -> Iterator[Sequence]:
        yield from rule.alternatives
        for expr in self.expressions[id(rule)]:
            if isinstance(expr, Group):
                yield from expr.alternatives


def _misnamed(name: str) -> bool:
    """A name with `_`: llama.cpp stops at that syntax error, so nothing else is reported."""
    return "_" in name


def _optional(item: Expr | None) -> Repeat | None:
    """`item` if it is `x?` (or `x{0,1}`)."""
    if isinstance(item, Repeat) and item.minimum == 0 and item.maximum == 1:
        return item
    return None


def _grouped(alternatives: tuple[Sequence, ...], always: bool = False) -> str:
    text = print_alternatives(alternatives)
    if len(alternatives) == 1 and (len(alternatives[0].items) == 1 or not always):
        return text
    return f"({text})"


def _cyclic_components(
    graph: Mapping[str, list[tuple[RuleRef, tuple[Expr, ...]]]],
    within: set[str] | None = None,
) -> list[set[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    nodes = [n for n in graph if within is None or n in within]
    allowed = set(nodes)
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[set[str]] = []
    counter = 0
    for root in nodes:
        if root in index_of:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, edge_position = work.pop()
            if edge_position == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = [ref.name for ref, _ in graph[node] if ref.name in allowed]
            advanced = False
            while edge_position < len(edges):
                target = edges[edge_position]
                edge_position += 1
                if target not in index_of:
                    work.append((node, edge_position))
                    work.append((target, 0))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index_of[target])
            if advanced:
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                self_loop = any(ref.name == node for ref, _ in graph[node])
                if len(component) > 1 or self_loop:
                    result.append(component)
    return result


def _find_cycle(
    graph: Mapping[str, list[tuple[RuleRef, tuple[Expr, ...]]]], start: str, within: set[str]
) -> list[tuple[str, RuleRef, tuple[Expr, ...]]] | None:
    """The shortest cycle from `start` back to itself, as (from-rule, reference, prefix) edges."""
    previous: dict[str, tuple[str, RuleRef, tuple[Expr, ...]]] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for ref, prefix in graph[node]:
            target = ref.name
            if target not in within:
                continue
            if target == start:
                path = [(node, ref, prefix)]
                while node != start:
                    edge = previous[node]
                    path.append(edge)
                    node = edge[0]
                return list(reversed(path))
            if target not in previous:
                previous[target] = (node, ref, prefix)
                queue.append(target)
    return None
