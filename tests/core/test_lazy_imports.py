"""Start-up stays light: what `inferd-tui` needs before its first frame imports no more.

Each check runs in a fresh interpreter, so what other tests imported does not count.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from inferd_tui._lazy import exported_sources


def imported_after(code: str, prefixes: tuple[str, ...]) -> list[str]:
    script = (
        "import sys\n"
        f"{code}\n"
        f"print(','.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_registering_subcommands_imports_neither_the_daemon_nor_the_grammar_engine() -> None:
    loaded = imported_after(
        "from inferd_tui.cli import build_parser\nbuild_parser()",
        ("inferd_tui.mock_daemon.daemon", "inferd_tui.grammar.checks", "anyio", "textual"),
    )
    assert loaded == []


def test_launching_the_app_does_not_build_the_subcommands() -> None:
    loaded = imported_after(
        "from inferd_tui.cli import parse_args\n"
        "assert parse_args(['--demo', '--no-save', '--wire', 'v2']).command is None",
        ("inferd_tui.headless", "inferd_tui.settings_cli", "inferd_tui.mock_daemon.cli"),
    )
    assert loaded == []


def test_the_launcher_pauses_the_collector_before_its_heavy_imports() -> None:
    """Importing pydantic, the settings and Textual with the collector running costs
    tens of collections before the first frame."""
    script = (
        "import gc, sys\n"
        "import inferd_tui.ui.launch as launch\n"
        "assert 'pydantic' not in sys.modules and 'textual.app' not in sys.modules\n"
        "seen = []\n"
        "def _run_app(args):\n"
        "    import inferd_tui.runtime\n"
        "    seen.append(gc.isenabled())\n"
        "    return 0\n"
        "launch._run_app = _run_app\n"
        "assert launch.run_app(None) == 0 and seen == [False] and gc.isenabled()\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_the_packages_still_offer_every_name_on_first_use() -> None:
    loaded = imported_after(
        "from inferd_tui.mock_daemon import MockConfig\n"
        "from inferd_tui.grammar import check, EXAMPLES\n"
        "assert check('root ::= \"x\"').ok and EXAMPLES",
        ("inferd_tui.mock_daemon.daemon", "inferd_tui.grammar.checks"),
    )
    assert loaded == ["inferd_tui.grammar.checks"]


def test_an_empty_keymap_is_checked_without_importing_the_screens() -> None:
    loaded = imported_after(
        "import argparse\n"
        "from inferd_tui.runtime import runtime_from_args\n"
        "from inferd_tui.ui.launch import BindingIdsOnDemand\n"
        "args = argparse.Namespace(demo=True)\n"
        "env = {'XDG_CONFIG_HOME': '/nonexistent-inferd-tui-test'}\n"
        "with runtime_from_args(args, env=env, binding_ids=BindingIdsOnDemand()):\n"
        "    pass",
        ("inferd_tui.ui.screens", "inferd_tui.ui.app", "inferd_tui.mock_daemon.daemon"),
    )
    assert loaded == []


def test_a_keymap_entry_is_still_checked_against_every_binding() -> None:
    """The binding table is data: checking an entry needs every id, but no screen."""
    loaded = imported_after(
        "from inferd_tui.ui.launch import BindingIdsOnDemand\n"
        "ids = BindingIdsOnDemand()\n"
        "assert 'help' in ids and 'no-such-binding' not in ids and len(ids) > 10",
        ("inferd_tui.ui.screens.chat",),
    )
    assert loaded == []


def test_the_collector_waits_for_the_first_frame_then_skips_the_start_up_objects() -> None:
    script = (
        "import gc\n"
        "from inferd_tui.ui import collector\n"
        "collector.pause()\n"
        "assert not gc.isenabled()\n"
        "collector.pause()  # twice: still one resume\n"
        "kept = [[n] for n in range(1000)]  # long-lived start-up objects\n"
        "collector.resume()\n"
        "assert gc.isenabled() and gc.get_freeze_count() >= 1000\n"
        "collector.resume()  # nothing paused it: nothing to do\n"
        "gc.disable()\n"
        "collector.pause(); collector.resume()  # off before: stays off\n"
        "assert not gc.isenabled()\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_the_pure_eras_table_loads_without_the_wire_models() -> None:
    """`inferd-tui --demo` reads the eras before the first frame; pydantic can wait."""
    loaded = imported_after(
        "from inferd_tui.proto.eras import ERAS\nfrom inferd_tui.client import resolve_endpoints",
        ("pydantic", "inferd_tui.proto.models", "inferd_tui.client.client", "anyio"),
    )
    assert loaded == []


@pytest.mark.parametrize(
    "package_name",
    ["inferd_tui.proto", "inferd_tui.client", "inferd_tui.grammar", "inferd_tui.mock_daemon"],
)
def test_every_exported_name_is_the_one_its_submodule_defines(package_name: str) -> None:
    package = importlib.import_module(package_name)
    spec = package.__spec__
    assert spec is not None and spec.origin is not None
    sources = exported_sources(Path(spec.origin).read_text())
    # EXAMPLES is the grammar package's one computed export.
    assert set(sources) == set(package.__all__) - {"EXAMPLES"}
    for name, (module_name, attribute) in sources.items():
        assert getattr(package, name) is getattr(importlib.import_module(module_name), attribute)
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = package.no_such_name


def test_the_first_screen_is_drawn_without_the_client_the_session_or_the_grammar_engine() -> None:
    """They load just after the first frame (``InferdApp._after_first_frame``)."""
    loaded = imported_after(
        "import inferd_tui.ui.app, inferd_tui.ui.screens.chat",
        (
            "inferd_tui.client.client",
            "inferd_tui.client.admin",
            "inferd_tui.session",
            "inferd_tui.grammar.",
            "inferd_tui.ui.widgets.grammar_editor",
            "inferd_tui.ui.screens.tool_result",
            "inferd_tui.mock_daemon.daemon",
        ),
    )
    assert loaded == []


def test_settling_collects_what_a_freeze_kept_then_freezes_what_is_left() -> None:
    script = (
        "import gc, weakref\n"
        "from inferd_tui.ui import collector\n"
        "class Node: pass\n"
        "collector.settle()  # the launcher has not paused it: nothing to do\n"
        "assert gc.get_freeze_count() == 0\n"
        "collector.pause()\n"
        "cycle = Node(); cycle.me = cycle; alive = weakref.ref(cycle)\n"
        "collector.settle()  # still paused: nothing to do\n"
        "collector.resume()  # the first frame: the cycle is frozen with the rest\n"
        "del cycle\n"
        "gc.collect()\n"
        "assert alive() is not None  # frozen objects are never collected...\n"
        "kept = [[n] for n in range(1000)]\n"
        "collector.settle()\n"
        "assert alive() is None  # ...until a settle unfreezes and collects\n"
        "assert gc.get_freeze_count() >= 1000 and gc.isenabled()\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


LAZY_PACKAGE_INIT = """\
from typing import TYPE_CHECKING

from inferd_tui._lazy import lazy_exports

if TYPE_CHECKING:
    from lazypkg.colours import RED
    from lazypkg.shapes import Square

__all__ = ["RED", "Square"]

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__)
"""


@pytest.mark.parametrize("bytecode_only", [False, True])
def test_lazy_exports_resolve_with_or_without_the_packages_source(
    tmp_path: Path, bytecode_only: bool
) -> None:
    package = tmp_path / "lazypkg"
    package.mkdir()
    (package / "__init__.py").write_text(LAZY_PACKAGE_INIT)
    (package / "colours.py").write_text("RED = 'red'\n")
    (package / "shapes.py").write_text("class Square:\n    pass\n")
    if bytecode_only:  # as some frozen or bytecode-only builds ship it
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-b", str(package)], check=True)
        for source in package.glob("*.py"):
            source.unlink()
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "import lazypkg\n"
        "assert 'lazypkg.colours' not in sys.modules or "
        f"{bytecode_only!r}  # nothing loaded yet (with source)\n"
        "assert lazypkg.RED == 'red' and lazypkg.Square.__name__ == 'Square'\n"
        "assert not hasattr(lazypkg, 'nope') and {'RED', 'Square'} <= set(dir(lazypkg))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
