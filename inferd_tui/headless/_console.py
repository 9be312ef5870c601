"""What every headless command shares: output, the sync→async runner, the demo daemon.

Output is written a line at a time and flushed at once, so ``| grep`` and ``tee`` see
each event as it happens. A reader that goes away (``| head -1``) ends the command
quietly. Daemon-supplied text is made safe by the callers (``safe``) before it gets here.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import anyio

from inferd_tui.runtime import Runtime, UsageError, fail_usage, runtime_from_args
from inferd_tui.text_safety import UNSAFE_BEYOND_C0, sanitize

if TYPE_CHECKING:
    from inferd_tui.mock_daemon import MockDaemon

Core = Callable[[argparse.Namespace, Runtime, "Console"], Awaitable[int]]

EXIT_OK = 0
EXIT_NOT_READY = 1
EXIT_UNREACHABLE = 2
EXIT_USAGE = 2
EXIT_INVALID_REQUEST = 3
EXIT_DAEMON_ERROR = 4
EXIT_QUEUE_FULL = 5
EXIT_BAD_ANSWER = 6
EXIT_INTERRUPTED = 130

# Inside JSON strings only: json.dumps escapes C0 and quotes, never these.
_JSON_UNSAFE = re.compile(f"[{UNSAFE_BEYOND_C0}]")


class StdoutClosed(Exception):
    """The reader of stdout went away (a closed pipe): stop quietly."""


def safe(value: object) -> str:
    """One line of untrusted text, safe for a terminal (control characters made visible)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return sanitize(text, keep_newlines=False)


def to_json(obj: Any) -> str:
    """Compact JSON; C0 controls are escaped by ``json.dumps`` itself. DEL, C1 controls,
    bidi controls and lone surrogates are escaped too (``\\uNNNN``, the same JSON), so
    the line is safe on a terminal and always encodes as UTF-8."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    if _JSON_UNSAFE.search(text):
        text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


@dataclass
class Console:
    """stdout for results, stderr for notes; both flushed per write."""

    out: TextIO
    err: TextIO
    out_tty: bool = False
    err_tty: bool = False
    stdin: TextIO | None = None
    stdin_tty: bool = False
    #: The last stdout write did not end a line (a streamed answer in progress).
    mid_line: bool = field(default=False, init=False)
    #: A transient status line is showing on stderr (a TTY), to be cleared first.
    _status_showing: bool = field(default=False, init=False)

    @classmethod
    def from_stdio(cls) -> Console:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, io.TextIOWrapper):
                # Never fail on an odd character; each line reaches a pipe at once.
                with contextlib.suppress(ValueError, OSError):
                    stream.reconfigure(line_buffering=True, errors="backslashreplace")
        return cls(
            out=sys.stdout,
            err=sys.stderr,
            out_tty=_isatty(sys.stdout),
            err_tty=_isatty(sys.stderr),
            stdin=sys.stdin,
            stdin_tty=_isatty(sys.stdin),
        )

    def write(self, text: str) -> None:
        """Raw text to stdout (the caller decides about sanitising)."""
        if not text:
            return
        self.clear_status()
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError as exc:
            raise StdoutClosed from exc
        self.mid_line = not text.endswith("\n")

    def line(self, text: str = "") -> None:
        self.write(text + "\n")

    def end_line(self) -> None:
        """Finish a streamed line, if one is open."""
        if self.mid_line:
            self.line()

    def json(self, obj: Any) -> None:
        self.line(to_json(obj))

    def note(self, text: str) -> None:
        """A line on stderr (never fatal if stderr is gone)."""
        self.clear_status()
        with contextlib.suppress(OSError, ValueError):
            self.err.write(text + "\n")
            self.err.flush()

    def status(self, text: str) -> None:
        """A transient one-line status on a stderr TTY (overwritten by the next); else nothing."""
        if not self.err_tty:
            return
        with contextlib.suppress(OSError, ValueError):
            self.err.write("\r\x1b[K" + text)
            self.err.flush()
        self._status_showing = True

    def clear_status(self) -> None:
        if self._status_showing:
            self._status_showing = False
            with contextlib.suppress(OSError, ValueError):
                self.err.write("\r\x1b[K")
                self.err.flush()


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _only_stdout_closed(exc: BaseException) -> bool:
    if isinstance(exc, StdoutClosed | BrokenPipeError):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_stdout_closed(inner) for inner in exc.exceptions)
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def run_command(args: argparse.Namespace, core: Core, *, prog: str) -> int:
    """Resolve settings/endpoints, run ``core`` on an event loop, map the way it ended.

    Ctrl-C cancels the core (closing its connections on the way out) and exits 130;
    a closed stdout exits 0 without a traceback.
    """
    console = Console.from_stdio()
    try:
        with runtime_from_args(args) as runtime:
            for warning in runtime.loaded.warnings:
                console.note(f"{prog}: warning: {warning}")
            return anyio.run(core, args, runtime, console)
    except UsageError as exc:
        return fail_usage(prog, exc)
    except KeyboardInterrupt:
        if console.mid_line:
            console.note("")
        console.note(f"{prog}: cancelled")
        return EXIT_INTERRUPTED
    except BaseException as exc:
        if _only_stdout_closed(exc):
            _silence_stdout()
            return EXIT_OK
        raise


@contextlib.asynccontextmanager
async def demo_daemon(
    runtime: Runtime, *, wait_ready: bool = True, **changes: Any
) -> AsyncIterator[MockDaemon | None]:
    """With ``--demo``, the stand-in daemon for the command's duration (``None`` without).

    ``changes`` adjust the :class:`~inferd_tui.mock_daemon.MockConfig` (e.g. ``boot``).
    """
    if runtime.demo is None:
        yield None
        return
    from inferd_tui.mock_daemon import MockDaemon

    config = dataclasses.replace(runtime.demo, **changes)
    async with MockDaemon.start(config) as daemon:
        if wait_ready:
            await daemon.wait_ready()
        yield daemon
        # Let it see our connections close before it shuts down (never a stuck exit).
        with anyio.move_on_after(1.0):
            await daemon.wait_until(lambda d: d.open_connections == 0)
