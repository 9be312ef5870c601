"""`inferd-tui grammar ...`: output and exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from inferd_tui.cli import main

GOOD = 'root ::= "yes" | "no"\n'
BAD = 'root ::= answr\nanswer ::= "yes" \\q\n'


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.gbnf"
    path.write_text(GOOD)
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.gbnf"
    path.write_text(BAD)
    return path


def test_check_clean_file_exits_0(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grammar", "check", str(good)]) == 0
    assert capsys.readouterr().out == "ok: 1 file, no problems\n"


def test_check_errors_print_compiler_style_and_exit_1(
    good: Path, bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grammar", "check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{bad}:1:10: error: undefined rule `answr`"
    assert out[1] == " 1 | root ::= answr"
    assert out[2] == "   |          ^~~~~"
    assert out[3] == "  hint: did you mean `answer`?"
    assert f"{bad}:2:18: error: unexpected `\\` in rule `answer`" in out
    assert out[-1] == "2 errors, 0 warnings in 2 files"


def test_check_warnings_alone_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "warn.gbnf"
    path.write_text('root ::= "a"\nunused ::= "b"\n')
    assert main(["grammar", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}:2:1: warning: rule `unused` is never used" in out
    assert out.endswith("0 errors, 1 warning in 1 file\n")


def test_check_summary_counts_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "token.gbnf"
    path.write_text('root ::= <think> "a"\n')
    assert main(["grammar", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}:1:10: note: model token `<think>`" in out
    assert out.endswith("ok: 1 file, no errors or warnings, 1 note\n")
    path.write_text('root ::= <think> "a"\nunused ::= "b"\n')
    assert main(["grammar", "check", str(path)]) == 0
    assert capsys.readouterr().out.endswith("0 errors, 1 warning, 1 note in 1 file\n")


def test_check_unreadable_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.gbnf"
    assert main(["grammar", "check", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"inferd-tui grammar check: cannot read {missing}: No such file or directory\n"


def test_sample_prints_escaped_strings_one_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lines.gbnf"
    path.write_text('root ::= "a\\nb\\t\\\\" [\\x1b]\n')
    assert main(["grammar", "sample", str(path), "-n", "2"]) == 0
    assert capsys.readouterr().out == "a\\nb\\t\\\\\\x1b\n" * 2


def test_sample_is_seeded(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["grammar", "sample", str(good), "-n", "8", "--seed", "3"])
    first = capsys.readouterr().out
    main(["grammar", "sample", str(good), "-n", "8", "--seed", "3"])
    assert capsys.readouterr().out == first
    assert len(first.splitlines()) == 8
    assert set(first.split()) <= {"yes", "no"}


def test_sample_invalid_grammar_exits_1(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grammar", "sample", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "undefined rule `answr`" in captured.err


def test_sample_bad_argument_is_one_line_and_exit_2(
    good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["grammar", "sample", str(good), "-n", "-1"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_match_success_and_failure(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grammar", "match", str(good), "yes"]) == 0
    assert capsys.readouterr().out == "match\n"
    assert main(["grammar", "match", str(good), "yep"]) == 1
    assert capsys.readouterr().out == 'no match at 1:3: expected "s"\n  yep\n    ^\n'


def test_match_reads_stdin(
    good: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("no"))
    assert main(["grammar", "match", str(good)]) == 0
    # One final line break (what `echo no |` sends) is not part of the text.
    for piped in ("no\n", "no\r\n"):
        monkeypatch.setattr(sys, "stdin", io.StringIO(piped, newline=""))
        assert main(["grammar", "match", str(good), "-"]) == 0, repr(piped)
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n\n"))
    assert main(["grammar", "match", str(good), "-"]) == 1
    assert "no match at 1:3: expected end of input" in capsys.readouterr().out
    # An argument is matched exactly.
    assert main(["grammar", "match", str(good), "no\n"]) == 1


def test_match_help_says_stdin_loses_one_line_break(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["grammar", "match", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "loses exactly one final line break" in help_text
    assert "TEXT given as an argument is matched exactly" in help_text


def test_match_with_invalid_grammar_exits_2(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grammar", "match", str(bad), "yes"]) == 2
    assert "cannot match" in capsys.readouterr().err


def test_too_deep_grammar_is_a_diagnostic_in_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.gbnf"
    path.write_text("root ::= " + "(" * 200 + '"a"' + ")" * 200 + "\n")
    assert main(["grammar", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:1:110: error: nesting too deep" in out
    assert main(["grammar", "sample", str(path)]) == 1
    assert main(["grammar", "match", str(path), "a"]) == 2
    err = capsys.readouterr().err
    assert err.count(f"{path}:1:110: error: nesting too deep") == 2
    assert "Traceback" not in err


def test_examples_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grammar", "examples"]) == 0
    listing = capsys.readouterr().out
    assert "yes-no" in listing
    assert "chess-move" in listing
    assert main(["grammar", "examples", "--show", "iso-date"]) == 0
    assert "root ::= year" in capsys.readouterr().out
    assert main(["grammar", "examples", "--show", "nope"]) == 2
    assert "no example named 'nope'" in capsys.readouterr().err


def test_python_m_entry_point_checks_a_file(bad: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "inferd_tui", "grammar", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert f"{bad}:1:10: error: undefined rule `answr`" in completed.stdout
