"""A tiny line-oriented client for the tests: plain anyio sockets, no client library."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import ByteStream

from inferd_tui.mock_daemon import MockConfig
from inferd_tui.proto import LineDecoder, encode_line

#: No test waits longer than this for one frame.
FRAME_TIMEOUT_S = 5.0

HELLO = b'{"id":"r1","messages":[{"role":"user","content":"hi"}]}\n'


def config(sock_dir: Path, **overrides: Any) -> MockConfig:
    fields: dict[str, Any] = {
        "socket_path": sock_dir / "infer.sock",
        "admin_path": sock_dir / "admin.sock",
        "phase_hold_s": 0.0,
        "download_duration_s": 0.0,
    }
    fields.update(overrides)
    return MockConfig(**fields)


def request(request_id: str = "r1", content: str = "hi", **fields: Any) -> bytes:
    return encode_line(
        {"id": request_id, "messages": [{"role": "user", "content": content}], **fields}
    )


class Wire:
    """One connection: send bytes, read raw lines or JSON frames, see EOF."""

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.decoder = LineDecoder(max_frame_bytes=1 << 40)
        self.lines: deque[bytes] = deque()
        self.eof = False
        self.reset = False

    @classmethod
    async def unix(cls, path: Path | None) -> Wire:
        assert path is not None
        return cls(await anyio.connect_unix(path))

    @classmethod
    async def tcp(cls, address: tuple[str, int] | None) -> Wire:
        assert address is not None
        return cls(await anyio.connect_tcp(*address))

    async def __aenter__(self) -> Wire:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stream.aclose()

    async def send(self, data: bytes) -> None:
        await self.stream.send(data)

    async def send_eof(self) -> None:
        await self.stream.send_eof()

    async def raw_line(self) -> bytes | None:
        """The next line (without its newline), or None at EOF."""
        with anyio.fail_after(FRAME_TIMEOUT_S):
            while not self.lines:
                if self.eof:
                    return None
                try:
                    data = await self.stream.receive(1 << 20)
                except anyio.EndOfStream:
                    self.eof = True
                    continue
                except anyio.BrokenResourceError:
                    self.eof = self.reset = True
                    continue
                self.lines.extend(self.decoder.feed(data))
        return self.lines.popleft()

    async def frame(self) -> dict[str, Any] | None:
        line = await self.raw_line()
        if line is None:
            return None
        value = json.loads(line)
        assert isinstance(value, dict)
        return value

    async def answer(self) -> list[dict[str, Any]]:
        """Frames up to and including the terminal one (fails on EOF before it)."""
        frames: list[dict[str, Any]] = []
        while True:
            frame = await self.frame()
            assert frame is not None, f"EOF before the terminal frame after {frames}"
            frames.append(frame)
            if frame["type"] in ("done", "error"):
                return frames

    async def expect_eof(self) -> None:
        line = await self.raw_line()
        assert line is None, f"expected EOF, got {line!r}"
