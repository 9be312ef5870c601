"""The v2 wires in the wire-neutral vocabulary: protocol-v2.md §2–§5, §7 and §10's vectors."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferd_tui.proto import FrameTooLarge, MalformedFrame, Role, SamplingParams
from inferd_tui.proto.chat import (
    ChatMessage,
    ChatRequest,
    Failed,
    Finished,
    ImageAttachment,
    ImageBlock,
    OtherFrame,
    TextBlock,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from inferd_tui.proto.lp import (
    BLOB_FRAME,
    JSON_FRAME,
    Frame,
    FrameDecoder,
    encode_json_frame,
    encode_uvarint,
)
from inferd_tui.proto.v1_wire import from_v1_frame, to_v1_request
from inferd_tui.proto.v2_wire import (
    encode_lp_request,
    encode_ndjson_request,
    ndjson_request_size,
    parse_response,
    request_dict,
)

TEXT_REQUEST = b'{"wire_version":1,"id":"r1","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_tokens":4}'
REPLIES = [
    b'{"id":"r1","type":"frame","block":{"type":"text","delta":"Hello"}}',
    b'{"id":"r1","type":"frame","block":{"type":"text","delta":" there"}}',
    b'{"id":"r1","type":"done","usage":{"input_tokens":12,"output_tokens":2},"stop_reason":"end_turn","backend":"llamacpp"}',
]


def hi_request(**fields: object) -> ChatRequest:
    return ChatRequest(
        id="r1",
        messages=(ChatMessage.text("user", "hi"),),
        sampling=SamplingParams(max_tokens=4),
        **fields,  # type: ignore[arg-type]
    )


# --- varints and frames ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (112, b"\x70"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (196_608, b"\x80\x80\x0c"),
        (67_108_864, b"\x80\x80\x80\x20"),
        (67_108_865, b"\x81\x80\x80\x20"),
    ],
)
def test_uvarint_examples(value: int, encoded: bytes) -> None:
    assert encode_uvarint(value) == encoded


def test_text_request_vector_is_112_bytes_with_prefix_70_01() -> None:
    (frame,) = encode_lp_request(hi_request())
    assert frame == b"\x70\x01" + TEXT_REQUEST
    assert len(TEXT_REQUEST) == 112


def test_reply_vectors_decode_to_events() -> None:
    stream = b"".join(encode_json_frame(json.loads(reply)) for reply in REPLIES)
    assert stream.startswith(b"\x42\x01")
    frames = FrameDecoder().feed(stream)
    events = [parse_response(frame.payload) for frame in frames]
    assert events[0] == TextDelta("Hello", "r1")
    assert events[1] == TextDelta(" there", "r1")
    done = events[2]
    assert isinstance(done, Finished)
    assert (done.stop_reason, done.raw_stop_reason, done.backend) == (
        "end_turn",
        "end_turn",
        "llamacpp",
    )
    assert (done.usage.input_tokens, done.usage.output_tokens) == (12, 2)
    assert done.text is None


def test_image_request_vector() -> None:
    rgb = bytes.fromhex("DC1E1EFFFFFFFFFFFFDC1E1E")
    request = ChatRequest(
        id="r1",
        messages=(
            ChatMessage(
                role=Role.USER,
                content=(
                    TextBlock(text="What color is in this image?"),
                    ImageBlock(attachment_id="img"),
                ),
            ),
        ),
        attachments=(ImageAttachment(id="img", width=2, height=2, data=rgb),),
    )
    first, descriptor, blob = encode_lp_request(request)
    (request_frame,) = FrameDecoder().feed(first)
    body = json.loads(request_frame.payload)
    assert body["attachments"] == [{"kind": "image", "id": "img", "width": 2, "height": 2}]
    assert body["messages"][0]["content"][1] == {"type": "image", "attachment_id": "img"}
    assert descriptor == b"\x39\x01" + b'{"type":"attachment_blob","attachment_id":"img","len":12}'
    assert blob == bytes.fromhex("0C02DC1E1EFFFFFFFFFFFFDC1E1E")
    # The 0.2-0.3 NDJSON wire carries the bytes inline, and no wire_version.
    line = encode_ndjson_request(request)
    inline = json.loads(line)
    assert "wire_version" not in inline
    assert inline["attachments"][0]["bytes"] == "3B4e////////3B4e"
    assert base64.b64decode(inline["attachments"][0]["bytes"]) == rgb
    assert ndjson_request_size(request) == len(line) - 1


def test_tool_use_round_trip_shapes() -> None:
    tool = ToolSpec(
        name="get_weather",
        description="Get the current weather for a city.",
        input_schema={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
    call = parse_response(
        b'{"type":"frame","id":"r1","block":{"type":"tool_use","tool_call_id":"tc-1","name":"get_weather","input":{"city":"Dublin"}}}'
    )
    assert call == ToolCall("tc-1", "get_weather", {"city": "Dublin"}, "r1")
    follow_up = ChatRequest(
        messages=(
            ChatMessage.text("user", "weather in Dublin?"),
            ChatMessage(
                role=Role.ASSISTANT,
                content=(
                    ToolUseBlock(tool_call_id="tc-1", name="get_weather", input={"city": "Dublin"}),
                ),
            ),
            ChatMessage(
                role=Role.USER,
                content=(
                    ToolResultBlock(tool_call_id="tc-1", content=(TextBlock(text="sunny, 21C"),)),
                ),
            ),
        ),
        tools=(tool,),
        tool_choice="required",
    )
    body = request_dict(follow_up, length_prefixed=True)
    assert body["tool_choice"] == "required"
    assert body["tools"][0]["name"] == "get_weather"
    assert body["messages"][2]["content"][0] == {
        "type": "tool_result",
        "tool_call_id": "tc-1",
        "content": [{"type": "text", "text": "sunny, 21C"}],
    }


def test_schema_and_thinking_fields() -> None:
    body = request_dict(
        hi_request(response_schema={"type": "object"}, thinking=True), length_prefixed=True
    )
    assert body["response_format"] == {"type": "json_schema", "schema": {"type": "object"}}
    assert body["thinking"] is True


def test_image_token_budget_never_goes_on_a_v2_wire() -> None:
    request = ChatRequest(
        messages=(ChatMessage.text("user", "x"),),
        sampling=SamplingParams(image_token_budget=280, temperature=0.5),
    )
    body = request_dict(request, length_prefixed=True)
    assert "image_token_budget" not in body
    assert body["temperature"] == 0.5


# --- responses ---------------------------------------------------------------------------


def test_thinking_error_unknown_and_tool_choice_unsatisfied() -> None:
    assert parse_response(
        b'{"type":"frame","id":"a","block":{"type":"thinking","delta":"hm"}}'
    ) == ThinkingDelta("hm", "a")
    error = parse_response(b'{"type":"error","id":"r1","code":"queue_full","message":"queue full"}')
    assert isinstance(error, Failed)
    assert (error.code, error.message) == ("queue_full", "queue full")
    other = parse_response(b'{"type":"progress","id":"r1","pct":5}')
    assert isinstance(other, OtherFrame)
    assert other.type == "progress"
    block = parse_response(b'{"type":"frame","id":"r1","block":{"type":"citation","x":1}}')
    assert isinstance(block, OtherFrame)
    assert block.type == "frame/citation"
    done = parse_response(
        b'{"type":"done","id":"r","usage":{"input_tokens":1,"output_tokens":0},"stop_reason":"end_turn","backend":"llamacpp","tool_choice_unsatisfied":true}'
    )
    assert isinstance(done, Finished)
    assert done.tool_choice_unsatisfied


def test_unknown_stop_reason_is_kept() -> None:
    done = parse_response(b'{"type":"done","id":"r","stop_reason":"overheated"}')
    assert isinstance(done, Finished)
    assert done.stop_reason == done.raw_stop_reason == "overheated"


def test_lone_surrogate_reads_as_replacement_character() -> None:
    event = parse_response(b'{"type":"frame","id":"r","block":{"type":"text","delta":"a\\ud800b"}}')
    assert event == TextDelta("a\ufffdb", "r")


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1,2]",
        b'{"type":"frame","id":"r"}',
        b'{"type":"frame","id":"r","block":{"type":"text"}}',
        b'{"type":"error","id":"r"}',
        b'{"type":"done","id":5}',
    ],
)
def test_malformed_payloads(payload: bytes) -> None:
    with pytest.raises(MalformedFrame):
        parse_response(payload)


# --- v1 in the neutral vocabulary -----------------------------------------------------------


def test_v1_frames_normalise_usage_and_stop_reasons() -> None:
    from inferd_tui.proto import parse_response as parse_v1

    done = from_v1_frame(
        parse_v1(
            b'{"type":"done","id":"q","content":"ab","usage":{"prompt_tokens":3,"completion_tokens":2},"stop_reason":"length","backend":"mock"}'
        )
    )
    assert isinstance(done, Finished)
    assert (done.stop_reason, done.raw_stop_reason) == ("max_tokens", "length")
    assert (done.usage.input_tokens, done.usage.output_tokens) == (3, 2)
    assert done.usage.raw == {"prompt_tokens": 3, "completion_tokens": 2}
    assert done.text == "ab"
    assert from_v1_frame(parse_v1(b'{"type":"token","id":"q","content":"x"}')) == TextDelta(
        "x", "q"
    )


def test_v1_request_from_chat_request() -> None:
    request = to_v1_request(hi_request(grammar='root ::= "yes"'))
    assert request.wire_dict() == {
        "id": "r1",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 4,
        "grammar": 'root ::= "yes"',
    }


# --- the frame decoder -------------------------------------------------------------------------


def test_decoder_refuses_a_sixth_varint_byte() -> None:
    with pytest.raises(MalformedFrame, match="exceeded 5 bytes"):
        FrameDecoder().feed(b"\x80\x80\x80\x80\x80\x01")


def test_decoder_refuses_oversized_length_before_the_payload() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameTooLarge):
        decoder.feed(b"\x81\x80\x80\x20\x01")  # 64 MiB + 1; no payload byte sent
    # Exactly the cap is allowed: the decoder waits for the payload.
    assert FrameDecoder().feed(b"\x80\x80\x80\x20\x02") == []


def test_decoder_refuses_unknown_type_byte() -> None:
    with pytest.raises(MalformedFrame, match="0x22"):
        FrameDecoder().feed(b'\x01"x')


def test_eof_inside_a_frame_is_malformed_and_between_frames_is_clean() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(encode_json_frame({"a": 1})) == [Frame(JSON_FRAME, b'{"a":1}')]
    decoder.finish()  # clean
    decoder.feed(b"\x05\x02ab")
    with pytest.raises(MalformedFrame, match="inside a frame"):
        decoder.finish()


def test_empty_blob_frame() -> None:
    assert FrameDecoder().feed(b"\x00\x02") == [Frame(BLOB_FRAME, b"")]


_frames = st.lists(
    st.tuples(st.sampled_from([JSON_FRAME, BLOB_FRAME]), st.binary(max_size=300)), max_size=12
)


@settings(max_examples=200, deadline=None)
@given(frames=_frames, cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=20))
def test_any_chunking_decodes_to_the_same_frames(
    frames: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(encode_uvarint(len(p)) + bytes((t,)) + p for t, p in frames)
    points = sorted({min(cut, len(stream)) for cut in cuts} | {0, len(stream)})
    decoder = FrameDecoder()
    decoded: list[Frame] = []
    for start, end in itertools.pairwise(points):
        decoded += decoder.feed(stream[start:end])
    decoder.finish()
    assert decoded == [Frame(t, p) for t, p in frames]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_raise_only_the_decoders_errors(data: bytes) -> None:
    decoder = FrameDecoder(max_payload=1000)
    try:
        for frame in decoder.feed(data):
            if frame.is_json:
                with contextlib.suppress(MalformedFrame):
                    parse_response(frame.payload)
        decoder.finish()
    except (MalformedFrame, FrameTooLarge):
        pass
