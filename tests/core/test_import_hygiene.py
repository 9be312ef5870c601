"""The core must be usable without a terminal: importing it never pulls in Textual or Rich."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "inferd_tui.proto",
    "inferd_tui.client",
    "inferd_tui.grammar",
    "inferd_tui.mock_daemon",
    "inferd_tui.conversation",
    "inferd_tui.session",
    "inferd_tui.store",
    "inferd_tui.settings",
    "inferd_tui.files",
]


def test_core_does_not_import_textual_or_rich() -> None:
    script = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    # Packages load their exports on first use: import every submodule.\n"
        "    for info in pkgutil.walk_packages(getattr(module, '__path__', []), name + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'})\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
