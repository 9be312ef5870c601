"""Run a headless command's async core in the test's event loop, with captured output.

``invoke(argv)`` parses ``argv`` with the real parser (so flag handling is exercised),
resolves the runtime exactly as the command does, and awaits the command's ``main``.
The daemon under test runs in the same loop, so nothing needs a thread or a sleep:
tests wait on output (``Tap.wait_for``) or on the daemon's counters.
"""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from inferd_tui.cli import build_parser
from inferd_tui.headless._console import Console
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.runtime import runtime_from_args

#: In a scripted server's lines: replaced by the id of the request it read.
ECHO_ID = b"$REQUEST_ID"


class Tap(io.StringIO):
    """A captured stream that wakes waiters on every write."""

    def __init__(self) -> None:
        super().__init__()
        self._changed: anyio.Event | None = None

    def write(self, text: str) -> int:
        written = super().write(text)
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        return written

    async def wait_for(self, text: str, count: int = 1) -> None:
        while self.getvalue().count(text) < count:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


def make_console(
    *, stdin: str | None = None, out_tty: bool = False, err_tty: bool = False
) -> Console:
    return Console(
        out=Tap(),
        err=Tap(),
        out_tty=out_tty,
        err_tty=err_tty,
        stdin=io.StringIO(stdin) if stdin is not None else None,
        stdin_tty=stdin is None,
    )


async def invoke(argv: Sequence[str], console: Console | None = None) -> Result:
    console = console or make_console()
    args = build_parser().parse_args(list(argv))
    module = importlib.import_module(f"inferd_tui.headless.{args.command}")
    with runtime_from_args(args) as runtime:
        code = await module.main(args, runtime, console)
    assert isinstance(console.out, Tap)
    assert isinstance(console.err, Tap)
    return Result(code, console.out.getvalue(), console.err.getvalue())


def daemon_config(directory: Path, **changes: Any) -> MockConfig:
    # The generation socket has the era's leaf: inferd.sock from 0.4 (protocol-v2.md §1).
    era = changes.get("era", "0.3")
    leaf = "inferd.sock" if era in ("0.4", "0.5", "0.6", "0.8") else "infer.sock"
    return MockConfig(socket_path=directory / leaf, admin_path=directory / "admin.sock", **changes)


def endpoint_flags(directory: Path) -> list[str]:
    return ["--socket", str(directory / "infer.sock"), "--admin", str(directory / "admin.sock")]


@asynccontextmanager
async def scripted_server(
    path: Path, lines: Sequence[bytes], *, read_first: bool = False
) -> AsyncIterator[None]:
    """A Unix socket that, on each connection, (reads one line,) sends ``lines`` and closes:
    a daemon that crashes (admin EOF without draining, or EOF mid-answer). With
    ``read_first``, :data:`ECHO_ID` in a line becomes the id of the request read."""

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request_id = b""
            if read_first:
                received = b""
                while b"\n" not in received:
                    received += await stream.receive()
                request_id = json.loads(received.partition(b"\n")[0])["id"].encode()
            for line in lines:
                await stream.send(line.replace(ECHO_ID, request_id))

    listener = await anyio.create_unix_listener(path)
    async with listener, anyio.create_task_group() as task_group:
        task_group.start_soon(listener.serve, handle)
        try:
            yield
        finally:
            task_group.cancel_scope.cancel()


@asynccontextmanager
async def running(config: MockConfig) -> AsyncIterator[MockDaemon]:
    """``MockDaemon.start`` that, before shutting down, lets the daemon notice that every
    client has gone. (Cancelling a daemon-side read of anyio's Unix stream in the very
    loop iteration its EOF arrives makes asyncio log an ``InvalidStateError``.)"""
    async with MockDaemon.start(config) as daemon:
        yield daemon
        with anyio.fail_after(5):
            await daemon.wait_until(lambda d: d.open_connections == 0)
