"""``Client.chat``: one wire-neutral API on every wire (scripted daemons; the stand-in's own
tests cover the daemon side)."""

from __future__ import annotations

import contextlib
import json

import pytest
from client_helpers import ScriptFactory, tape

from inferd_tui.client import Client, Endpoint
from inferd_tui.proto import (
    MalformedFrame,
    ProtocolError,
    SamplingParams,
    UnexpectedEof,
)
from inferd_tui.proto.capability import BackendCapabilities, DaemonProfile
from inferd_tui.proto.chat import (
    AnswerEvent,
    ChatMessage,
    ChatRequest,
    Failed,
    Finished,
    ImageAttachment,
    ImageBlock,
    TextBlock,
    TextDelta,
    ThinkingDelta,
    ToolCall,
)
from inferd_tui.proto.eras import EraRange
from inferd_tui.proto.errors import UnsupportedByDaemon
from inferd_tui.proto.lp import FrameDecoder, encode_json_frame
from inferd_tui.proto.v2_wire import encode_lp_request

pytestmark = pytest.mark.anyio

V08 = DaemonProfile("v2", EraRange.exactly("0.8"))
V05 = DaemonProfile("v2", EraRange.exactly("0.5"))
V03_NDJSON = DaemonProfile("v2-ndjson", EraRange.exactly("0.3"))
V1 = DaemonProfile("v1", EraRange.exactly("0.3"))


def hi(**fields: object) -> ChatRequest:
    return ChatRequest(
        id="r1",
        messages=(ChatMessage.text("user", "hi"),),
        sampling=SamplingParams(max_tokens=4),
        **fields,  # type: ignore[arg-type]
    )


def lp(**fields: object) -> bytes:
    return encode_json_frame(fields)


def line(**fields: object) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def lp_answer(request_id: str = "r1") -> bytes:
    return (
        lp(id=request_id, type="frame", block={"type": "thinking", "delta": "hmm"})
        + lp(id=request_id, type="frame", block={"type": "text", "delta": "Hello"})
        + lp(id=request_id, type="frame", block={"type": "text", "delta": " there"})
        + lp(
            id=request_id,
            type="done",
            usage={"input_tokens": 12, "output_tokens": 2},
            stop_reason="end_turn",
            backend="llamacpp",
        )
    )


def client(factory: ScriptFactory, profile: DaemonProfile) -> Client:
    return Client(Endpoint.unix("/nowhere/inferd.sock"), stream_factory=factory, profile=profile)


async def collect(c: Client, request: ChatRequest) -> list[AnswerEvent]:
    async with contextlib.aclosing(c.chat(request)) as events:
        return [event async for event in events]


async def test_length_prefixed_answer_and_exact_request_bytes() -> None:
    factory = ScriptFactory([lp_answer()])
    events = await collect(client(factory, V08), hi())
    assert events[:3] == [
        ThinkingDelta("hmm", "r1"),
        TextDelta("Hello", "r1"),
        TextDelta(" there", "r1"),
    ]
    done = events[3]
    assert isinstance(done, Finished)
    assert (done.usage.input_tokens, done.stop_reason) == (12, "end_turn")
    assert b"".join(factory.streams[0].sent) == b"".join(encode_lp_request(hi()))


async def test_the_answer_arrives_in_any_chunking() -> None:
    answer = lp_answer()
    factory = ScriptFactory([answer[i : i + 1] for i in range(len(answer))])
    events = await collect(client(factory, V08), hi())
    assert [type(event) for event in events] == [ThinkingDelta, TextDelta, TextDelta, Finished]


async def test_connection_is_reused_after_done_and_after_queue_full() -> None:
    busy = lp(id="r1", type="error", code="queue_full", message="queue full")
    factory = ScriptFactory([busy, lp_answer()])
    c = client(factory, V08)
    first = await collect(c, hi())
    assert isinstance(first[-1], Failed)
    assert first[-1].code == "queue_full"
    second = await collect(c, hi())
    assert isinstance(second[-1], Finished)
    assert len(factory.streams) == 1


async def test_decode_error_closes_and_the_next_request_redials() -> None:
    refused = lp(id="", type="error", code="invalid_request", message="decode: missing field")
    factory = ScriptFactory([refused], [lp_answer()])
    c = client(factory, V08)
    events = await collect(c, hi())
    assert isinstance(events[-1], Failed)
    assert factory.streams[0].closed
    events = await collect(c, hi())
    assert isinstance(events[-1], Finished)
    assert len(factory.streams) == 2


async def test_resolve_error_keeps_the_connection() -> None:
    refused = lp(
        id="r1",
        type="error",
        code="invalid_request",
        message="invalid request: messages must not be empty",
    )
    factory = ScriptFactory([refused, lp_answer()])
    c = client(factory, V08)
    await collect(c, hi())
    events = await collect(c, hi())
    assert isinstance(events[-1], Finished)
    assert len(factory.streams) == 1


async def test_eof_mid_answer_keeps_the_partial_text() -> None:
    answer = lp_answer()
    factory = ScriptFactory([answer[: answer.index(b'" there')]])
    with pytest.raises(UnexpectedEof) as caught:
        await collect(client(factory, V08), hi())
    assert caught.value.partial_text == "Hello"
    assert "middle of a frame" in str(caught.value)


async def test_a_blob_from_the_daemon_is_a_protocol_error() -> None:
    factory = ScriptFactory([b"\x01\x02x"])
    with pytest.raises(MalformedFrame, match="BLOB"):
        await collect(client(factory, V08), hi())


