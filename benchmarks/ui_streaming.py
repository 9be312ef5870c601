"""UI streaming in a real terminal: a ~1,100-token Markdown answer (code blocks, tables) at
150 tokens/s from the stand-in daemon (its own process) into `inferd-tui` under tmux; then
the same answer after 300 thinking deltas (issue 13), which must meet the same targets.

Measures (issue 3, benchmark 1; issue 13 part 6), for each run:

- settle: from the daemon writing its ``done`` frame to the usage footer ("completion
  tokens") on screen, screen then unchanged for 2 polls of ``tmux capture-pane``
  (polled every ~10 ms). Target ≤ 0.5 s.
- CPU: the app process's utime+stime (/proc/<pid>/stat) over the streaming window (first
  token → done), as a fraction of one core. Target ≤ 0.6.

The daemon is this script re-run with ``--serve`` (the tape has tokens like "- item" and
"\\n" that argv cannot carry): the real ``MockDaemon``, with its frame writes paced on an
absolute 150/s schedule (its own per-token ``sleep(1/150)`` overshoots to ~130/s) and
timestamped (CLOCK_MONOTONIC, the same clock in every process) into a file.
The thinking run: the stand-in plays inferd 0.8 (the length-prefixed wire) with a tape of
300 ``thinking`` deltas, then the same text. The run checks that thinking lines (the ┊
rule) were on screen while it streamed and were gone (folded) at the end, so a run that
showed no thinking fails loudly rather than measuring plain text.

A PASS/MISS line per target (worst run); skips (exit 0) without tmux; exit 1 on a MISS.

Run: .venv/bin/python benchmarks/ui_streaming.py
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TOKENS = 1_100
THINKING_DELTAS = 300
RATE = 150.0  # tokens/s
SETTLE_TARGET_S = 0.5
CPU_TARGET = 0.6  # cores
RUNS = 2
SIZE = (140, 42)
POLL_S = 0.01
VENV_BIN = Path(sys.executable).parent
APP = VENV_BIN / "inferd-tui"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the answer -----------------------------------------------------------------------

_WORDS = (  # noqa: SIM905 - a list literal of 34 words is harder to read
    "socket buffer frame token stream daemon client request latency throughput cache "
    "render width block table column parser queue worker thread event loop backpressure "
    "handshake timeout retry budget memory layout widget terminal cursor scroll follow"
).split()

_CODE = {
    "python": (
        "def {name}(items: list[str], limit: int = {n}) -> dict[str, int]:\n"
        '    """Count the {w0} per {w1}, keeping at most `limit` of them."""\n'
        "    counts: dict[str, int] = {{}}\n"
        "    for item in items[:limit]:\n"
        "        key = item.strip().lower()\n"
        "        counts[key] = counts.get(key, 0) + 1\n"
        "    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))\n"
    ),
    "bash": (
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        "for f in /var/lib/{w0}/*.log; do\n"
        '  grep -c "{w1}" "$f" | awk -v n={n} \'$1 > n {{ print FILENAME": "$1 }}\'\n'
        "done\n"
    ),
    "rust": (
        "fn {name}(input: &[u8]) -> Result<Vec<&str>, std::str::Utf8Error> {{\n"
        "    let text = std::str::from_utf8(input)?;\n"
        "    Ok(text.split('\\n').filter(|l| l.len() > {n}).collect())\n"
        "}}\n"
    ),
    "sql": (
        "SELECT {w0}, count(*) AS n, avg(latency_ms) AS avg_ms\n"
        "FROM {w1}_events\n"
        "WHERE created_at > now() - interval '{n} minutes'\n"
        "GROUP BY {w0}\n"
        "ORDER BY n DESC\n"
        "LIMIT 20;\n"
    ),
}


def _sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(_WORDS) for _ in range(words)]
    text = " ".join(chosen)
    if rng.random() < 0.3:
        text = text.replace(chosen[1], f"`{chosen[1]}`", 1)
    if rng.random() < 0.2:
        text = text.replace(chosen[-1], f"**{chosen[-1]}**", 1)
    return text[0].upper() + text[1:] + "."


def markdown_answer(seed: int, min_tokens: int) -> str:
    """Realistic assistant Markdown of about ``min_tokens`` word-sized tokens: headings,
    paragraphs, lists, fenced code in several languages and tables."""
    from inferd_tui.mock_daemon.demo_text import split_tokens

    rng = random.Random(seed)
    parts: list[str] = []
    sections: list[int] = []  # the length of ``parts`` after each section
    section = 0
    while len(split_tokens("\n".join(parts))) < min_tokens:
        section += 1
        w0, w1 = rng.sample(_WORDS, 2)
        parts += [f"## {section}. The {w0} and its {w1}", ""]
        parts += [" ".join(_sentence(rng, rng.randint(6, 14)) for _ in range(3)), ""]
        kind = section % 3
        if kind == 0:
            parts += [f"{i}. {_sentence(rng, rng.randint(4, 9))}" for i in range(1, 5)]
        else:
            parts += [f"- {_sentence(rng, rng.randint(4, 9))}" for _ in range(4)]
        parts.append("")
        language = list(_CODE)[section % len(_CODE)]
        name = f"{w0}_{w1}".replace("-", "_")
        code = _CODE[language].format(name=name, w0=w0, w1=w1, n=rng.randint(2, 99))
        parts += [f"```{language}", code.rstrip("\n"), "```", ""]
        if section % 2:
            parts += [f"| {w0.title()} | Good for | Watch out for | p99 |", "|---|---|---|---:|"]
            for _ in range(3):
                a, b, c = (rng.choice(_WORDS) for _ in range(3))
                parts.append(
                    f"| `{a}` | {b} {c} | {rng.choice(_WORDS)} | {rng.randint(1, 900)} ms |"
                )
            parts.append("")
        sections.append(len(parts))
    # Stop at the section boundary nearest to ``min_tokens``.
    if len(sections) > 1:
        shorter = len(split_tokens("\n".join(parts[: sections[-2]])))
        if min_tokens - shorter < len(split_tokens("\n".join(parts))) - min_tokens:
            parts = parts[: sections[-2]]
    closing: list[str] = []
    while len(split_tokens("\n".join([*parts, " ".join(closing)]))) < min_tokens:
        closing.append(_sentence(rng, rng.randint(6, 14)))
    parts.append(" ".join(closing))
    return "\n".join(parts).rstrip("\n")


def thinking_tokens(seed: int, count: int) -> list[str]:
    """``count`` word-sized thinking deltas: plain sentences, a line break now and then."""
    from inferd_tui.mock_daemon.demo_text import split_tokens

    rng = random.Random(seed)
    lines: list[str] = []
    while len(split_tokens("\n".join(lines))) < count + 20:
        lines.append(" ".join(_sentence(rng, rng.randint(8, 16)) for _ in range(2)))
    return split_tokens("\n".join(lines) + "\n")[:count]


def answer_tokens(seed: int, count: int) -> list[str]:
    """About ``count`` tokens (cut at a section boundary so the Markdown stays whole)."""
    from inferd_tui.mock_daemon.demo_text import split_tokens

    return split_tokens(markdown_answer(seed, count))


# --- the daemon process -----------------------------------------------------------------


def serve(socket_path: str, admin_path: str, tape_path: str, log_path: str, thinking: str) -> None:
    """Run the stand-in daemon; log the CLOCK_MONOTONIC time of every frame written. With
    ``thinking`` > 0 it plays inferd 0.8, the first that many tokens as thinking deltas."""
    import anyio

    from inferd_tui.mock_daemon import MockConfig, MockDaemon
    from inferd_tui.mock_daemon import daemon as daemon_module

    tokens = tuple(json.loads(Path(tape_path).read_text()))
    original = daemon_module.MockDaemon._stream_frames

    class TimedStream:
        """Paces the frames on an absolute schedule (``anyio.sleep(1/150)`` per token
        overshoots to ~130 tokens/s) and timestamps each one once it is written."""

        def __init__(self, stream: Any) -> None:
            self.stream = stream
            self.times: list[float] = []

        async def send(self, data: bytes) -> None:
            if self.times:
                await anyio.sleep_until(self.times[0] + len(self.times) / RATE)
            await self.stream.send(data)
            self.times.append(time.monotonic())

    async def timed(self: Any, stream: Any, frames: Any, *args: Any) -> bool:
        wrapper = TimedStream(stream)
        try:
            return bool(await original(self, wrapper, frames, *args))
        finally:
            record = {"frames": wrapper.times, "tokens": len(frames)}
            tmp = log_path + ".tmp"
            Path(tmp).write_text(json.dumps(record))  # noqa: ASYNC240 - once, at the end
            os.replace(tmp, log_path)

    daemon_module.MockDaemon._stream_frames = timed  # type: ignore[method-assign]

    async def run() -> None:
        thoughts = int(thinking)
        tape = tuple(
            {"type": "thinking" if index < thoughts else "text", "delta": token}
            for index, token in enumerate(tokens)
        )
        config = MockConfig(
            socket_path=Path(socket_path),
            admin_path=Path(admin_path),
            tokens=tokens,
            token_delay_s=0.0,  # paced by TimedStream
            **({"era": "0.8", "tape": tape} if thoughts else {}),  # type: ignore[arg-type]
        )
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async with MockDaemon.start(config) as daemon:
                await daemon.wait_ready()
                print("ready", flush=True)
                async for _ in signals:
                    break

    anyio.run(run)


# --- tmux and /proc -----------------------------------------------------------------------


def remove_tmux_socket(socket_name: str) -> None:
    """tmux leaves a private server's socket file behind when the server stops."""
    folder = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
    (folder / socket_name).unlink(missing_ok=True)


