"""The stand-in's v2 wires: §10's vectors byte for byte, every row of §6's error table
(each followed, where the connection stays open, by a request that succeeds on it), the
wrong wire (§9), admission and cancel. Plain bytes over real Unix sockets."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mockd_lp import LPWire, blob_frames, lp_request
from mockd_wire import Wire, config

from inferd_tui.mock_daemon import MockDaemon
from inferd_tui.proto.lp import encode_blob_frame, encode_json_frame

pytestmark = pytest.mark.anyio

HELLO_THERE = ("Hello", " there")
DONE_MOCK = {
    "id": "r1",
    "type": "done",
    "usage": {"input_tokens": 0, "output_tokens": 2},
    "stop_reason": "end_turn",
    "backend": "mock",
}


@asynccontextmanager
async def lp_daemon(
    sock_dir: Path, era: str = "0.8", **overrides: Any
) -> AsyncIterator[MockDaemon]:
    overrides.setdefault("tokens", HELLO_THERE)
    cfg = config(sock_dir, era=era, socket_path=sock_dir / "inferd.sock", **overrides)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        yield daemon


def compact(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


async def assert_hello(wire: LPWire, request_id: str = "ok") -> None:
    """A request that succeeds on this connection (the connection stayed open)."""
    await wire.send_json(lp_request(request_id))
    frames = await wire.answer()
    assert frames[-1]["type"] == "done", frames
    assert frames[-1]["id"] == request_id


async def refused_then_closed(wire: LPWire, request_id: str, code: str, message: str) -> None:
    assert await wire.frame() == {
        "type": "error",
        "id": request_id,
        "code": code,
        "message": message,
    }
    await wire.expect_eof()


# --- §10 wire vectors -------------------------------------------------------------------


async def test_text_request_vector_byte_for_byte(sock_dir: Path) -> None:
    payload = (
        b'{"wire_version":1,"id":"r1","messages":[{"role":"user","content":'
        b'[{"type":"text","text":"hi"}]}],"max_tokens":4}'
    )
    assert len(payload) == 112
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send(b"\x70\x01" + payload)
        assert encode_json_frame(json.loads(payload)) == b"\x70\x01" + payload
        frames = await wire.answer()
    hello = b'{"id":"r1","type":"frame","block":{"type":"text","delta":"Hello"}}'
    there = b'{"id":"r1","type":"frame","block":{"type":"text","delta":" there"}}'
    done = compact(DONE_MOCK)
    assert (
        bytes(wire.raw) == b"\x42\x01" + hello + b"\x43\x01" + there + bytes([len(done), 1]) + done
    )
    assert frames[-1] == DONE_MOCK


async def test_image_vector_2x2(sock_dir: Path) -> None:
    rgb = bytes.fromhex("DC1E1E FFFFFF FFFFFF DC1E1E")
    request = lp_request(attachments=[{"kind": "image", "id": "img", "width": 2, "height": 2}])
    request["messages"][0]["content"] = [
        {"type": "text", "text": "What color is in this image?"},
        {"type": "image", "attachment_id": "img"},
    ]
    blobs = blob_frames("img", rgb)
    assert blobs == (
        b"\x39\x01"
        + b'{"type":"attachment_blob","attachment_id":"img","len":12}'
        + bytes.fromhex("0C 02 DC 1E 1E FF FF FF FF FF FF DC 1E 1E")
    )
    async with (
        lp_daemon(sock_dir, backend="demo", demo_tokens_per_s=1e6) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(encode_json_frame(request) + blobs)
        frames = await wire.answer()
        text = "".join(frame["block"]["delta"] for frame in frames[:-1])
        # The mean of two red and two white pixels, from the bytes that arrived.
        assert "2×2 pixels (12 bytes of RGB arrived)" in text
        assert "#EE8E8E" in text
        assert frames[-1]["stop_reason"] == "end_turn"
        assert frames[-1]["usage"]["input_tokens"] > 256  # the image's projection
        await assert_hello(wire)


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
CALL = {
    "type": "tool_use",
    "tool_call_id": "tc-1",
    "name": "get_weather",
    "input": {"city": "Dublin"},
}


async def test_tool_use_vector_with_a_tape(sock_dir: Path) -> None:
    tape = ({"type": "thinking", "delta": "They want weather."}, CALL)
    async with (
        lp_daemon(sock_dir, tape=tape) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send_json(
            lp_request("t1", "Weather in Dublin?", tools=[WEATHER_TOOL], tool_choice="required")
        )
        frames = await wire.answer()
        assert [frame["block"] for frame in frames[:-1]] == list(tape)
        assert frames[-1] == {
            "id": "t1",
            "type": "done",
            "usage": {"input_tokens": 0, "output_tokens": 2},
            "stop_reason": "tool_use",
            "backend": "mock",
        }
        follow_up = lp_request("t2", "Weather in Dublin?", tools=[WEATHER_TOOL])
        follow_up["messages"] += [
            {"role": "assistant", "content": [CALL]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_call_id": "tc-1",
                        "content": [{"type": "text", "text": "sunny, 21C"}],
                    }
                ],
            },
        ]
        await wire.send_json(follow_up)
        assert (await wire.answer())[-1]["type"] == "done"


async def test_version_mismatch_vector(sock_dir: Path) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send_json(lp_request("v2-badver", wire_version=99))
        assert (await wire.frame() or {})["code"] == "wire_version_unsupported"
        await wire.expect_eof()
    expected = (
        b'{"type":"error","id":"v2-badver","code":"wire_version_unsupported",'
        b'"message":"unsupported wire_version 99: this daemon speaks wire_version 1"}'
    )
    assert bytes(wire.raw) == b"\x8e\x01\x01" + expected  # 142 bytes: a two-byte varint


@pytest.mark.parametrize("version", [None, 0, 2])
async def test_a_missing_or_other_wire_version_is_refused(
    sock_dir: Path, version: int | None
) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send_json(lp_request("v", wire_version=version))
        shown = version or 0  # a missing field reads as 0 (§2)
        await refused_then_closed(
            wire,
            "v",
            "wire_version_unsupported",
            f"unsupported wire_version {shown}: this daemon speaks wire_version 1",
        )


# --- §6: framing ------------------------------------------------------------------------

FRAMING = {
    "varint over 5 bytes": (
        b"\x80\x80\x80\x80\x80\x01",
        "invalid_request",
        "malformed frame: length varint exceeded 5 bytes",
    ),
    "payload over 64 MiB, refused before reading": (
        b"\x81\x80\x80\x20\x01",
        "frame_too_large",
        "frame exceeds 67108864 byte cap",
    ),
    "unknown type byte": (
        b"\x05\x07hello",
        "invalid_request",
        "malformed frame: unknown frame-type byte 0x07",
    ),
    "first frame a BLOB": (
        encode_blob_frame(b"xyz"),
        "invalid_request",
        "malformed frame: expected a JSON control frame, got a BLOB frame",
    ),
}


@pytest.mark.parametrize(("data", "code", "message"), FRAMING.values(), ids=FRAMING.keys())
async def test_framing_errors_close(sock_dir: Path, data: bytes, code: str, message: str) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send(data)
        await refused_then_closed(wire, "", code, message)


async def test_framing_error_after_a_good_request_in_the_same_write(sock_dir: Path) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send(encode_json_frame(lp_request("first")) + b"\x05\x07hello")
        assert (await wire.answer())[-1]["id"] == "first"  # served frame by frame
        await refused_then_closed(
            wire, "", "invalid_request", "malformed frame: unknown frame-type byte 0x07"
        )


async def test_eof_inside_a_frame_is_malformed(sock_dir: Path) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send(b'\x10\x01{"wire_')
        await wire.stream.send_eof()
        frame = await wire.frame()
        assert frame is not None
        assert (frame["id"], frame["code"]) == ("", "invalid_request")
        assert frame["message"].startswith("malformed frame: the connection ended inside a frame")
        await wire.expect_eof()


async def test_eof_between_frames_is_a_clean_close(sock_dir: Path) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await assert_hello(wire)
        await wire.stream.send_eof()
        await wire.expect_eof()
    assert daemon.rejected_requests == 0


# --- §6: decode -------------------------------------------------------------------------


def _with(**fields: Any) -> dict[str, Any]:
    return lp_request("d", **fields)


DECODE = {
    "bad JSON": None,
    "missing messages": {"wire_version": 1, "id": "d"},
    "bad role": {
        "wire_version": 1,
        "id": "d",
        "messages": [{"role": "tool", "content": [{"type": "text", "text": "x"}]}],
    },
    "tool missing a key": _with(tools=[{"name": "t", "description": "d"}]),
    "object tool_choice": _with(tools=[WEATHER_TOOL], tool_choice={"type": "tool", "name": "x"}),
    "string content": {
        "wire_version": 1,
        "id": "d",
        "messages": [{"role": "user", "content": "hi"}],
    },
    "string max_tokens": _with(max_tokens="4"),
}


@pytest.mark.parametrize("request_body", DECODE.values(), ids=DECODE.keys())
async def test_decode_errors_close_with_an_empty_id(sock_dir: Path, request_body: Any) -> None:
    data = (
        b"\x14\x01{ this is not json }" if request_body is None else encode_json_frame(request_body)
    )
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send(data)
        frame = await wire.frame()
        assert frame is not None
        assert (frame["type"], frame["id"], frame["code"]) == ("error", "", "invalid_request")
        assert frame["message"].startswith("decode: ")
        await wire.expect_eof()


async def test_tool_choice_before_0_8_is_an_unknown_key(sock_dir: Path) -> None:
    async with (
        lp_daemon(sock_dir, era="0.6") as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send_json(_with(tools=[WEATHER_TOOL], tool_choice={"type": "tool"}))
        assert (await wire.answer())[-1]["type"] == "done"


# --- §6: blobs --------------------------------------------------------------------------


def _images(count: int) -> tuple[dict[str, Any], bytes]:
    request = lp_request(
        "b",
        attachments=[
            {"kind": "image", "id": f"i{index}", "width": 1, "height": 1} for index in range(count)
        ],
    )
    blobs = b"".join(blob_frames(f"i{index}", b"\x01\x02\x03") for index in range(count))
    return request, blobs


async def test_more_than_32_attachments_from_0_6(sock_dir: Path) -> None:
    request, blobs = _images(33)
    async with (
        lp_daemon(sock_dir, era="0.6", vision=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(encode_json_frame(request) + blobs)
        await refused_then_closed(
            wire,
            "b",
            "invalid_request",
            "invalid request: request declares 33 attachments; at most 32 allowed",
        )


async def test_33_attachments_are_fine_before_0_6(sock_dir: Path) -> None:
    request, blobs = _images(33)
    async with (
        lp_daemon(sock_dir, era="0.5", vision=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(encode_json_frame(request) + blobs)
        assert (await wire.answer())[-1]["type"] == "done"
        await assert_hello(wire)


def _blob_request(*ids: str) -> bytes:
    return encode_json_frame(
        lp_request(
            "b", attachments=[{"kind": "audio", "id": name, "sample_rate": 16000} for name in ids]
        )
    )


def _descriptor(attachment_id: str, size: int) -> bytes:
    return encode_json_frame(
        {"type": "attachment_blob", "attachment_id": attachment_id, "len": size}
    )


BLOB_ERRORS = {
    "unknown id": (
        _blob_request("a") + blob_frames("zz", b"\0\0\0\0"),
        'malformed frame: attachment_blob for unknown attachment id "zz"',
    ),
    "second BLOB for an id": (
        _blob_request("a", "b") + blob_frames("a", b"\0\0\0\0") + blob_frames("a", b"\0\0\0\0"),
        'malformed frame: a second attachment_blob for attachment id "a"',
    ),
    "length mismatch": (
        _blob_request("a") + _descriptor("a", 8) + encode_blob_frame(b"\0\0\0\0"),
        'malformed frame: attachment "a" declared 8 bytes but its BLOB holds 4',
    ),
    "missing BLOB (the next request instead)": (
        _blob_request("a") + encode_json_frame(lp_request("next")),
        "malformed frame: expected an attachment_blob descriptor for every attachment",
    ),
    "BLOB without a descriptor": (
        _blob_request("a") + encode_blob_frame(b"\0\0\0\0"),
        "malformed frame: expected an attachment_blob descriptor, got a BLOB frame",
    ),
}


@pytest.mark.parametrize(("data", "message"), BLOB_ERRORS.values(), ids=BLOB_ERRORS.keys())
async def test_blob_protocol_errors_close(sock_dir: Path, data: bytes, message: str) -> None:
    async with (
        lp_daemon(sock_dir, audio=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(data)
        await refused_then_closed(wire, "b", "invalid_request", message)


async def test_a_descriptor_over_64_mib_is_refused_before_reading(sock_dir: Path) -> None:
    async with (
        lp_daemon(sock_dir, audio=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(_blob_request("a") + _descriptor("a", 64 * 1024 * 1024 + 4))
        await refused_then_closed(wire, "b", "frame_too_large", "frame exceeds 67108864 byte cap")


async def test_blob_of_exactly_64_mib_then_over_128_mib_in_all(sock_dir: Path) -> None:
    cap = 64 * 1024 * 1024
    silence = bytes(cap)
    async with (
        lp_daemon(sock_dir, audio=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(_blob_request("a", "b", "c") + blob_frames("a", silence))
        await wire.send(blob_frames("b", silence))  # 128 MiB so far: allowed
        await wire.send(_descriptor("c", 4))
        await refused_then_closed(wire, "b", "frame_too_large", "frame exceeds 67108864 byte cap")


async def test_an_empty_blob_still_needs_its_frames(sock_dir: Path) -> None:
    async with (
        lp_daemon(sock_dir, audio=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(_blob_request("a") + blob_frames("a", b""))
        assert (await wire.answer())[-1]["type"] == "done"


# --- §6: resolve (the connection stays open) --------------------------------------------

_IMAGE = {"kind": "image", "id": "img", "width": 1, "height": 1}
_TEXT = {"type": "text", "text": "hi"}


def _resolve(messages: Any = None, **fields: Any) -> dict[str, Any]:
    body = lp_request("rv", **fields)
    if messages is not None:
        body["messages"] = messages
    return body


RESOLVE = {
    "empty messages": (_resolve([]), "invalid request: messages must not be empty"),
    "empty content": (
        _resolve([{"role": "user", "content": []}]),
        "invalid request: messages[0] has empty content",
    ),
    "bad attachment ref": (
        _resolve([{"role": "user", "content": [{"type": "image", "attachment_id": "nope"}]}]),
        'invalid request: messages[0].content[0] references unknown attachment "nope"',
    ),
    "wrong kind of attachment": (
        _resolve(
            [{"role": "user", "content": [{"type": "audio", "attachment_id": "img"}]}],
            attachments=[_IMAGE],
        ),
        'invalid request: messages[0].content[0] is an audio block but attachment "img" is an image',
    ),
    "duplicate attachment ids": (
        _resolve(attachments=[_IMAGE, _IMAGE]),
        'invalid request: duplicate attachment id "img"',
    ),
    "unknown kind": (
        _resolve(attachments=[{"kind": "hologram", "id": "h"}]),
        'invalid request: attachments[0] has unknown kind "hologram"',
    ),
    "duplicate tool": (
        _resolve(tools=[WEATHER_TOOL, WEATHER_TOOL]),
        'invalid request: duplicate tool name "get_weather"',
    ),
    "bad tool_choice": (
        _resolve(tools=[WEATHER_TOOL], tool_choice="sometimes"),
        'invalid request: unknown tool_choice "sometimes"; expected auto, required or none',
    ),
    "tool_choice without tools": (
        _resolve(tool_choice="auto"),
        "invalid request: tool_choice needs a non-empty tools list",
    ),
    "unknown block": (
        _resolve([{"role": "user", "content": [_TEXT, {"type": "hologram"}]}]),
        'invalid request: messages[0].content[1] uses unknown content-block type "hologram"',
    ),
}


def _frames_with_blobs(body: dict[str, Any]) -> bytes:
    """The request and one BLOB per distinct attachment id (what the daemon reads, §4)."""
    data = encode_json_frame(body)
    for attachment_id in dict.fromkeys(item["id"] for item in body.get("attachments", [])):
        data += blob_frames(attachment_id, b"\x10\x20\x30")
    return data


@pytest.mark.parametrize(("body", "message"), RESOLVE.values(), ids=RESOLVE.keys())
async def test_resolve_errors_keep_the_connection(
    sock_dir: Path, body: dict[str, Any], message: str
) -> None:
    async with (
        lp_daemon(sock_dir, vision=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(_frames_with_blobs(body))
        assert await wire.frame() == {
            "type": "error",
            "id": "rv",
            "code": "invalid_request",
            "message": message,
        }
        await assert_hello(wire)


# --- §6: admission, backend and mid-stream (the connection stays open) ------------------

#: One token bigger than a socket buffer holds a generation without timers (see v1 tests).
BIG = "x" * (4 << 20)


async def test_queue_full_is_shared_with_v1_and_keeps_the_connection(sock_dir: Path) -> None:
    async with lp_daemon(sock_dir, tokens=(BIG,), queue_depth=1) as daemon:
        holders = [await LPWire.unix(daemon.socket_path) for _ in range(2)]
        for index, holder in enumerate(holders):
            await holder.send_json(lp_request(f"hold-{index}"))
        await daemon.wait_until(lambda d: d.active_generations == 1 and d.queued_generations == 1)
        async with await LPWire.unix(daemon.socket_path) as extra:
            await extra.send_json(lp_request("extra"))
            assert await extra.frame() == {
                "type": "error",
                "id": "extra",
                "code": "queue_full",
                "message": "queue full",
            }
            for holder in holders:
                assert (await holder.answer())[-1]["type"] == "done"
                await holder.stream.aclose()
            await daemon.wait_until(lambda d: d.active_generations + d.queued_generations == 0)
            await extra.send_json(lp_request("again"))
            assert (await extra.answer())[-1]["id"] == "again"


async def test_cancel_by_close_frees_the_permit(sock_dir: Path) -> None:
    tokens = tuple(f"t{index} " for index in range(1000))
    async with lp_daemon(sock_dir, tokens=tokens, token_delay_s=0.01, queue_depth=0) as daemon:
        async with await LPWire.unix(daemon.socket_path) as wire:
            await wire.send_json(lp_request("cancel-me"))
            assert (await wire.frame() or {})["block"] == {"type": "text", "delta": "t0 "}
        # Closing is the cancel: noticed at once, permit freed, no terminal frame (§6).
        with anyio.fail_after(2):
            await daemon.wait_until(
                lambda d: d.cancelled_requests == 1 and d.active_generations == 0
            )
        assert daemon.completed_requests == 0
        async with await LPWire.unix(daemon.socket_path) as wire:
            await wire.send_json(lp_request("next"))
            assert (await wire.frame() or {})["block"] == {"type": "text", "delta": "t0 "}


def _audio_request(rate: int, data: bytes = b"\0\0\0\0") -> bytes:
    body = lp_request("be", attachments=[{"kind": "audio", "id": "clip", "sample_rate": rate}])
    body["messages"][0]["content"].append({"type": "audio", "attachment_id": "clip"})
    return encode_json_frame(body) + blob_frames("clip", data)


def _unpaired() -> bytes:
    body = lp_request("be")
    body["messages"][0]["content"] = [
        {"type": "tool_result", "tool_call_id": "tc-9", "content": [_TEXT]}
    ]
    return encode_json_frame(body)


BACKEND = {
    "unpaired tool_result (0.8)": (
        "0.8",
        _unpaired(),
        "invalid_request",
        'render: tool_result "tc-9" in messages[0].content[0] pairs with no tool_use in this request',
    ),
    "response_format with tool_choice": (
        "0.8",
        encode_json_frame(
            lp_request(
                "be",
                tools=[WEATHER_TOOL],
                tool_choice="auto",
                response_format={"type": "json_schema", "schema": {"type": "object"}},
            )
        ),
        "invalid_request",
        "render: response_format cannot be combined with tool_choice",
    ),
    "wrong audio rate": (
        "0.8",
        _audio_request(44100),
        "invalid_request",
        'attachment: audio "clip" is 44100 Hz; this backend takes 16000 Hz '
        "(the daemon does not resample)",
    ),
    "video": (
        "0.8",
        encode_json_frame(lp_request("be", attachments=[{"kind": "video", "id": "v"}]))
        + blob_frames("v", b"\0"),
        "invalid_request",
        "attachment: video attachments are not supported",
    ),
}


@pytest.mark.parametrize(("era", "data", "code", "message"), BACKEND.values(), ids=BACKEND.keys())
async def test_backend_refusals_keep_the_connection(
    sock_dir: Path, era: str, data: bytes, code: str, message: str
) -> None:
    async with (
        lp_daemon(sock_dir, era=era, audio=True) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(data)
        assert await wire.frame() == {
            "type": "error",
            "id": "be",
            "code": code,
            "message": message,
        }
        await assert_hello(wire)


async def test_an_unpaired_tool_result_is_fine_before_0_8(sock_dir: Path) -> None:
    async with (
        lp_daemon(sock_dir, era="0.6") as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send(_unpaired())
        assert (await wire.answer())[-1]["type"] == "done"


async def test_audio_to_a_backend_without_audio_is_unsupported(sock_dir: Path) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send(_audio_request(16000))
        assert await wire.frame() == {
            "type": "error",
            "id": "be",
            "code": "attachment_unsupported",
            "message": "attachment: this backend does not take audio",
        }
        await assert_hello(wire)


async def test_drop_mid_stream_keeps_the_connection(sock_dir: Path) -> None:
    async with (
        lp_daemon(sock_dir, drop_after=1) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        await wire.send_json(lp_request("drop"))
        frames = await wire.answer()
        assert [frame["type"] for frame in frames] == ["frame", "error"]
        assert frames[-1] == {
            "type": "error",
            "id": "drop",
            "code": "backend_unavailable",
            "message": "backend ended stream without terminal frame",
        }
        await wire.send_json(lp_request("after"))
        assert (await wire.answer())[-1]["code"] == "backend_unavailable"  # the knob holds


async def test_error_before_stream_on_v2(sock_dir: Path) -> None:
    knob = ("backend_unavailable", "no backend available")
    async with (
        lp_daemon(sock_dir, error_before_stream=knob) as daemon,
        await LPWire.unix(daemon.socket_path) as wire,
    ):
        for request_id in ("one", "two"):
            await wire.send_json(lp_request(request_id))
            assert await wire.frame() == {
                "type": "error",
                "id": request_id,
                "code": "backend_unavailable",
                "message": "no backend available",
            }


# --- §9: the wrong wire -----------------------------------------------------------------


async def test_the_probe_on_the_length_prefixed_socket(sock_dir: Path) -> None:
    async with lp_daemon(sock_dir) as daemon, await LPWire.unix(daemon.socket_path) as wire:
        await wire.send(b"{}\n")
        assert (await wire.frame() or {})["id"] == ""
        await wire.expect_eof()
    first, second = wire.raw[0], wire.raw[1]
    assert first < 0x80 and second == 0x01  # a length-prefixed daemon (§9 step 3)
    assert json.loads(wire.raw[2:])["message"] == "malformed frame: unknown frame-type byte 0x7D"


@pytest.mark.parametrize("v2", [False, True], ids=["v1 socket", "v2 NDJSON socket"])
async def test_an_lp_frame_to_an_ndjson_socket_waits_for_a_newline(
    sock_dir: Path, v2: bool
) -> None:
    cfg = config(sock_dir, era="0.3", v2_ndjson=True)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        path = daemon.v2_socket_path if v2 else daemon.socket_path
        async with await Wire.unix(path) as wire:
            await wire.send(encode_json_frame(lp_request("lp")))
            await daemon.wait_until(lambda d: d.connections_accepted == 1)
            assert daemon.requests_seen == 0  # nothing answered: it waits for "\n"
            await wire.send(b"\n")  # now the whole thing is one (undecodable) line
            frame = await wire.frame()
            assert frame is not None
            assert (frame["id"], frame["code"]) == ("", "invalid_request")
            assert frame["message"].startswith("decode: ")
            await wire.expect_eof()
        assert daemon.requests_seen == 1


# --- the 0.2–0.3 v2 NDJSON wire (§7) ---------------------------------------------------


def _ndjson(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


async def test_v2_ndjson_inline_image_and_errors(sock_dir: Path) -> None:
    cfg = config(sock_dir, era="0.3", v2_ndjson=True, backend="demo", demo_tokens_per_s=1e6)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        assert daemon.v2_socket_path == sock_dir / "infer.v2.sock"
        async with await Wire.unix(daemon.v2_socket_path) as wire:
            image = {
                "kind": "image",
                "id": "img",
                "width": 2,
                "height": 2,
                "bytes": "3B4e////////3B4e",
            }
            body = lp_request("n1", wire_version=99, attachments=[image])  # ignored here
            body["messages"][0]["content"].append({"type": "image", "attachment_id": "img"})
            await wire.send(_ndjson(body))
            frames = await wire.answer()
            assert frames[0] == {
                "id": "n1",
                "type": "frame",
                "block": {"type": "text", "delta": "The"},
            }
            text = "".join(frame["block"]["delta"] for frame in frames[:-1])
            assert "#EE8E8E" in text
            assert frames[-1]["stop_reason"] == "end_turn"
            # A resolve error keeps the connection; a decode error closes it.
            await wire.send(_ndjson(lp_request("n2", wire_version=None, tools=[WEATHER_TOOL] * 2)))
            assert (await wire.frame() or {})["message"] == (
                'invalid request: duplicate tool name "get_weather"'
            )
            await wire.send(b'{"id":"n3"}\n')
            assert await wire.frame() == {
                "type": "error",
                "id": "",
                "code": "invalid_request",
                "message": "decode: missing field `messages`",
            }
            await wire.expect_eof()


async def test_v2_ndjson_attachment_needs_inline_bytes(sock_dir: Path) -> None:
    cfg = config(sock_dir, era="0.2", v2_ndjson=True, vision=True)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.v2_socket_path) as wire:
            await wire.send(_ndjson(lp_request("n", attachments=[_IMAGE])))
            frame = await wire.frame()
            assert frame is not None and frame["id"] == "" and "bytes" in frame["message"]


async def test_v1_and_v2_ndjson_share_one_pool(sock_dir: Path) -> None:
    cfg = config(sock_dir, era="0.3", v2_ndjson=True, tokens=(BIG,), queue_depth=0)
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as holder:
            await holder.send(b'{"id":"v1","messages":[{"role":"user","content":"hi"}]}\n')
            await daemon.wait_until(lambda d: d.active_generations == 1)
            async with await Wire.unix(daemon.v2_socket_path) as wire:
                await wire.send(_ndjson(lp_request("v2", wire_version=None)))
                assert (await wire.frame() or {})["code"] == "queue_full"
                assert (await holder.answer())[-1]["type"] == "done"
                await daemon.wait_until(lambda d: d.active_generations == 0)
                await wire.send(_ndjson(lp_request("v2-again", wire_version=None)))
                frames = await wire.answer()
                assert frames[-1]["usage"] == {"input_tokens": 0, "output_tokens": 1}


def test_audio_fixture_helpers_pack_f32() -> None:
    assert struct.pack("<f", 0.5) == b"\x00\x00\x00?"
    assert (
        base64.b64encode(b"\xdc\x1e\x1e\xff\xff\xff\xff\xff\xff\xdc\x1e\x1e") == b"3B4e////////3B4e"
    )
