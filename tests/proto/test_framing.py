"""The sans-I/O layer: line decoder, encoders, response and admin parsing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferd_tui.proto import (
    MAX_FRAME_BYTES,
    AdminEvent,
    AdminStatus,
    DoneFrame,
    ErrorFrame,
    FrameTooLarge,
    LineDecoder,
    LoadPhase,
    MalformedFrame,
    Message,
    ProtocolError,
    Request,
    SamplingParams,
    StatusFrame,
    TokenFrame,
    UnknownFrame,
    encode_admin_event,
    encode_request,
    parse_admin_event,
    parse_response,
)

HAPPY_TAPE = (
    b'{"type":"token","id":"req-1","content":"alpha "}\n'
    b'{"type":"token","id":"req-1","content":"beta "}\n'
    b'{"type":"token","id":"req-1","content":"gamma"}\n'
    b'{"type":"done","id":"req-1","content":"alpha beta gamma","usage":{"prompt_tokens":0,'
    b'"completion_tokens":3},"stop_reason":"end","backend":"mock"}\n'
)


def test_happy_path_tape_decodes_to_three_tokens_and_done() -> None:
    frames = [parse_response(line) for line in LineDecoder().feed(HAPPY_TAPE)]
    assert [type(frame) for frame in frames] == [TokenFrame] * 3 + [DoneFrame]
    done = frames[-1]
    assert isinstance(done, DoneFrame)
    assert done.content == "".join(f.content for f in frames[:3] if isinstance(f, TokenFrame))
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (0, 3)
    assert (done.stop_reason, done.backend) == ("end", "mock")


def test_error_frame_with_unknown_code_is_kept() -> None:
    frame = parse_response(b'{"type":"error","id":"r","code":"gpu_on_fire","message":"hot"}')
    assert isinstance(frame, ErrorFrame)
    assert (frame.code, frame.message) == ("gpu_on_fire", "hot")


def test_status_and_unknown_frames_are_non_terminal_and_keep_raw() -> None:
    assert isinstance(
        parse_response(b'{"type":"status","id":"admin","status":"ready"}'), StatusFrame
    )
    unknown = parse_response(b'{"type":"heartbeat","n":1}')
    assert isinstance(unknown, UnknownFrame)
    assert unknown.raw == {"type": "heartbeat", "n": 1}


def test_unknown_fields_are_ignored() -> None:
    frame = parse_response(b'{"type":"token","id":"x","content":"a","logprob":-0.1}')
    assert isinstance(frame, TokenFrame)
    assert frame.content == "a"


@pytest.mark.parametrize(
    "line",
    [b"not json", b"[1,2]", b'{"type":"token"}', b'{"type":"token","content":5}', b'"str"'],
)
def test_malformed_frames_raise_protocol_error_quoting_the_line(line: bytes) -> None:
    with pytest.raises(MalformedFrame) as info:
        parse_response(line)
    assert "not a protocol v1 frame" in str(info.value)


def test_lone_surrogate_in_a_frame_becomes_a_replacement_character() -> None:
    token = parse_response(b'{"type":"token","id":"r","content":"a\\ud800b\\udc00"}')
    assert isinstance(token, TokenFrame)
    assert token.content == "a\ufffdb\ufffd"
    token.content.encode("utf-8")  # printable and storable, unlike the surrogate
    pair = parse_response(b'{"type":"token","id":"r","content":"\\ud83d\\ude00"}')
    assert isinstance(pair, TokenFrame)
    assert pair.content == "\U0001f600"
    unknown = parse_response(b'{"type":"later","x":["\\udfff"]}')
    assert isinstance(unknown, UnknownFrame)
    assert unknown.raw["x"] == ["\ufffd"]


def test_a_frame_with_a_surrogate_and_another_fault_is_still_malformed() -> None:
    with pytest.raises(MalformedFrame, match="content"):
        parse_response(b'{"type":"token","id":"r","text":"\\ud800"}')
    with pytest.raises(MalformedFrame):
        parse_response(b'{"type":"token","id":"r","content":"\\ud800"')


def test_decoder_handles_crlf_and_unterminated_final_line() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b'{"a":1}\r\n{"b"') == [b'{"a":1}']
    assert decoder.feed(b":2}") == []
    assert decoder.finish() == b'{"b":2}'
    assert decoder.finish() is None


def test_decoder_raises_before_buffering_past_the_cap() -> None:
    decoder = LineDecoder(max_frame_bytes=8)
    decoder.feed(b"12345")
    with pytest.raises(FrameTooLarge) as info:
        decoder.feed(b"6789")
    assert decoder.buffered == 5  # the oversized chunk was never appended
    assert info.value.limit == 8


def test_decoder_cap_is_exact_and_excludes_the_newline() -> None:
    decoder = LineDecoder(max_frame_bytes=4)
    assert decoder.feed(b"1234\n") == [b"1234"]
    with pytest.raises(FrameTooLarge):
        LineDecoder(max_frame_bytes=4).feed(b"12345\n")


def test_default_cap_is_64_mib() -> None:
    assert LineDecoder().max_frame_bytes == MAX_FRAME_BYTES == 64 * 1024 * 1024


@st.composite
def chunkings(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    tokens = draw(st.lists(st.text(max_size=20), max_size=12))
    stream = b"".join(
        json.dumps({"type": "token", "id": "r", "content": t}).encode() + b"\n" for t in tokens
    )
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    chunks, start = [], 0
    for cut in [*cuts, len(stream)]:
        chunks.append(stream[start:cut])
        start = cut
    return stream, chunks


@settings(max_examples=200, deadline=None)
@given(chunkings())
def test_any_chunking_decodes_to_the_same_frames(case: tuple[bytes, list[bytes]]) -> None:
    stream, chunks = case
    whole = [parse_response(line) for line in LineDecoder().feed(stream)]
    decoder = LineDecoder()
    pieces = [parse_response(line) for chunk in chunks for line in decoder.feed(chunk)]
    assert pieces == whole
    assert decoder.finish() is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_random_bytes_raise_only_the_decoders_own_errors(chunks: list[bytes]) -> None:
    decoder = LineDecoder(max_frame_bytes=48)
    try:
        lines = [line for chunk in chunks for line in decoder.feed(chunk)]
        final = decoder.finish()
        lines.extend([final] if final is not None else [])
        for line in lines:
            with contextlib.suppress(MalformedFrame):
                parse_response(line)
            with contextlib.suppress(MalformedFrame):
                parse_admin_event(line)
    except ProtocolError:
        pass


def test_request_encodes_to_one_compact_line_with_only_set_fields() -> None:
    request = Request.build(
        [Message(role="user", content="héllo")],
        SamplingParams(temperature=0.7, top_k=40),
        id="abc",
    )
    line = encode_request(request)
    assert (
        line
        == (
            '{"id":"abc","messages":[{"role":"user","content":"héllo"}],'
            '"temperature":0.7,"top_k":40}\n'
        ).encode()
    )
    assert line.count(b"\n") == 1


def test_empty_grammar_is_not_sent_and_lone_surrogates_do_not_break_encoding() -> None:
    request = Request.build([Message(role="user", content="a\ud800b")], grammar="", id="x")
    line = encode_request(request)
    assert b"grammar" not in line
    assert "a\ufffdb" in line.decode()


ADMIN_VECTORS = [
    b'{"downloaded_bytes":1024,"id":"admin","phase":"download","source_url":"https://x",'
    b'"status":"loading_model","total_bytes":null,"type":"status"}',
    b'{"actual_sha256":"bbbb","expected_sha256":"aaaa","id":"admin","path":"/tmp/x.gguf",'
    b'"phase":"quarantine","quarantine_path":"/tmp/x.gguf.quarantine","status":"loading_model",'
    b'"type":"status"}',
    b'{"id":"admin","path":"/x.gguf","phase":"mmap","status":"restarting","type":"status"}',
    b'{"id":"admin","status":"draining","type":"status"}',
    b'{"extra_key":42,"id":"admin","status":"future_state","type":"status"}',
]


@pytest.mark.parametrize("line", ADMIN_VECTORS)
def test_admin_vectors_are_accepted(line: bytes) -> None:
    event = parse_admin_event(line)
    assert isinstance(event, AdminEvent)
    raw = json.loads(line)
    shown = event.details()
    for key, value in raw.items():
        if key not in {"id", "type", "status", "phase"}:
            assert shown[key] == value


def test_admin_download_with_unknown_total_and_unknown_status() -> None:
    download = parse_admin_event(ADMIN_VECTORS[0])
    assert (download.status, download.phase) == (AdminStatus.LOADING_MODEL, LoadPhase.DOWNLOAD)
    assert download.total_bytes is None
    assert download.downloaded_bytes == 1024
    future = parse_admin_event(ADMIN_VECTORS[-1])
    assert future.status == "future_state"
    assert future.extra_keys == {"extra_key": 42}


def test_admin_known_key_with_wrong_type_is_kept_not_fatal() -> None:
    event = parse_admin_event(b'{"id":"admin","status":"loading_model","total_bytes":"lots"}')
    assert event.total_bytes is None
    assert event.invalid_keys == {"total_bytes": "lots"}
    assert event.details()["total_bytes"] == "lots"


def test_admin_lone_surrogate_becomes_a_replacement_character() -> None:
    event = parse_admin_event(b'{"id":"admin","path":"/m\\ud800.gguf","status":"ready"}')
    assert event.path == "/m\ufffd.gguf"


def test_capabilities_with_wire_version_means_v1_is_gone() -> None:
    caps = b'{"backend":"x","id":"admin","status":"capabilities","type":"status"}'
    assert not parse_admin_event(caps).announces_v2_only
    v2 = caps.replace(b'"type"', b'"wire_version":2,"type"')
    assert parse_admin_event(v2).announces_v2_only


def test_admin_events_are_written_with_sorted_keys() -> None:
    line = encode_admin_event({"type": "status", "status": "ready", "id": "admin"})
    assert line == b'{"id":"admin","status":"ready","type":"status"}\n'


@pytest.mark.parametrize(
    "line",
    [b"nope", b"[]", b'"ready"', b'{"status":"x","k":' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
    ids=["not-json", "array", "string", "nested-too-deep"],
)
def test_admin_garbage_is_malformed(line: bytes) -> None:
    with pytest.raises(MalformedFrame):
        parse_admin_event(line)
