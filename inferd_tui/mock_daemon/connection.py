"""A connection to the stand-in daemon: reading it, and closing it politely.

Every wire reads a connection the same way (large reads, EOF and the framing error
remembered, so the frames before an error are still served): :class:`LineReader` for the
NDJSON wires, :class:`FrameReader` for the length-prefixed one. The daemon's hang-up
watch takes either (:class:`Reader`).
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections import deque
from typing import Protocol

import anyio
from anyio.abc import ByteStream, SocketAttribute

from inferd_tui.proto import MAX_FRAME_BYTES, FrameTooLarge, LineDecoder, MalformedFrame
from inferd_tui.proto.lp import Frame, FrameDecoder

#: Bytes asked for per read: large, so a 64 MiB line arrives in a few dozen reads.
READ_CHUNK = 1 << 20
#: How long a connection lingers after a rejection so the client sees EOF, not a reset.
LINGER_S = 0.5
FRAME_TOO_LARGE_MESSAGE = f"frame exceeds {MAX_FRAME_BYTES} byte cap"


class Buffered(Protocol):
    @property
    def buffered(self) -> int: ...


class Reader(Protocol):
    """What the daemon's hang-up watch and streaming need of a connection's reader
    (:class:`LineReader` for NDJSON, :class:`FrameReader` for LP)."""

    stream: ByteStream
    pending_bytes: int
    eof: bool
    broken: bool

    @property
    def decoder(self) -> Buffered: ...

    @property
    def exhausted(self) -> bool: ...

    async def fill(self) -> None: ...


class LineReader:
    """Lines from a byte stream, read in large chunks; remembers EOF and the cap error."""

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.decoder = LineDecoder()
        self.lines: deque[bytes] = deque()
        self.pending_bytes = 0
        self.eof = False
        self.broken = False
        self.error: FrameTooLarge | None = None

    async def fill(self) -> None:
        """One read. At EOF the unterminated final line (if any) becomes a line (§3)."""
        try:
            data = await self.stream.receive(READ_CHUNK)
        except anyio.EndOfStream:
            self.eof = True
            final = self.decoder.finish()
            if final is not None:
                self._add([final])
            return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.eof = self.broken = True
            return
        try:
            self._add(self.decoder.feed(data))
        except FrameTooLarge as exc:
            self.error = exc

    def _add(self, lines: list[bytes]) -> None:
        self.lines.extend(lines)
        self.pending_bytes += sum(len(line) for line in lines)

    @property
    def exhausted(self) -> bool:
        return self.eof or self.error is not None

    async def next_line(self) -> bytes | None:
        """The next line, None at EOF; raises FrameTooLarge once earlier lines are used."""
        while not self.lines:
            if self.error is not None:
                raise self.error
            if self.eof:
                return None
            await self.fill()
        line = self.lines.popleft()
        self.pending_bytes -= len(line)
        return line


class FrameReader:
    """Length-prefixed frames from a byte stream; remembers EOF and the framing error.

    The same shape as :class:`LineReader`, so the daemon's hang-up watch serves both.
    """

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.decoder = FrameDecoder(defer_errors=True)
        self.frames: deque[Frame] = deque()
        self.pending_bytes = 0
        self.eof = False
        self.broken = False
        self.error: MalformedFrame | FrameTooLarge | None = None

    async def fill(self) -> None:
        try:
            data = await self.stream.receive(READ_CHUNK)
        except anyio.EndOfStream:
            self.eof = True
            try:
                self.decoder.finish()
            except (MalformedFrame, FrameTooLarge) as exc:  # EOF inside a frame (§2)
                self.error = exc
            return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.eof = self.broken = True
            return
        try:
            frames = self.decoder.feed(data)
        except (MalformedFrame, FrameTooLarge) as exc:
            self.error = exc
            return
        self.frames.extend(frames)
        self.pending_bytes += sum(len(frame.payload) for frame in frames)
        # Frames before a framing error are served first; the error then needs no more
        # bytes (the client may be waiting for the answer).
        self.error = self.decoder.pending_error

    @property
    def exhausted(self) -> bool:
        return self.eof or self.error is not None

    async def next_frame(self) -> Frame | None:
        """The next frame, None at a clean EOF; raises the framing error once earlier
        frames are used."""
        while not self.frames:
            if self.error is not None:
                raise self.error
            if self.eof:
                return None
            await self.fill()
        frame = self.frames.popleft()
        self.pending_bytes -= len(frame.payload)
        return frame


def peer_hung_up(stream: ByteStream) -> bool:
    """After EOF: did the peer close completely (a cancel), not just half-close (§6)?

    On a Unix socket a full close shows as POLLHUP; a half-close does not. Over TCP the
    two look alike until a write fails, which the streaming loop then notices.
    """
    sock = stream.extra(SocketAttribute.raw_socket, None)
    if sock is None or sock.family != socket.AF_UNIX:
        return False
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))


async def discard_until_eof(stream: ByteStream) -> bool:
    """Read and drop everything until EOF; True if the connection broke instead."""
    try:
        while True:
            await stream.receive(READ_CHUNK)
    except anyio.EndOfStream:
        return False
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        return True


async def linger_close(stream: ByteStream) -> None:
    """Before closing: EOF first, then swallow the client's leftovers for a moment.

    Closing a socket with unread input makes the peer see a reset (TCP RST, or
    ECONNRESET on a Unix socket) instead of the frame and a clean EOF.
    """
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await stream.send_eof()
    with anyio.move_on_after(LINGER_S):
        await discard_until_eof(stream)
