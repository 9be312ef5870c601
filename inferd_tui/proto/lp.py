"""Length-prefixed framing of the 0.4+ wire (protocol-v2.md §2), sans-I/O.

``frame = uvarint(payload_len) · type_byte · payload``: the length is unsigned LEB128 of
at most 5 bytes, the type ``0x01`` (JSON) or ``0x02`` (BLOB), the payload at most 64 MiB.
:class:`FrameDecoder` takes bytes in any chunking and returns whole frames; it refuses an
oversized length *before* buffering the payload, and raises one exception per failure
(:class:`MalformedFrame`, :class:`FrameTooLarge`). It never resyncs: after an error the
decoder and its connection are discarded, as the daemon does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from inferd_tui.proto.constants import MAX_FRAME_BYTES
from inferd_tui.proto.errors import FrameTooLarge, MalformedFrame

JSON_FRAME: Final = 0x01
BLOB_FRAME: Final = 0x02
MAX_VARINT_BYTES: Final = 5
_PROTOCOL: Final = "protocol v2 (length-prefixed)"


def encode_uvarint(value: int) -> bytes:
    """Unsigned LEB128: 112 → ``70``; 196,608 → ``80 80 0C``."""
    if value < 0:
        raise ValueError("a length cannot be negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_frame(frame_type: int, payload: bytes) -> bytes:
    return encode_uvarint(len(payload)) + bytes((frame_type,)) + payload


def json_payload(obj: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as the daemon writes it (a lone surrogate becomes U+FFFD)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode("utf-8")


def encode_json_frame(obj: dict[str, Any]) -> bytes:
    return encode_frame(JSON_FRAME, json_payload(obj))


def encode_blob_frame(data: bytes) -> bytes:
    return encode_frame(BLOB_FRAME, data)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: ``type`` is :data:`JSON_FRAME` or :data:`BLOB_FRAME`."""

    type: int
    payload: bytes

    @property
    def is_json(self) -> bool:
        return self.type == JSON_FRAME


def _malformed(reason: str, data: bytes = b"") -> MalformedFrame:
    return MalformedFrame(f"malformed frame: {reason}", line=data[:80], protocol=_PROTOCOL)


class FrameDecoder:
    """Split a byte stream into length-prefixed frames; any chunking.

    ``max_payload`` is the cap (64 MiB; exactly the cap is allowed). ``feed`` returns the
    frames the bytes completed. At EOF call :meth:`finish`: EOF between frames is a clean
    close, EOF inside a frame (even inside its varint) is malformed.

    ``defer_errors``: when bytes complete some frames and then break the framing, return
    those frames and raise the error on the next :meth:`feed` or :meth:`finish`. A server
    answers frame by frame, so a request that arrived just before garbage is still served.
    """

    __slots__ = ("_buffer", "_deferred", "_offset", "defer_errors", "max_payload")

    def __init__(self, max_payload: int = MAX_FRAME_BYTES, *, defer_errors: bool = False) -> None:
        self._buffer = bytearray()
        self._offset = 0
        self.max_payload = max_payload
        self.defer_errors = defer_errors
        self._deferred: MalformedFrame | FrameTooLarge | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished frame."""
        return len(self._buffer) - self._offset

    @property
    def pending_error(self) -> MalformedFrame | FrameTooLarge | None:
        """With ``defer_errors``: the error the bytes already hold, raised on the next call."""
        return self._deferred

    def feed(self, data: bytes) -> list[Frame]:
        if self._deferred is not None:
            raise self._deferred
        if not self.defer_errors:
            return self._feed(data, [], json_only=False)
        frames: list[Frame] = []
        try:
            return self._feed(data, frames, json_only=False)
        except (MalformedFrame, FrameTooLarge) as exc:
            if not frames:
                raise
            self._deferred = exc
            return frames

    def feed_json(self, data: bytes) -> list[bytes]:
        """The payloads of the JSON frames ``data`` completed; a BLOB frame is malformed
        (the daemon only ever sends JSON frames, §2). The client's fast path."""
        if self._deferred is not None:
            raise self._deferred
        return self._feed(data, [], json_only=True)

    def _feed(self, data: bytes, frames: list[Any], *, json_only: bool) -> list[Any]:
        buffer = self._buffer
        if self._offset:
            del buffer[: self._offset]
            self._offset = 0
        buffer += data
        size = len(buffer)
        offset = 0
        limit = self.max_payload
        while offset < size:
            # The varint: one byte for payloads under 128, at most MAX_VARINT_BYTES.
            byte = buffer[offset]
            position = offset + 1
            length = byte & 0x7F
            shift = 7
            while byte & 0x80:
                if position - offset >= MAX_VARINT_BYTES:
                    raise _malformed("length varint exceeded 5 bytes")
                if position >= size:
                    self._offset = offset
                    return frames
                byte = buffer[position]
                position += 1
                length |= (byte & 0x7F) << shift
                shift += 7
            if length > limit:
                raise FrameTooLarge(length, limit, unit="frame")
            if position >= size:
                self._offset = offset
                return frames
            frame_type = buffer[position]
            if frame_type != JSON_FRAME and frame_type != BLOB_FRAME:
                raise _malformed(
                    f"unknown frame-type byte 0x{frame_type:02X}", bytes(buffer[offset:])
                )
            end = position + 1 + length
            if end > size:
                self._offset = offset
                return frames
            if not json_only:
                frames.append(Frame(frame_type, bytes(buffer[position + 1 : end])))
            elif frame_type == JSON_FRAME:
                frames.append(bytes(buffer[position + 1 : end]))
            else:
                raise _malformed(
                    f"the daemon sent a BLOB frame ({length:,} bytes); daemons only send JSON"
                )
            offset = end
        buffer.clear()
        self._offset = 0
        return frames

    def finish(self) -> None:
        """At EOF: raise :class:`MalformedFrame` if a frame was cut off."""
        if self._deferred is not None:
            raise self._deferred
        if self.buffered:
            held = self.buffered
            self._buffer.clear()
            self._offset = 0
            raise _malformed(f"the connection ended inside a frame ({held:,} bytes of it arrived)")
