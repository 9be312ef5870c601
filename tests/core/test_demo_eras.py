"""`--demo` plays the newest release; `--demo-era` another; the hints follow the era."""

from __future__ import annotations

import pytest

from inferd_tui.cli import DEMO_ERAS, build_parser
from inferd_tui.mock_daemon.cli import ERA_CHOICES
from inferd_tui.mock_daemon.demo_hints import DEFAULT_DEMO_ERA, demo_hints
from inferd_tui.proto.eras import ERAS
from inferd_tui.runtime import runtime_from_args


def test_demo_eras_are_the_stand_ins_eras() -> None:
    assert DEMO_ERAS == ERA_CHOICES == ERAS
    assert ERAS[-1] == DEFAULT_DEMO_ERA


@pytest.mark.parametrize(
    ("argv", "era", "leaf"),
    [
        (["--demo"], "0.8", "inferd.sock"),
        (["--demo-era", "0.3"], "0.3", "infer.sock"),
        (["--demo", "--demo-era", "0.5"], "0.5", "inferd.sock"),
        (["status", "--demo"], "0.8", "inferd.sock"),
        (["ask", "--demo-era", "0.1", "hi"], "0.1", "infer.sock"),
    ],
)
def test_demo_plays_the_newest_release_unless_told(argv: list[str], era: str, leaf: str) -> None:
    args = build_parser().parse_args(argv)
    with runtime_from_args(args, env={}) as runtime:
        assert runtime.demo is not None
        assert runtime.demo.era == era
        assert runtime.demo.socket_path is not None
        assert runtime.demo.socket_path.name == leaf
        assert runtime.resolution.inference.path == runtime.demo.socket_path


def test_no_demo_without_the_flags() -> None:
    with runtime_from_args(build_parser().parse_args([]), env={}) as runtime:
        assert runtime.demo is None


def test_an_unknown_demo_era_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--demo-era", "0.7"])
    assert exited.value.code == 2
    assert "--demo-era" in capsys.readouterr().err


def test_hints_name_what_each_era_can_do() -> None:
    newest = "\n".join(demo_hints("0.8"))
    assert "inferd 0.8" in newest
    assert "Thinking" in newest and "a tool" in newest and "JSON schema" in newest
    assert "--demo-era 0.3" in newest and "GBNF" in newest  # the v1 flow is one flag away
    v1 = "\n".join(demo_hints("0.3"))
    assert "GBNF grammar" in v1 and "Thinking" not in v1 and "a tool" not in v1
    assert "--demo-era 0.8" in v1
    only_tools = "\n".join(demo_hints("0.4"))
    assert "a tool" in only_tools and "Thinking" not in only_tools
    assert "JSON schema" not in only_tools
    for era in ERAS:
        assert all(len(line) <= 80 for line in demo_hints(era)), era