class Tmux:
    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket_name = f"bench-ui-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [self.tmux, "-L", self.socket_name, *args], capture_output=True, text=True, check=check
        )
        return result.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "app", check=False)

    def start(self, command: str) -> None:
        width, height = SIZE
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "app", "-x", str(width), "-y",
                 str(height), command)  # fmt: skip

    def kill(self) -> None:
        self.run("kill-server", check=False)
        remove_tmux_socket(self.socket_name)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen():
                return
            time.sleep(POLL_S)
        raise RuntimeError(f"timed out waiting for {text!r}; screen:\n{self.screen()}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def app_pid(tmux: Tmux) -> int:
    """The python process running inferd-tui: the pane's process or a descendant of it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pane = int(tmux.run("list-panes", "-t", "app", "-F", "#{pane_pid}").split()[0])
        todo = [pane]
        while todo:
            pid = todo.pop()
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if any(b"inferd-tui" in part for part in cmdline) and b"python" in cmdline[0]:
                    return pid
            todo += _children(pid)
        time.sleep(0.05)
    raise RuntimeError("could not find the inferd-tui process in the tmux pane")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def _at(samples: list[tuple[float, float]], when: float) -> float:
    """The CPU seconds at ``when``, interpolated between the polls around it."""
    for (t0, c0), (t1, c1) in itertools.pairwise(samples):
        if t0 <= when <= t1:
            return c0 if t1 == t0 else c0 + (c1 - c0) * (when - t0) / (t1 - t0)
    return samples[0][1] if when < samples[0][0] else samples[-1][1]


# --- one run --------------------------------------------------------------------------------


def run_once(tmux_path: str, tokens: list[str], thinking: int = 0) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bui-", dir="/tmp"))
    home = work / "home"
    home.mkdir()
    tape, log = work / "tape.json", work / "frames.json"
    tape.write_text(json.dumps(tokens))
    sock = work / ("inferd.sock" if thinking else "infer.sock")
    admin = work / "admin.sock"
    daemon = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(sock),
            str(admin),
            str(tape),
            str(log),
            str(thinking),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    tmux = Tmux(tmux_path)
    try:
        assert daemon.stdout is not None
        if daemon.stdout.readline().strip() != "ready":
            raise RuntimeError("the stand-in daemon did not start")
        env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "TERM": "xterm-256color",
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
        }
        assignments = " ".join(f"{k}={v}" for k, v in env.items())
        app = str(APP)
        tmux.start(f"env -i {assignments} {app} --socket {sock} --admin {admin} --no-save")
        tmux.wait_for("Ask something")
        tmux.wait_for("ready")
        pid = app_pid(tmux)
        tmux.run("send-keys", "-t", "app", "-l", "Write the long design note, please")
        samples: list[tuple[float, float]] = [(time.monotonic(), cpu_seconds(pid))]
        tmux.run("send-keys", "-t", "app", "Enter")
        footer_at: float | None = None
        settled_at: float | None = None
        previous, unchanged = "", 0
        saw_thinking = False
        deadline = time.monotonic() + len(tokens) / RATE * 3 + 20
        while time.monotonic() < deadline:
            screen = tmux.screen()
            now = time.monotonic()
            saw_thinking = saw_thinking or "┊" in screen
            samples.append((now, cpu_seconds(pid)))
            if footer_at is None and "completion tokens" in screen:
                footer_at = now
            if footer_at is not None:
                unchanged = unchanged + 1 if screen == previous else 0
                if unchanged >= 2:
                    settled_at = now
                    break
            previous = screen
            # Poll gently while tokens stream (the poller shares the 2 cores), every
            # ~10 ms once the daemon has written its last frame.
            time.sleep(POLL_S if log.exists() else 0.05)
        if footer_at is None or settled_at is None:
            raise RuntimeError(f"the answer never settled; screen:\n{tmux.screen()}")
        if thinking and (not saw_thinking or "┊" in previous):
            raise RuntimeError(
                "the thinking was not shown while streaming and folded at the end (does the "
                f"chat flow still stream through Client.generate?); screen:\n{previous}"
            )
        record = json.loads(log.read_text())
        frames = record["frames"]
        first, last_token, done = frames[0], frames[-2], frames[-1]
        cpu = (_at(samples, done) - _at(samples, first)) / (done - first)
        # While only thinking arrived (reported, not a target: the whole window is).
        thought = frames[thinking - 1] if thinking else first
        thinking_cpu = (_at(samples, thought) - _at(samples, first)) / (thought - first or 1)
        return {
            "thinking_cpu": thinking_cpu,
            "footer_s": footer_at - done,
            "settled_s": settled_at - done,
            "cpu": cpu,
            "stream_s": done - first,
            "rate": (len(frames) - 2) / (last_token - first),
        }
    finally:
        tmux.kill()
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        shutil.rmtree(work, ignore_errors=True)


def measure(tmux_path: str, label: str, tokens: list[str], thinking: int) -> bool:
    """``RUNS`` runs of one tape; a PASS/MISS line per target (worst run)."""
    footers: list[float] = []
    cpus: list[float] = []
    for number in range(1, RUNS + 1):
        result = run_once(tmux_path, tokens, thinking)
        settle_ok = result["footer_s"] <= SETTLE_TARGET_S
        cpu_ok = result["cpu"] <= CPU_TARGET
        footers.append(result["footer_s"])
        cpus.append(result["cpu"])
        print(
            f"{label} run {number}: streamed {result['stream_s']:.2f} s at "
            f"{result['rate']:.0f} frames/s · usage footer on screen "
            f"{result['footer_s'] * 1000:.0f} ms after done "
            f"(target ≤ {SETTLE_TARGET_S * 1000:.0f} ms) {'ok' if settle_ok else 'missed'}; "
            f"settled (2 unchanged polls) at {result['settled_s'] * 1000:.0f} ms · "
            f"app CPU {result['cpu']:.2f} of a core (target ≤ {CPU_TARGET:g}) "
            f"{'ok' if cpu_ok else 'missed'}"
            + (f" ({result['thinking_cpu']:.2f} while thinking)" if thinking else ""),
            flush=True,
        )
    settle_ok = max(footers) <= SETTLE_TARGET_S
    cpu_ok = max(cpus) <= CPU_TARGET
    print(
        f"{'PASS' if settle_ok else 'MISS'}: {label}: usage footer on screen after done, "
        f"worst run {max(footers) * 1000:.0f} ms (target ≤ {SETTLE_TARGET_S * 1000:.0f} ms)"
    )
    print(
        f"{'PASS' if cpu_ok else 'MISS'}: {label}: app CPU while streaming, worst run "
        f"{max(cpus):.2f} of a core (target ≤ {CPU_TARGET:g})",
        flush=True,
    )
    return settle_ok and cpu_ok


def main() -> int:
    tmux_path = shutil.which("tmux")
    if tmux_path is None:
        print("SKIP: tmux is not installed (apt-get install tmux); this benchmark needs it")
        return 0
    if not APP.exists():
        print(f"SKIP: the inferd-tui script is not installed next to {sys.executable}")
        return 0
    tokens = answer_tokens(seed=3, count=TOKENS)
    text = "".join(tokens)
    tables = sum(line.startswith("|---") for line in text.splitlines())
    print(
        f"answer: {len(tokens):,} tokens, {len(text):,} characters, "
        f"{text.count('```') // 2} code blocks, {tables} tables; "
        f"{RATE:g} tokens/s, terminal {SIZE[0]}×{SIZE[1]}"
    )
    text_ok = measure(tmux_path, "text", tokens, 0)
    thoughts = thinking_tokens(seed=5, count=THINKING_DELTAS)
    print(
        f"thinking: {len(thoughts)} deltas, {len(''.join(thoughts)):,} characters, "
        f"{''.join(thoughts).count(chr(10))} lines, then the same answer"
    )
    thinking_ok = measure(tmux_path, "thinking", [*thoughts, *tokens], len(thoughts))
    return 0 if text_ok and thinking_ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--serve":
        serve(*sys.argv[2:])
    else:
        sys.exit(main())
