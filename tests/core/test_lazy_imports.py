"""Start-up stays light: what `inferd-tui` needs before its first frame imports no more.

Each check runs in a fresh interpreter, so what other tests imported does not count.
"""

from __future__ import annotations

import subprocess
import sys


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
