"""The v2 conversations: length-prefixed on ``inferd.sock`` (0.4+) and NDJSON on
``infer.v2.sock`` (0.2–0.3 with ``--v2``). protocol-v2.md §2–§7.

Each connection is strictly sequential, one request in flight; the admission pool, the
hang-up watch and streaming are the daemon's own (:meth:`V2Host.admit_and_stream`),
shared with v1. What closes the connection and what keeps it follows §6's table:

============  =========================================  ======  ========
stage         trigger                                    id      after
============  =========================================  ======  ========
framing       bad varint / > 64 MiB / unknown type byte  ``""``  close
              / a BLOB first / EOF inside a frame
decode        not a request (``decode: …``)              ``""``  close
version       ``wire_version`` ≠ 1 (LP only)             req     close
blobs         > 32 attachments (0.6+), descriptor         req     close
              problems (``malformed frame: …``), sizes
resolve       ``invalid request: …``                     req     open
backend       ``render: …`` / ``attachment: …``          req     open
============  =========================================  ======  ========
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from anyio.abc import ByteStream

from inferd_tui.mock_daemon.backends import Fail
from inferd_tui.mock_daemon.backends_v2 import V2Plan, error_frame, mock_v2_plan, v2_frames
from inferd_tui.mock_daemon.config import MockConfig
from inferd_tui.mock_daemon.connection import (
    FRAME_TOO_LARGE_MESSAGE,
    FrameReader,
    LineReader,
    Reader,
    linger_close,
)
from inferd_tui.proto import MAX_FRAME_BYTES, FrameTooLarge, MalformedFrame, RequestDecodeError
from inferd_tui.proto.eras import MAX_TOTAL_BLOB_BYTES, features
from inferd_tui.proto.lp import encode_json_frame
from inferd_tui.proto.v2_request import (
    BackendLimits,
    Refusal,
    V2Request,
    attachment_count_refusal,
    backend_refusal,
    decode_v2_request,
    resolve_problem,
    wire_version_refusal,
)


class V2Host(Protocol):
    """What the v2 wires need of the daemon that serves them (:class:`MockDaemon` is
    one): its configuration, its counters, and the admission pool and streaming it
    shares with v1."""

    config: MockConfig
    last_v2_request: V2Request | None
    requests_seen: int
    rejected_requests: int
    auth_failures: int

    def notify_waiters(self) -> None: ...

    async def admit_and_stream(
        self,
        stream: ByteStream,
        reader: Reader,
        request_id: str,
        *,
        frames: list[dict[str, Any]],
        delays: list[float],
        terminal: dict[str, Any],
        admitted: bool,
        encode: Callable[[dict[str, Any]], bytes],
    ) -> bool: ...


BLOB_FIRST_MESSAGE = "malformed frame: expected a JSON control frame, got a BLOB frame"


def framing_error(exc: MalformedFrame | FrameTooLarge) -> tuple[str, str]:
    """The code and message the daemon answers a framing error with (§6)."""
    if isinstance(exc, FrameTooLarge):
        return "frame_too_large", FRAME_TOO_LARGE_MESSAGE
    return "invalid_request", exc.hint


def backend_limits(daemon: V2Host) -> BackendLimits:
    backend = daemon.config.backend_features
    return BackendLimits(backend.vision, backend.audio, backend.audio_sample_rate)


def plan(daemon: V2Host, request: V2Request) -> V2Plan:
    """The backend's answer, or its refusal to render the request (§6 backend row)."""
    refusal = backend_refusal(request, daemon.config.era, backend_limits(daemon))
    if refusal is not None:
        return V2Plan(ending=Fail(refusal.code, refusal.message))
    if daemon.config.backend == "demo":
        # Imported here: only --demo needs the demo's text and schema machinery.
        from inferd_tui.mock_daemon.demo_v2 import demo_v2_plan

        return demo_v2_plan(daemon.config, request)
    return mock_v2_plan(daemon.config, request)


async def _run(
    daemon: V2Host,
    stream: ByteStream,
    reader: FrameReader | LineReader,
    request: V2Request,
    encode: Any,
) -> bool:
    daemon.last_v2_request = request
    answer = plan(daemon, request)
    frames, terminal = v2_frames(answer, request.id)
    return await daemon.admit_and_stream(
        stream,
        reader,
        request.id,
        frames=frames,
        delays=answer.delays,
        terminal=terminal,
        admitted=answer.admitted,
        encode=encode,
    )


# --- length-prefixed (0.4+) -------------------------------------------------------------


async def _refuse(
    daemon: V2Host, reader: FrameReader, request_id: str, code: str, message: str
) -> None:
    """An error frame, then close (the daemon never resyncs a length-prefixed stream)."""
    daemon.rejected_requests += 1
    daemon.notify_waiters()
    await reader.stream.send(encode_json_frame(error_frame(request_id, code, message)))
    await linger_close(reader.stream)


