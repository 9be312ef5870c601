"""End to end: the installed `inferd-tui --demo` in a real terminal (tmux).

Types a prompt while the stand-in daemon is still booting (so it is queued and goes out on
`ready`), waits for the streamed answer on screen, copies it with OSC 52 (checked through
tmux's paste buffer) and quits. Polls the screen; never sleeps a fixed amount.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
APP = Path(sys.executable).with_name("inferd-tui")


def remove_tmux_socket(socket_name: str) -> None:
    """tmux leaves a private server's socket file behind when the server stops."""
    folder = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
    (folder / socket_name).unlink(missing_ok=True)


class Tmux:
    def __init__(self, socket_name: str) -> None:
        self.socket_name = socket_name

    def run(self, *args: str, check: bool = True) -> str:
        assert TMUX is not None
        result = subprocess.run(
            [TMUX, "-L", self.socket_name, *args], capture_output=True, text=True, check=check
        )
        return result.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "app", check=False)

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.05)  # polling interval, not a wait for something to happen
        raise AssertionError(f"timed out waiting for {what}; screen was:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux, or brew install tmux)")
    if not APP.exists():
        pytest.skip(f"the inferd-tui script is not installed next to {sys.executable}")
    session = Tmux(f"inferd-e2e-{uuid.uuid4().hex[:8]}")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
    }
    command = " ".join(f"{k}={v!s}" for k, v in env.items()) + f" {APP} --demo --no-save"
    session.run(
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "app",
        "-x",
        "140",
        "-y",
        "42",
        f"env -i {command}",
    )
    session.run("set-option", "-g", "set-clipboard", "on")
    try:
        yield session
    finally:
        session.run("kill-server", check=False)
        remove_tmux_socket(session.socket_name)


def test_demo_answers_copies_and_quits(tmux: Tmux) -> None:
    tmux.wait_for(lambda s: "Ask something" in s, "the prompt box")
    tmux.run("send-keys", "-t", "app", "-l", "How do Unix sockets work?")
    tmux.run("send-keys", "-t", "app", "Enter")
    screen = tmux.wait_for(lambda s: "completion tokens" in s, "a finished answer", timeout=90)
    assert "Unix" in screen or "socket" in screen
    tmux.run("send-keys", "-t", "app", "F9")
    tmux.wait_for(lambda s: "Copied turn" in s, "the copy notice")
    buffer = tmux.run("show-buffer", check=False)
    assert "socket" in buffer.lower()
    tmux.run("send-keys", "-t", "app", "C-q")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if "app" not in tmux.run("list-sessions", check=False):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the app did not exit on Ctrl+Q")


def prompt_lines(screen: str) -> list[str]:
    """The left column of each screen row (the sidebar starts at its border)."""
    return [row.split("▏")[0].strip() for row in screen.splitlines()]


def test_newline_keys_in_a_real_terminal(tmux: Tmux) -> None:
    """tmux sends Alt+Enter as ESC CR and Ctrl+J as LF: each adds a line, even typed at
    speed, and neither sends the prompt."""
    tmux.wait_for(lambda s: "Ask something" in s, "the prompt box")
    tmux.run("send-keys", "-t", "app", "-l", "first")
    tmux.run("send-keys", "-t", "app", "C-j")
    tmux.run("send-keys", "-t", "app", "-l", "second")
    tmux.run("send-keys", "-t", "app", "M-Enter")
    tmux.run("send-keys", "-t", "app", "-l", "third")

    def three_lines(screen: str) -> bool:
        rows = prompt_lines(screen)
        return "third" in rows and rows[rows.index("third") - 2 :][:3] == [
            "first",
            "second",
            "third",
        ]

    screen = tmux.wait_for(three_lines, "three lines in the prompt box")
    assert "You" not in prompt_lines(screen)[1:5]  # nothing was sent
