"""Start-up: from launching `inferd-tui --demo --no-save` in a real terminal (tmux) to the
first usable screen — the prompt placeholder "Ask something" in ``tmux capture-pane``
(polled every ~10 ms). One warm-up launch, then the median of 5 (issue 3, benchmark 5:
target ≤ 0.6 s).

A minimal Textual app (header, input with the same placeholder, footer) is launched
alternately with the app in the same run, and the ratio of the medians is checked too
(issue 12: target ≤ 2.2), so the figure means something on a slower or busier machine.

PYTHONDONTWRITEBYTECODE is removed from the app's environment so bytecode is cached (the
warm-up writes it). Always prints the slowest imports on the way to the first screen
(``python -X importtime``), and what they are, so a miss points at something to make lazy.
Prints one PASS/MISS line per target; skips (exit 0) without tmux; exit 1 on a MISS.

Run: .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TARGET_S = 0.6
TARGET_RATIO = 2.2
RUNS = 5
SIZE = (140, 42)
POLL_S = 0.01
READY_TEXT = "Ask something"
APP = Path(sys.executable).parent / "inferd-tui"


def remove_tmux_socket(socket_name: str) -> None:
    """tmux leaves a private server's socket file behind when the server stops."""
    folder = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
    (folder / socket_name).unlink(missing_ok=True)


class Tmux:
    """A private tmux server (``-L``) that lives for the whole benchmark."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket_name = f"bench-start-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [self.tmux, "-L", self.socket_name, *args], capture_output=True, text=True, check=check
        )
        return result.stdout

    def screen(self, session: str) -> str:
        return self.run("capture-pane", "-p", "-t", session, check=False)

    def gone(self, session: str) -> bool:
        return (
            subprocess.run(
                [self.tmux, "-L", self.socket_name, "has-session", "-t", session],
                capture_output=True,
            ).returncode
            != 0
        )


MINIMAL_APP = f"""\
from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Input


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="{READY_TEXT}")
        yield Footer()


Minimal().run()
"""


def clean_env(home: Path) -> str:
    """``env -i`` with a private home; no PYTHONDONTWRITEBYTECODE, so bytecode is reused."""
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
    }
    return "env -i " + " ".join(f"{k}={v}" for k, v in env.items())


def minimal_command(home: Path) -> str:
    script = home / "minimal_app.py"
    if not script.exists():
        script.write_text(MINIMAL_APP)
    return f"{clean_env(home)} {sys.executable} {script}"


def app_command(home: Path, prefix: str = "") -> str:
    return f"{clean_env(home)} {prefix}{APP} --demo --no-save"


def launch(tmux: Tmux, name: str, command: str, timeout: float = 30) -> float:
    """Seconds from starting ``command`` in a new tmux session to the ready text; then quit."""
    width, height = SIZE
    started = time.perf_counter()
    tmux.run("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), command)
    deadline = started + timeout
    elapsed = None
    while time.perf_counter() < deadline:
        if READY_TEXT in tmux.screen(name):
            elapsed = time.perf_counter() - started
            break
        time.sleep(POLL_S)
    tmux.run("send-keys", "-t", name, "C-q", check=False)
    quit_deadline = time.perf_counter() + 10
    while not tmux.gone(name) and time.perf_counter() < quit_deadline:
        time.sleep(0.02)
    if not tmux.gone(name):
        tmux.run("kill-session", "-t", name, check=False)
    if elapsed is None:
        raise RuntimeError(f"{READY_TEXT!r} never appeared; screen:\n{tmux.screen(name)}")
    return elapsed


_IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


_IMPORTTIME_WRAPPER = """\
import os, sys
# -X importtime writes to fd 2, and so does Textual (sys.__stderr__): keep the terminal
# for Textual on a duplicate and send fd 2 to the log.
terminal = os.dup(2)
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.dup2(log, 2)
sys.stderr = sys.__stderr__ = os.fdopen(terminal, "w", buffering=1)
sys.argv = ["inferd-tui", "--demo", "--no-save"]
from inferd_tui.cli import main
sys.exit(main())
"""


def import_offenders(tmux: Tmux, home: Path, limit: int = 12) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the slowest top-level imports of one real launch."""
    log, wrapper = home / "importtime.txt", home / "importtime_wrapper.py"
    wrapper.write_text(_IMPORTTIME_WRAPPER)
    python = Path(sys.executable)
    command = app_command(home).replace(
        f"{APP} --demo --no-save", f"{python} -X importtime {wrapper} {log}"
    )
    launch(tmux, "importtime", command)
    entries = []
    for line in log.read_text().splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            entries.append((len(match.group(3)), int(match.group(2)) / 1e6, match.group(4)))
    if not entries:
        return []
    top = min(indent for indent, _, _ in entries)  # the least indented: top-level imports
    offenders = [(seconds, name) for indent, seconds, name in entries if indent == top]
    return sorted(offenders, reverse=True)[:limit]


def main() -> int:
    tmux_path = shutil.which("tmux")
    if tmux_path is None:
        print("SKIP: tmux is not installed (apt-get install tmux); this benchmark needs it")
        return 0
    if not APP.exists():
        print(f"SKIP: the inferd-tui script is not installed next to {sys.executable}")
        return 0
    home = Path(tempfile.mkdtemp(prefix="bst-", dir="/tmp"))
    tmux = Tmux(tmux_path)
    try:
        # A placeholder session keeps the server up, so server start-up is not timed.
        tmux.run("-f", "/dev/null", "new-session", "-d", "-s", "idle", "sleep 600")
        warm = launch(tmux, "warmup", app_command(home))
        launch(tmux, "warmup-minimal", minimal_command(home))
        times: list[float] = []
        minimal_times: list[float] = []
        for number in range(RUNS):  # alternated, so both see the same machine
            times.append(launch(tmux, f"run{number}", app_command(home)))
            minimal_times.append(launch(tmux, f"minimal{number}", minimal_command(home)))
        median = statistics.median(times)
        minimal = statistics.median(minimal_times)
        ratio = median / minimal
        ok = median <= TARGET_S
        ratio_ok = ratio <= TARGET_RATIO
        print(f"warm-up launch (writes bytecode): {warm * 1000:.0f} ms")
        print("runs: " + ", ".join(f"{t * 1000:.0f}" for t in times) + " ms")
        print("minimal app: " + ", ".join(f"{t * 1000:.0f}" for t in minimal_times) + " ms")
        print(
            f"{'PASS' if ok else 'MISS'}: launch → {READY_TEXT!r} on screen: median "
            f"{median * 1000:.0f} ms of {RUNS} (target ≤ {TARGET_S * 1000:.0f} ms)"
        )
        print(
            f"{'PASS' if ratio_ok else 'MISS'}: ratio to a minimal Textual app (header, input, "
            f"footer; median {minimal * 1000:.0f} ms): ×{ratio:.2f} (target ≤ ×{TARGET_RATIO})"
        )
        print("slowest top-level imports on the way (python -X importtime, cumulative):")
        for seconds, module in import_offenders(tmux, home):
            print(f"  {seconds * 1000:6.1f} ms  {module}")
        return 0 if ok and ratio_ok else 1
    finally:
        tmux.run("kill-server", check=False)
        remove_tmux_socket(tmux.socket_name)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