async def _read_blobs(
    reader: FrameReader, request: V2Request, *, limit_total: bool
) -> dict[str, bytes] | Refusal:
    """The descriptor + BLOB pair of every declared attachment (§4), or why not.

    One pair per distinct id: with an id declared twice the daemon still waits for one
    BLOB, and resolve then refuses the duplicate with the connection open (§6).
    """
    declared = {attachment.id for attachment in request.attachments}
    data: dict[str, bytes] = {}
    total = 0

    def malformed(reason: str) -> Refusal:
        return Refusal("invalid_request", f"malformed frame: {reason}", close=True)

    for _ in declared:
        frame = await reader.next_frame()
        if frame is None:
            return malformed("the connection ended before every attachment's BLOB arrived")
        if not frame.is_json:
            return malformed("expected an attachment_blob descriptor, got a BLOB frame")
        try:
            descriptor = json.loads(frame.payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            descriptor = None
        if not isinstance(descriptor, dict) or descriptor.get("type") != "attachment_blob":
            return malformed("expected an attachment_blob descriptor for every attachment")
        attachment_id, size = descriptor.get("attachment_id"), descriptor.get("len")
        if (
            not isinstance(attachment_id, str)
            or isinstance(size, bool)
            or not isinstance(size, int)
        ):
            return malformed("an attachment_blob needs a string attachment_id and an integer len")
        if size < 0:
            return malformed(f"attachment_blob len {size} is negative")
        name = json.dumps(attachment_id)
        if attachment_id not in declared:
            return malformed(f"attachment_blob for unknown attachment id {name}")
        if attachment_id in data:
            return malformed(f"a second attachment_blob for attachment id {name}")
        # Both caps are checked before the BLOB is read (§4).
        if size > MAX_FRAME_BYTES or (limit_total and total + size > MAX_TOTAL_BLOB_BYTES):
            return Refusal("frame_too_large", FRAME_TOO_LARGE_MESSAGE, close=True)
        blob = await reader.next_frame()
        if blob is None:
            return malformed(f"the connection ended before the BLOB of attachment {name}")
        if blob.is_json:
            return malformed(f"expected the BLOB of attachment {name}, got a JSON frame")
        if len(blob.payload) != size:
            return malformed(
                f"attachment {name} declared {size} bytes but its BLOB holds {len(blob.payload)}"
            )
        data[attachment_id] = blob.payload
        total += size
    return data


async def authenticate_lp(reader: FrameReader, api_key: str) -> bool:
    """0.4's deprecated TCP listener: the v1 auth object as the first JSON frame (a guess:
    the page says TCP was kept in 0.4, not how its auth looks on this wire)."""
    import hmac

    try:
        frame = await reader.next_frame()
    except (MalformedFrame, FrameTooLarge):
        return False
    if frame is None or not frame.is_json:
        return False
    try:
        value = json.loads(frame.payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    if not isinstance(value, dict) or value.get("type") != "auth":
        return False
    key = value.get("key")
    return isinstance(key, str) and hmac.compare_digest(key.encode(), api_key.encode())


async def converse_lp(daemon: V2Host, stream: ByteStream, *, over_tcp: bool) -> None:
    """One connection to ``inferd.sock``: requests (with their BLOBs), one at a time."""
    era = daemon.config.era
    reader = FrameReader(stream)
    key = daemon.config.api_key
    if over_tcp and key is not None and not await authenticate_lp(reader, key):
        daemon.auth_failures += 1
        daemon.notify_waiters()
        await linger_close(reader.stream)
        return
    while True:
        try:
            frame = await reader.next_frame()
        except (MalformedFrame, FrameTooLarge) as exc:
            await _refuse(daemon, reader, "", *framing_error(exc))
            return
        if frame is None:
            return
        daemon.requests_seen += 1
        daemon.notify_waiters()
        if not frame.is_json:
            await _refuse(daemon, reader, "", "invalid_request", BLOB_FIRST_MESSAGE)
            return
        try:
            request = decode_v2_request(frame.payload, era=era, length_prefixed=True)
        except RequestDecodeError as exc:
            await _refuse(daemon, reader, "", "invalid_request", str(exc))
            return
        refusal = wire_version_refusal(request) or attachment_count_refusal(request, era)
        if refusal is None:
            try:
                blobs = await _read_blobs(
                    reader, request, limit_total=features(era).attachment_limits
                )
            except (MalformedFrame, FrameTooLarge) as exc:
                await _refuse(daemon, reader, "", *framing_error(exc))
                return
            if isinstance(blobs, Refusal):
                refusal = blobs
            else:
                request = request.with_data(blobs)
        if refusal is not None:
            await _refuse(daemon, reader, request.id, refusal.code, refusal.message)
            return
        problem = resolve_problem(request, era)
        if problem is not None:
            daemon.rejected_requests += 1
            await stream.send(
                encode_json_frame(error_frame(request.id, "invalid_request", problem))
            )
            continue
        if not await _run(daemon, stream, reader, request, encode_json_frame):
            return


# --- NDJSON (0.2–0.3 infer.v2.sock) -----------------------------------------------------


def encode_v2_line(frame: dict[str, Any]) -> bytes:
    from inferd_tui.proto.framing import encode_line

    return encode_line(frame)


async def converse_v2_ndjson(daemon: V2Host, stream: ByteStream, reader: LineReader) -> None:
    """One connection to ``infer.v2.sock``: one request a line, bytes inline (§7).

    An LP frame sent here is just bytes without a newline: the daemon waits for ``\\n``,
    as the real one does (§9).
    """
    era = daemon.config.era
    while True:
        try:
            line = await reader.next_line()
        except FrameTooLarge:
            daemon.rejected_requests += 1
            await stream.send(
                encode_v2_line(error_frame("", "frame_too_large", FRAME_TOO_LARGE_MESSAGE))
            )
            await linger_close(reader.stream)
            return
        if line is None:
            return
        daemon.requests_seen += 1
        daemon.notify_waiters()
        try:
            request = decode_v2_request(line, era=era, length_prefixed=False)
        except RequestDecodeError as exc:
            daemon.rejected_requests += 1
            await stream.send(encode_v2_line(error_frame("", "invalid_request", str(exc))))
            await linger_close(reader.stream)
            return
        problem = resolve_problem(request, era)
        if problem is not None:
            daemon.rejected_requests += 1
            await stream.send(encode_v2_line(error_frame(request.id, "invalid_request", problem)))
            continue
        if not await _run(daemon, stream, reader, request, encode_v2_line):
            return
