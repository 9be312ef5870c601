"""Long fuzz runs of every decoder that reads bytes from a daemon or a user (``make fuzz``;
not part of ``make test``). Each property runs at least 10,000 examples: whatever the
bytes, a decoder raises only its own errors, and valid input in any chunking decodes the
same."""

from __future__ import annotations

import contextlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferd_tui.grammar import check
from inferd_tui.proto import (
    FrameTooLarge,
    LineDecoder,
    MalformedFrame,
    RequestDecodeError,
    decode_request,
    parse_admin_event,
    parse_response,
)
from inferd_tui.proto.lp import FrameDecoder, encode_uvarint
from inferd_tui.proto.v2_wire import parse_response as parse_v2_response

EXAMPLES = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
_json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@EXAMPLES
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_v1_lines(data: bytes, cuts: list[int]) -> None:
    decoder = LineDecoder(max_frame_bytes=256)
    points = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    try:
        lines = [line for a, b in itertools.pairwise(points) for line in decoder.feed(data[a:b])]
    except FrameTooLarge:
        return
    tail = decoder.finish()
    for line in [*lines, *([tail] if tail else [])]:
        with contextlib.suppress(MalformedFrame):
            parse_response(line)
        with contextlib.suppress(RequestDecodeError):
            decode_request(line)


@EXAMPLES
@given(data=st.binary(max_size=400))
def test_lp_frames(data: bytes) -> None:
    decoder = FrameDecoder(max_payload=300)
    try:
        for frame in decoder.feed(data):
            if frame.is_json:
                with contextlib.suppress(MalformedFrame):
                    parse_v2_response(frame.payload)
        decoder.finish()
    except (MalformedFrame, FrameTooLarge):
        pass


@EXAMPLES
@given(
    payloads=st.lists(st.tuples(st.sampled_from([1, 2]), st.binary(max_size=200)), max_size=6),
    cuts=st.lists(st.integers(0, 2000), max_size=10),
)
def test_lp_chunking(payloads: list[tuple[int, bytes]], cuts: list[int]) -> None:
    stream = b"".join(encode_uvarint(len(p)) + bytes((t,)) + p for t, p in payloads)
    points = sorted({0, len(stream), *(min(c, len(stream)) for c in cuts)})
    decoder = FrameDecoder()
    frames = [f for a, b in itertools.pairwise(points) for f in decoder.feed(stream[a:b])]
    decoder.finish()
    assert [(f.type, f.payload) for f in frames] == payloads


@EXAMPLES
@given(data=st.binary(max_size=300) | _json_text.map(lambda v: repr(v).encode()))
def test_admin_events(data: bytes) -> None:
    with contextlib.suppress(MalformedFrame):
        parse_admin_event(data)


@EXAMPLES
@given(source=st.text(max_size=200))
def test_grammar_parser(source: str) -> None:
    result = check(source)
    for diagnostic in result.diagnostics:
        assert diagnostic.level in {"error", "warning", "note"}