async def test_a_frame_for_another_request_is_refused() -> None:
    factory = ScriptFactory([lp_answer("other")])
    with pytest.raises(ProtocolError, match="'other'"):
        await collect(client(factory, V08), hi())


async def test_tool_call_event() -> None:
    answer = lp(
        id="r1",
        type="frame",
        block={
            "type": "tool_use",
            "tool_call_id": "tc-1",
            "name": "get_weather",
            "input": {"city": "Dublin"},
        },
    ) + lp(id="r1", type="done", stop_reason="tool_use")
    events = await collect(client(ScriptFactory([answer]), V08), hi())
    assert events[0] == ToolCall("tc-1", "get_weather", {"city": "Dublin"}, "r1")
    assert isinstance(events[1], Finished)
    assert events[1].stop_reason == "tool_use"


async def test_v2_ndjson_sends_one_line_with_inline_bytes() -> None:
    answer = line(id="r1", type="frame", block={"type": "text", "delta": "red"}) + line(
        id="r1", type="done", usage={"input_tokens": 3, "output_tokens": 1}, stop_reason="end_turn"
    )
    factory = ScriptFactory([answer])
    request = ChatRequest(
        id="r1",
        messages=(
            ChatMessage(
                role="user", content=(TextBlock(text="colour?"), ImageBlock(attachment_id="img"))
            ),
        ),
        attachments=(ImageAttachment(id="img", width=1, height=1, data=b"\xff\x00\x00"),),
    )
    events = await collect(client(factory, V03_NDJSON), request)
    assert events[0] == TextDelta("red", "r1")
    (sent,) = factory.streams[0].sent
    body = json.loads(sent)
    assert "wire_version" not in body
    assert body["attachments"] == [
        {"kind": "image", "id": "img", "width": 1, "height": 1, "bytes": "/wAA"}
    ]


async def test_v1_wire_speaks_v1_and_normalises() -> None:
    factory = ScriptFactory([tape("r1")])
    events = await collect(client(factory, V1), hi(grammar='root ::= "x"'))
    assert [event.text for event in events if isinstance(event, TextDelta)] == [
        "alpha ",
        "beta ",
        "gamma",
    ]
    done = events[-1]
    assert isinstance(done, Finished)
    assert (done.stop_reason, done.raw_stop_reason, done.text) == (
        "end_turn",
        "end",
        "alpha beta gamma",
    )
    assert json.loads(factory.streams[0].sent[0])["grammar"] == 'root ::= "x"'


@pytest.mark.parametrize(
    ("profile", "request_fields", "field", "words"),
    [
        (V05, {"grammar": 'root ::= "x"'}, "grammar", "0.5+ takes a JSON schema"),
        (V1, {"response_schema": {"type": "object"}}, "response_schema", "0.5"),
        (V05, {"tool_choice": "auto"}, "tool_choice", "0.8"),
        (V03_NDJSON, {"thinking": True}, "thinking", "0.5.1"),
        (V1, {"thinking": True}, "thinking", "0.5.1"),
    ],
)
async def test_what_a_wire_cannot_carry_is_refused_before_sending(
    profile: DaemonProfile, request_fields: dict[str, object], field: str, words: str
) -> None:
    factory = ScriptFactory()
    with pytest.raises(UnsupportedByDaemon) as caught:
        await collect(client(factory, profile), hi(**request_fields))
    assert caught.value.field == field
    assert words in str(caught.value)
    assert factory.streams == []  # nothing was dialled, nothing sent


async def test_an_image_to_a_v1_daemon_is_refused() -> None:
    request = ChatRequest(
        messages=(ChatMessage(role="user", content=(ImageBlock(attachment_id="i"),)),),
        attachments=(ImageAttachment(id="i", width=1, height=1, data=b"abc"),),
    )
    with pytest.raises(UnsupportedByDaemon, match="protocol v2"):
        await collect(client(ScriptFactory(), V1), request)


async def test_an_image_to_a_backend_without_vision_is_refused() -> None:
    blind = DaemonProfile("v2", EraRange.exactly("0.8"), (BackendCapabilities(vision=False),))
    request = ChatRequest(
        messages=(ChatMessage(role="user", content=(ImageBlock(attachment_id="i"),)),),
        attachments=(ImageAttachment(id="i", width=1, height=1, data=b"abc"),),
    )
    with pytest.raises(UnsupportedByDaemon, match="vision false"):
        await collect(client(ScriptFactory(), blind), request)


async def test_a_range_of_releases_sends_with_a_note() -> None:
    maybe = DaemonProfile("v2", EraRange("0.4", "0.8"))
    c = client(ScriptFactory([lp_answer()]), maybe)
    notes = c.check(hi(thinking=True))
    assert [problem.severity for problem in notes] == ["note"]
    events = await collect(c, hi(thinking=True))
    assert isinstance(events[-1], Finished)


async def test_generate_refuses_a_v2_daemon() -> None:
    from inferd_tui.proto import InvalidRequest, Message, Request

    c = client(ScriptFactory(), V08)
    frames = c.generate(Request(messages=[Message(role="user", content="x")]))
    with pytest.raises(InvalidRequest, match="use chat"):
        await frames.__anext__()


def test_frame_decoder_sanity_for_helpers() -> None:
    assert FrameDecoder().feed(lp(a=1))[0].payload == b'{"a":1}'
