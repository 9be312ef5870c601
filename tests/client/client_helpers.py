"""Helpers for the client tests. Scripted stand-ins for the daemon: a real Unix/TCP listener driven by per-connection
handlers, and an in-memory byte stream that delivers chosen chunks (for the seam)."""

from __future__ import annotations

import json
import socket
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel

from inferd_tui.client.transport import UnixSocketStream
from inferd_tui.proto import LineDecoder

Handler = Callable[["ServerConn"], Awaitable[None]]

TAPE_TOKENS = ("alpha ", "beta ", "gamma")


def frame(**fields: Any) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def tape(request_id: str, tokens: Sequence[str] = TAPE_TOKENS) -> bytes:
    """The mock backend's answer (§10/§11) for ``request_id``."""
    out = b"".join(frame(type="token", id=request_id, content=token) for token in tokens)
    return out + frame(
        type="done",
        id=request_id,
        content="".join(tokens),
        usage={"prompt_tokens": 0, "completion_tokens": len(tokens)},
        stop_reason="end",
        backend="mock",
    )


class ServerConn:
    """The daemon's side of one connection."""

    def __init__(self, stream: anyio.abc.ByteStream, index: int) -> None:
        self.stream = stream
        self.index = index
        self.lines: list[bytes] = []
        self.saw_eof = anyio.Event()
        self._decoder = LineDecoder()
        self._queued: deque[bytes] = deque()

    async def readline(self) -> bytes | None:
        """The next line from the client, or ``None`` once it closed the connection."""
        while not self._queued:
            try:
                chunk = await self.stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                self.saw_eof.set()
                return None
            self._queued.extend(self._decoder.feed(chunk))
        line = self._queued.popleft()
        self.lines.append(line)
        return line

    async def read_request(self) -> dict[str, Any] | None:
        line = await self.readline()
        return None if line is None else dict(json.loads(line))

    async def send(self, data: bytes) -> None:
        await self.stream.send(data)

    async def wait_eof(self) -> None:
        """Keep reading until the client closes (what the daemon does during a cancel)."""
        while await self.readline() is not None:
            pass


class ScriptedServer:
    def __init__(self, handlers: Sequence[Handler]) -> None:
        self.handlers = list(handlers)
        self.connections: list[ServerConn] = []
        self.connected = anyio.Event()
        self.path: Path | None = None
        self.port: int | None = None

    @property
    def lines(self) -> list[bytes]:
        return [line for conn in self.connections for line in conn.lines]

    async def handle(self, stream: anyio.abc.ByteStream) -> None:
        conn = ServerConn(stream, len(self.connections))
        self.connections.append(conn)
        self.connected.set()
        handler = self.handlers[min(conn.index, len(self.handlers) - 1)]
        async with stream:
            await handler(conn)


async def _serve_unix(
    path: Path, handle: Callable[[anyio.abc.ByteStream], Awaitable[None]]
) -> None:
    """Accept on a Unix socket, one task per connection.

    The accepted sockets use the client's own ``UnixSocketStream``: anyio's asyncio Unix
    stream reports an ``InvalidStateError`` when a task is cancelled while its read is
    becoming ready, which is exactly how this server is stopped.
    """
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.setblocking(False)
    try:
        listener.bind(str(path))
        listener.listen(64)
        async with anyio.create_task_group() as tg:
            while True:
                await anyio.wait_readable(listener)
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    continue
                tg.start_soon(handle, UnixSocketStream(sock))
    finally:
        listener.close()


@asynccontextmanager
async def serve(
    handlers: Sequence[Handler], *, path: Path | None = None, tcp: bool = False
) -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer(handlers)
    async with anyio.create_task_group() as tg:
        if tcp:
            listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
            server.port = listener.extra(anyio.abc.SocketAttribute.local_port)
            tg.start_soon(listener.serve, server.handle)
        else:
            assert path is not None
            server.path = path
            tg.start_soon(_serve_unix, path, server.handle)
            await anyio.wait_all_tasks_blocked()  # bound and listening
        yield server
        tg.cancel_scope.cancel()


async def mock_tape(conn: ServerConn) -> None:
    """Answer every request with the §11 happy-path tape, until the client closes."""
    while (request := await conn.read_request()) is not None:
        await conn.send(tape(str(request.get("id", ""))))


class ScriptStream(anyio.abc.ByteStream):
    """A byte stream that returns the given chunks one per ``receive``, then EOF."""

    def __init__(self, chunks: Sequence[bytes] = ()) -> None:
        self.chunks = deque(chunks)
        self.sent: list[bytes] = []
        self.closed = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if self.closed:
            raise anyio.ClosedResourceError
        await anyio.lowlevel.checkpoint()
        if not self.chunks:
            raise anyio.EndOfStream
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            self.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        return chunk

    async def send(self, item: bytes) -> None:
        if self.closed:
            raise anyio.ClosedResourceError
        await anyio.lowlevel.checkpoint()
        self.sent.append(item)

    async def send_eof(self) -> None:
        pass

    async def aclose(self) -> None:
        self.closed = True


class ScriptFactory:
    """A ``StreamFactory`` handing out one :class:`ScriptStream` per scripted connection."""

    def __init__(self, *scripts: Sequence[bytes]) -> None:
        self.scripts = deque(scripts)
        self.streams: list[ScriptStream] = []

    async def __call__(self) -> anyio.abc.ByteStream:
        stream = ScriptStream(self.scripts.popleft())
        self.streams.append(stream)
        return stream
