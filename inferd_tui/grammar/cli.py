"""`inferd-tui grammar check|sample|match|examples`: the grammar workbench on the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

SAMPLE_ESCAPING = (
    "Each string is printed on its own line with backslashes, line breaks and other control "
    "characters escaped as in a Python string literal (\\\\, \\n, \\t, \\x1b)."
)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `grammar` command and its subcommands."""
    grammar = subparsers.add_parser(
        "grammar",
        help="check, sample and match GBNF grammars without a model",
        description="Check, sample and match GBNF grammars as llama.cpp reads them.",
    )
    grammar.set_defaults(func=lambda args: _usage(grammar))
    commands = grammar.add_subparsers(dest="grammar_command", metavar="SUBCOMMAND")

    check = commands.add_parser(
        "check",
        help="report problems in grammar files",
        description="Report every problem in each grammar as file:line:col: level: message. "
        "Exit status 1 if any file has errors, 2 if a file cannot be read, 0 otherwise "
        "(warnings alone do not fail).",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="GBNF file (- for stdin)")
    check.set_defaults(func=run_check)

    sample = commands.add_parser(
        "sample",
        help="print random strings a grammar admits",
        description="Print random strings the grammar admits. " + SAMPLE_ESCAPING,
        epilog=SAMPLE_ESCAPING,
    )
    sample.add_argument("file", metavar="FILE", help="GBNF file (- for stdin)")
    sample.add_argument("-n", type=_non_negative, default=5, metavar="N", help="how many (5)")
    sample.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (0)")
    sample.add_argument(
        "--max-length",
        type=_non_negative,
        default=200,
        metavar="L",
        help="longest string in characters (200)",
    )
    sample.set_defaults(func=run_sample)

    match = commands.add_parser(
        "match",
        help="test whether a string is in a grammar's language",
        description="Print `match`, or the first position where TEXT stops fitting the "
        "grammar and what was expected there. Exit status 0 on match, 1 on no match, 2 if "
        "the grammar or input cannot be used. Text read from stdin loses exactly one final "
        "line break (\\n or \\r\\n), the one `echo` adds; TEXT given as an argument is "
        "matched exactly.",
    )
    match.add_argument("file", metavar="FILE", help="GBNF file")
    match.add_argument(
        "text",
        nargs="?",
        default="-",
        metavar="TEXT",
        help="the string to test (- or none: stdin, less one final line break)",
    )
    match.set_defaults(func=run_match)

    examples = commands.add_parser(
        "examples",
        help="list the example grammars, or print one",
        description="List the example grammar library, or print one with --show.",
    )
    examples.add_argument("--show", metavar="NAME", help="print the example called NAME")
    examples.set_defaults(func=run_examples)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _read(path: str, command: str) -> str | None:
    """The file's text, or None after printing one line that says why it cannot be read."""
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"inferd-tui grammar {command}: cannot read {path}: {reason}", file=sys.stderr)
        return None


def _print_diagnostics(source: str, filename: str, stream: TextIO, errors_only: bool) -> None:
    from inferd_tui.grammar.checks import check

    for diagnostic in check(source).diagnostics:
        if errors_only and diagnostic.level != "error":
            continue
        print(diagnostic.render(source, filename), file=stream)


def run_check(args: argparse.Namespace) -> int:
    from inferd_tui.grammar.checks import check

    errors = warnings = notes = 0
    unreadable = False
    for path in args.files:
        source = _read(path, "check")
        if source is None:
            unreadable = True
            continue
        filename = "<stdin>" if path == "-" else path
        result = check(source)
        for diagnostic in result.diagnostics:
            print(diagnostic.render(source, filename))
        errors += len(result.errors)
        warnings += len(result.warnings)
        notes += len(result.notes)
    checked = len(args.files)
    files = f"{checked} file" + ("" if checked == 1 else "s")
    noted = f", {_plural(notes, 'note')}" if notes else ""
    if errors or warnings:
        print(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}{noted} in {files}")
    elif notes:
        print(f"ok: {files}, no errors or warnings{noted}")
    elif not unreadable:
        print(f"ok: {files}, no problems")
    if unreadable:
        return 2
    return 1 if errors else 0


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def escape_sample(text: str) -> str:
    """One line, with backslashes and control characters escaped like a Python literal."""
    out: list[str] = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)


def run_sample(args: argparse.Namespace) -> int:
    from inferd_tui.grammar.diagnostics import GrammarError
    from inferd_tui.grammar.sampler import sample

    source = _read(args.file, "sample")
    if source is None:
        return 2
    filename = "<stdin>" if args.file == "-" else args.file
    try:
        strings = sample(source, args.n, seed=args.seed, max_length=args.max_length)
    except GrammarError as exc:
        _print_diagnostics(source, filename, sys.stderr, errors_only=True)
        print(f"{filename}: {exc.message}", file=sys.stderr)
        return 1
    for string in strings:
        print(escape_sample(string))
    return 0


def run_match(args: argparse.Namespace) -> int:
    from inferd_tui.grammar.diagnostics import GrammarError
    from inferd_tui.grammar.matcher import match

    source = _read(args.file, "match")
    if source is None:
        return 2
    text = _without_final_line_break(sys.stdin.read()) if args.text == "-" else args.text
    try:
        result = match(source, text)
    except GrammarError as exc:
        _print_diagnostics(source, args.file, sys.stderr, errors_only=True)
        print(f"{args.file}: {exc.message}", file=sys.stderr)
        return 2
    print(result.render(text))
    return 0 if result.ok else 1


def _without_final_line_break(text: str) -> str:
    """`echo yes | ... match FILE -` should test `yes`: drop the one line break a pipe adds."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def run_examples(args: argparse.Namespace) -> int:
    from inferd_tui.grammar.examples import get_example, load_examples

    if args.show:
        try:
            example = get_example(args.show)
        except KeyError as exc:
            print(f"inferd-tui grammar examples: {exc.args[0]}", file=sys.stderr)
            return 2
        sys.stdout.write(example.source)
        return 0
    examples = load_examples()
    width = max(len(example.name) for example in examples)
    for example in examples:
        print(f"{example.name:<{width}}  {example.description}")
    return 0
