"""`inferd-tui config path` and `inferd-tui config show`."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from inferd_tui import settings_cli


def parse(argv: list[str]) -> argparse.Namespace:
    # The same shape as inferd_tui.cli: a top-level --config and flags, then subcommands.
    parser = argparse.ArgumentParser(prog="inferd-tui")
    parser.add_argument("--config")
    parser.add_argument("--tcp")
    parser.add_argument("--socket")
    parser.add_argument("--theme")
    parser.add_argument("--no-save", action="store_true")
    subparsers = parser.add_subparsers(dest="command")
    settings_cli.register(subparsers)
    return parser.parse_args(argv)


def run(argv: list[str], env: dict[str, str], default_path: Path) -> tuple[int, str, str]:
    args = parse(argv)
    out, err = io.StringIO(), io.StringIO()
    if args.func is settings_cli.run_show:
        code = settings_cli.run_show(args, env=env, default_path=default_path, out=out, err=err)
    else:
        code = settings_cli.run_path(args, env=env, default_path=default_path, out=out)
    return code, out.getvalue(), err.getvalue()


def test_config_path_reports_existence(tmp_path: Path) -> None:
    default = tmp_path / "config.toml"
    code, out, _ = run(["config", "path"], {}, default)
    assert code == 0
    assert out.splitlines() == [str(default), "# does not exist; chosen by default"]
    default.write_text("")
    assert run(["config", "path"], {}, default)[1].splitlines()[1] == "# exists; chosen by default"


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{chosen}", "config", "path"],
        ["config", "--config", "{chosen}", "path"],
        ["config", "path", "--config", "{chosen}"],
    ],
)
def test_config_flag_is_accepted_before_and_after_the_subcommand(
    tmp_path: Path, argv: list[str]
) -> None:
    chosen = tmp_path / "chosen.toml"
    argv = [part.format(chosen=chosen) for part in argv]
    code, out, _ = run(argv, {}, tmp_path / "default.toml")
    assert code == 0
    assert out.splitlines() == [str(chosen), "# does not exist; chosen by flag --config"]


def test_config_show_lists_values_and_sources(tmp_path: Path) -> None:
    default = tmp_path / "config.toml"
    default.write_text('theme = "nord"\n[keymap]\nsend = "f5"\n')
    env = {"INFERD_UDS": "/env.sock", "INFERD_API_KEY": "sk-very-secret"}
    code, out, err = run(["--no-save", "config", "show"], env, default)
    assert (code, err) == (0, "")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert out.splitlines()[0] == f"config file: {default} (found; chosen by default)"
    assert lines["theme"].split() == ["theme", '"nord"', "file", f"{default}:1"]
    assert lines["keymap.send"].split() == ["keymap.send", '"f5"', "file", f"{default}:3"]
    assert lines["endpoint.socket"].split() == [
        "endpoint.socket",
        '"/env.sock"',
        "env",
        "INFERD_UDS",
    ]
    assert lines["no_save"].split() == ["no_save", "true", "flag", "--no-save"]
    assert lines["endpoint.tcp"].split() == ["endpoint.tcp", "(not", "set)", "default"]
    assert "$INFERD_API_KEY is set" in out
    assert "sk-very-secret" not in out


def test_config_show_says_when_the_key_variable_is_unset(tmp_path: Path) -> None:
    _, out, _ = run(["config", "show"], {}, tmp_path / "config.toml")
    assert "$INFERD_API_KEY is not set" in out


def test_config_show_exits_2_with_one_line_on_errors(tmp_path: Path) -> None:
    default = tmp_path / "config.toml"
    default.write_text('[endpoint]\ntcp = "localhost"\n')
    code, out, err = run(["config", "show"], {}, default)
    assert code == 2
    assert out == ""
    assert err == (
        f'inferd-tui: config error: {default}:2: endpoint.tcp: expected "host:port",'
        ' got "localhost"\n'
    )
    code, _, err = run(["--config", str(tmp_path / "nope.toml"), "config", "show"], {}, default)
    assert code == 2
    assert err.count("\n") == 1
    assert "config file not found" in err


def test_config_show_reports_what_would_stop_the_app(tmp_path: Path) -> None:
    default = tmp_path / "config.toml"
    default.write_text('[keymap]\nsnd = "ctrl+s"\n')
    code, _, err = run(["config", "show"], {}, default)
    assert (code, err) == (
        2,
        f"inferd-tui: config error: {default}:2: keymap.snd: unknown binding id `snd`"
        " (did you mean `send`?)\n",
    )
    default.write_text('theme = "nrod"\n')
    code, _, err = run(["config", "show"], {}, default)
    assert code == 2
    assert f"{default}:1: theme: unknown theme `nrod` (did you mean `nord`?" in err


def test_the_real_entry_point_wires_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from inferd_tui.cli import main

    config = tmp_path / "c.toml"
    config.write_text('theme = "nord"\n')
    assert main(["--config", str(config), "config", "path"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == str(config)
