"""Top-level command line: bad arguments give one line on stderr and exit 2, no traceback."""

from __future__ import annotations

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
