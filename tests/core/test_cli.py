"""Top-level command line: bad arguments give one line on stderr and exit 2, no traceback."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from inferd_tui.cli import main


def exit_code(argv: list[str]) -> int | str | None:
    """argparse exits by raising SystemExit; the commands return their code."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--socket", "/a", "--tcp", "127.0.0.1:1"], "not allowed with argument"),
        (["--tcp", "localhost"], "localhost"),
        (["--config", "/nonexistent/inferd-tui.toml"], "/nonexistent/inferd-tui.toml"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_python_dash_m_reports_its_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "inferd_tui", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.startswith("inferd-tui ")


# --- a plain launch is parsed without the subcommands (cli.parse_args) ---


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--demo", "--no-save"],
        ["--demo-era", "0.3", "--theme", "nord", "--config", "ask"],  # a value, not a command
        ["--socket", "/run/x.sock", "--admin", "/run/a.sock", "--wire", "v1"],
        ["--tcp", "127.0.0.1:7000", "--api-key-env", "KEY", "--daemon-release", "0.5.1"],
        ["--no-save", "ask", "hi"],  # a subcommand after the app's own flags
        ["status", "--socket", "/run/x.sock"],
    ],
)
def test_the_launch_parser_reads_the_command_line_as_the_whole_parser_does(
    argv: list[str],
) -> None:
    from inferd_tui.cli import build_parser, parse_args

    def read(args: argparse.Namespace) -> dict[str, object]:
        # A command's func is a closure made with its parser: compare what it runs.
        values = dict(vars(args))
        func = values.pop("func")
        return {**values, "runs": (func.__module__, func.__qualname__)}

    assert read(parse_args(argv)) == read(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--wire", "v3"], "invalid choice: 'v3'"),
        (["--d"], "ambiguous option"),
        (["--socket", "a", "--tcp", "h:1"], "not allowed with argument"),
        (["no-such-command"], "argument COMMAND: invalid choice"),
        (["ask", "--version"], "unrecognized arguments: --version"),
        (["status", "--ver"], "unrecognized arguments: --ver"),
    ],
)
def test_mistakes_are_reported_by_the_whole_parser(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from inferd_tui.cli import parse_args

    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert message in error


@pytest.mark.parametrize("argv", [["--help"], ["-h", "--version"], ["--demo", "--help"]])
def test_help_lists_the_subcommands(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from inferd_tui.cli import parse_args

    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 0
    assert "mock-daemon" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--version"], ["--demo", "--ver"]])
def test_the_version_is_the_whole_parsers(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from inferd_tui.cli import parse_args

    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("inferd-tui ")
