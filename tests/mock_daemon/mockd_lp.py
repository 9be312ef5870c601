"""A tiny length-prefixed client for the tests: plain anyio sockets and FrameDecoder."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import ByteStream
from mockd_wire import FRAME_TIMEOUT_S

from inferd_tui.proto.lp import Frame, FrameDecoder, encode_blob_frame, encode_json_frame


def lp_request(
    request_id: str = "r1", text: str = "hi", *, wire_version: int | None = 1, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if wire_version is not None:
        body["wire_version"] = wire_version
    body["id"] = request_id
    body["messages"] = [{"role": "user", "content": [{"type": "text", "text": text}]}]
    body.update(fields)
    return body


def blob_frames(attachment_id: str, data: bytes) -> bytes:
    descriptor = {"type": "attachment_blob", "attachment_id": attachment_id, "len": len(data)}
    return encode_json_frame(descriptor) + encode_blob_frame(data)


class LPWire:
    """One connection to a length-prefixed socket: send bytes, read frames, see EOF."""

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.decoder = FrameDecoder(max_payload=1 << 40)
        self.frames: deque[Frame] = deque()
        self.raw = bytearray()  # every byte received, for byte-exact checks
        self.eof = False

    @classmethod
    async def unix(cls, path: Path | None) -> LPWire:
        assert path is not None
        return cls(await anyio.connect_unix(path))

    async def __aenter__(self) -> LPWire:
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

    async def send_json(self, obj: dict[str, Any]) -> None:
        await self.stream.send(encode_json_frame(obj))

    async def raw_frame(self) -> Frame | None:
        with anyio.fail_after(FRAME_TIMEOUT_S):
            while not self.frames:
                if self.eof:
                    return None
                try:
                    data = await self.stream.receive(1 << 20)
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    self.eof = True
                    self.decoder.finish()
                    continue
                self.raw += data
                self.frames.extend(self.decoder.feed(data))
        return self.frames.popleft()

    async def frame(self) -> dict[str, Any] | None:
        frame = await self.raw_frame()
        if frame is None:
            return None
        assert frame.is_json, "the daemon sent a BLOB frame"
        value = json.loads(frame.payload)
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
        frame = await self.raw_frame()
        assert frame is None, f"expected EOF, got {frame!r}"
