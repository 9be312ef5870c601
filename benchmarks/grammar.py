"""Grammar workbench speed: check a 300-rule grammar, sample JSON, match a 2 KB JSON answer.

Prints each number next to its target (a PASS/MISS line each) and exits 1 if one is
missed; the worst cases after them (long rule chains, repetition-heavy matches) are
printed without a target.
"""

from __future__ import annotations

import functools
import random
import sys
import time
from collections.abc import Callable

from inferd_tui.grammar import Matcher, Sampler, check, get_example

CHECK_TARGET_MS = 20.0
SAMPLE_TARGET_PER_S = 1000.0
MATCH_TARGET_MS = 250.0


def generated_grammar(rule_count: int = 300, seed: int = 1) -> str:
    """A grammar in the usual top-down shape: each rule uses later ones; all reachable."""
    rng = random.Random(seed)
    lines = ["root ::= rule-0 ( ws rule-1 )*", "ws ::= [ \\t\\n]{0,4}  # separators"]
    for index in range(rule_count - 2):
        later = [f"rule-{j}" for j in range(index + 1, min(index + 6, rule_count - 2))]
        alternatives = []
        for _ in range(rng.randint(2, 4)):
            parts = [f'"kw{index}-{rng.randint(0, 99)}"']
            if later:
                parts.append(rng.choice(later))
            parts.append(rng.choice(["[a-z0-9]+", '[^"\\\\]{1,8}', '( "," ws )?', '"\\x41\\n"']))
            alternatives.append(" ".join(parts))
        lines.append(f"rule-{index} ::= " + " | ".join(alternatives))
    return "\n".join(lines) + "\n"


def chain_grammar(rule_count: int = 3000, leaf_first: bool = False) -> str:
    """`rule-0` uses `rule-1`, which uses `rule-2`, ...: one step of a fixpoint per rule."""
    rules = [f'rule-{i} ::= rule-{i + 1} "a" | "b" rule-{i + 1}' for i in range(rule_count - 1)]
    rules.append(f'rule-{rule_count - 1} ::= "z"')
    if leaf_first:
        rules.reverse()
    return "root ::= rule-0\n" + "\n".join(rules) + "\n"


def best_of(runs: int, action: Callable[[], object]) -> float:
    """Fastest wall time of `runs` calls, in seconds (the least disturbed measurement)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def json_answer(size: int = 2048) -> str:
    parts = []
    index = 0
    while sum(len(p) + 2 for p in parts) < size - 2:
        parts.append(f'{{"id": {index}, "name": "item {index}", "tags": ["a", "b"], "ok": true}}')
        index += 1
    return "[" + ", ".join(parts) + "]"


def main() -> int:
    failures = 0

    def report(label: str, value: float, target: float, unit: str, higher_is_better: bool) -> None:
        nonlocal failures
        passed = value >= target if higher_is_better else value <= target
        failures += not passed
        relation = ">=" if higher_is_better else "<="
        verdict = "PASS" if passed else "MISS"
        print(f"{verdict}: {label:<44} {value:>10.1f} {unit:<9} (target {relation} {target:g})")

    source = generated_grammar()
    result = check(source)
    assert result.ok and result.grammar is not None, [d.format() for d in result.errors]
    rule_count = len(result.grammar.rules)
    seconds = best_of(40, lambda: check(source))
    report(f"parse + check, {rule_count} rules", seconds * 1000, CHECK_TARGET_MS, "ms", False)

    json_source = get_example("json-value").source
    sampler = Sampler(json_source)
    rng = random.Random(0)
    count = 3000
    start = time.perf_counter()
    strings = [sampler.sample_one(rng, 200) for _ in range(count)]
    elapsed = time.perf_counter() - start
    average = sum(map(len, strings)) / count
    report(
        f"sampler, JSON value (avg {average:.0f} chars)",
        count / elapsed,
        SAMPLE_TARGET_PER_S,
        "strings/s",
        True,
    )

    matcher = Matcher(json_source)
    answer = json_answer()
    assert matcher.match(answer).ok
    seconds = best_of(5, lambda: matcher.match(answer))
    report(f"matcher, {len(answer)}-char JSON answer", seconds * 1000, MATCH_TARGET_MS, "ms", False)
    print(f"matcher throughput: {len(answer) / seconds / 1000:.0f} K chars/s")

    def show(label: str, seconds: float) -> None:
        print(f"{label:<44} {seconds * 1000:>10.1f} ms")

    for leaf_first in (False, True):
        order = "leaf first" if leaf_first else "top down"
        chain = chain_grammar(leaf_first=leaf_first)
        for build in (Sampler, Matcher):
            seconds = best_of(3, functools.partial(build, chain))
            show(f"{build.__name__}(), 3,000-rule chain, {order}", seconds)

    # Right recursion, long bounded repetitions and repetitions of nullable repetitions:
    # quadratic in plain Earley.
    for label, grammar, text in [
        ('match "a"{0,2000}, 2,000 chars', 'root ::= "a"{0,2000}\n', "a" * 2000),
        ("match right recursion, 10,000 chars", 'root ::= "a" root | ""\n', "a" * 10_000),
        ('match x* with x ::= "a"*, 10,000 chars', 'root ::= x*\nx ::= "a"*\n', "a" * 10_000),
        (
            'match ws* "x" with ws ::= " "*, 5,000',
            'root ::= ws* "x"\nws ::= " "*\n',
            " " * 5000 + "x",
        ),
    ]:
        matcher = Matcher(grammar)
        assert matcher.match(text).ok
        show(label, best_of(3, functools.partial(matcher.match, text)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
