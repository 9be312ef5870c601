"""Embed and rerank shapes and the daemon's two kinds of rejection (protocol-v2.md §8)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferd_tui.proto import ErrorFrame, LineDecoder, MalformedFrame, UnknownFrame
from inferd_tui.proto.embed_rerank import (
    EMBED_TASKS,
    MAX_RERANK_DOCUMENTS,
    MAX_RERANK_TOTAL_BYTES,
    EmbedRequest,
    EmbedResponse,
    EmbedTask,
    RequestDecodeError,
    RerankRequest,
    RerankResponse,
    decode_embed_request,
    decode_rerank_request,
    embed_request_problem,
    encode_embed_request,
    encode_rerank_request,
    parse_embed_response,
    parse_rerank_response,
    rerank_request_problem,
)

# --- requests on the wire ---------------------------------------------------------------


def test_embed_request_omits_unset_fields() -> None:
    line = encode_embed_request(EmbedRequest(id="e1", input=["hello"]))
    assert line == b'{"id":"e1","input":["hello"]}\n'


def test_embed_request_with_every_field() -> None:
    request = EmbedRequest(
        id="e1", input=["a", "b"], dimensions=256, task=EmbedTask.RETRIEVAL_DOCUMENT
    )
    assert json.loads(encode_embed_request(request)) == {
        "id": "e1",
        "input": ["a", "b"],
        "dimensions": 256,
        "task": "retrieval_document",
    }


def test_rerank_request_on_the_wire() -> None:
    request = RerankRequest(id="r1", query="gpu", documents=["a", "b"], top_n=1)
    assert encode_rerank_request(request) == (
        b'{"id":"r1","query":"gpu","documents":["a","b"],"top_n":1}\n'
    )


def test_the_eight_tasks() -> None:
    assert EMBED_TASKS == (
        "retrieval_query",
        "retrieval_document",
        "similarity",
        "classification",
        "clustering",
        "question_answering",
        "fact_verification",
        "code_retrieval_query",
    )


# --- daemon side: decode errors (id "", close) --------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"{ this is not json }",
        b"",
        b"   ",
        b"\xef\xbb\xbf{}",
        b"[]",
        b'{"id":"e"}',
        b'{"input":null}',
        b'{"id":null,"input":["a"]}',
        b'{"id":5,"input":["a"]}',
        b'{"input":"a"}',
        b'{"input":[1]}',
        b'{"input":["a"],"dimensions":-1}',
        b'{"input":["a"],"dimensions":4294967296}',
        b'{"input":["a"],"dimensions":1.5}',
        b'{"input":["a"],"dimensions":true}',
        b'{"input":["a"],"task":5}',
        b'{"input":["a"],"input":["b"]}',
        b'{"input":["\\ud800"]}',
        b'{"input":["a"]}{"input":["b"]}',
        b'{"input":["a"],"dimensions":NaN}',
    ],
)
def test_embed_decode_errors(line: bytes) -> None:
    with pytest.raises(RequestDecodeError, match=r"^decode: "):
        decode_embed_request(line)


@pytest.mark.parametrize(
    "line",
    [
        b'{"id":"r","documents":["a"]}',
        b'{"id":"r","query":"q"}',
        b'{"query":null,"documents":["a"]}',
        b'{"query":"q","documents":null}',
        b'{"query":"q","documents":["a"],"top_n":-1}',
        b'{"query":"q","documents":["a"],"top_n":"3"}',
        b'{"query":"q","documents":[["a"]]}',
    ],
)
def test_rerank_decode_errors(line: bytes) -> None:
    with pytest.raises(RequestDecodeError, match=r"^decode: "):
        decode_rerank_request(line)


def test_unknown_keys_and_null_options_decode() -> None:
    request = decode_embed_request(
        b'{"id":"e","input":["a"],"dimensions":null,"task":null,"future":{"x":[1]}}'
    )
    assert request.dimensions is None and request.task is None
    assert request.model_extra == {"future": {"x": [1]}}
    rerank = decode_rerank_request(b'{"query":"q","documents":["d"],"top_n":null,"f":true}')
    assert rerank.id == "" and rerank.top_n is None


# --- daemon side: resolve errors (id echoed, connection kept) -------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"id":"e","input":[]}', "invalid request: input must not be empty"),
        (b'{"id":"e","input":["a",""]}', "invalid request: input[1] must not be empty"),
        (
            b'{"id":"e","input":["a"],"task":"some_future_task"}',
            "invalid request: task uses an unknown variant",
        ),
    ],
)
def test_embed_resolve_errors(line: bytes, message: str) -> None:
    request = decode_embed_request(line)
    assert request.id == "e"
    assert embed_request_problem(request) == message


def test_every_task_resolves() -> None:
    for task in EMBED_TASKS:
        assert embed_request_problem(EmbedRequest(input=["a"], task=task)) is None


def _rerank(query: str = "q", documents: list[str] | None = None, **fields: int) -> RerankRequest:
    return RerankRequest(id="r", query=query, documents=documents or ["d"], **fields)


def test_rerank_resolve_errors() -> None:
    assert rerank_request_problem(_rerank(query="")) == "invalid request: query must not be empty"
    assert (
        rerank_request_problem(RerankRequest(query="q", documents=[]))
        == "invalid request: documents must not be empty"
    )
    assert (
        rerank_request_problem(_rerank(documents=["a", ""]))
        == "invalid request: documents[1] must not be empty"
    )
    assert (
        rerank_request_problem(_rerank(top_n=0))
        == "invalid request: top_n must be greater than zero when set"
    )
    # More than there are documents means all of them.
    assert rerank_request_problem(_rerank(top_n=50)) is None


def test_rerank_document_cap() -> None:
    at_cap = [str(i) for i in range(MAX_RERANK_DOCUMENTS)]
    assert rerank_request_problem(_rerank(documents=at_cap)) is None
    over = rerank_request_problem(_rerank(documents=[*at_cap, "x"]))
    assert over == "invalid request: request carries 257 documents; at most 256 allowed"


def test_rerank_byte_cap_counts_query_and_documents_in_utf8() -> None:
    # "é" is two UTF-8 bytes: the cap is bytes, not characters.
    half = "é" * (MAX_RERANK_TOTAL_BYTES // 4)
    assert rerank_request_problem(_rerank(query="é", documents=[half, half])) is not None
    assert rerank_request_problem(_rerank(query="q", documents=[half, half[:-1]])) is None


# --- responses (client side) ----------------------------------------------------------------


def test_embeddings_frame_keeps_unknown_keys() -> None:
    line = (
        b'{"type":"embeddings","id":"e1","embeddings":[[0.1,0.2],[0.3,0.4]],"dimensions":2,'
        b'"model":"embeddinggemma-300m","usage":{"input_tokens":12},"backend":"llamacpp",'
        b'"normalized":true}'
    )
    frame, raw = parse_embed_response(line)
    assert isinstance(frame, EmbedResponse)
    assert frame.embeddings == [[0.1, 0.2], [0.3, 0.4]]
    assert frame.dimensions == 2 and frame.usage.input_tokens == 12
    assert frame.model_extra == {"normalized": True}
    assert raw == json.loads(line)


def test_rerank_frame_accepts_negative_scores() -> None:
    line = (
        b'{"type":"rerank","id":"r1","results":[{"index":3,"score":0.98},'
        b'{"index":0,"score":-1.5}],"model":"bge","usage":{"input_tokens":42},"backend":"x"}'
    )
    frame, _ = parse_rerank_response(line)
    assert isinstance(frame, RerankResponse)
    assert [(r.index, r.score) for r in frame.results] == [(3, 0.98), (0, -1.5)]


def test_error_frames_with_surface_codes() -> None:
    frame, _ = parse_embed_response(
        b'{"type":"error","id":"e1","code":"embed_unsupported","message":"no"}'
    )
    assert isinstance(frame, ErrorFrame) and frame.code == "embed_unsupported"
    frame2, _ = parse_rerank_response(
        b'{"type":"error","id":"","code":"invalid_request","message":"decode: x"}'
    )
    assert isinstance(frame2, ErrorFrame) and frame2.id == ""


def test_unknown_type_is_kept() -> None:
    frame, _ = parse_rerank_response(b'{"type":"progress","done":3}')
    assert isinstance(frame, UnknownFrame) and frame.raw == {"type": "progress", "done": 3}


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"[1]",
        b'{"type":"embeddings","id":"e"}',
        b'{"type":"embeddings","embeddings":[["x"]],"dimensions":1}',
        b'{"type":"error","id":"e"}',
    ],
)
def test_malformed_embed_frames(line: bytes) -> None:
    with pytest.raises(MalformedFrame):
        parse_embed_response(line)


def test_a_rerank_frame_on_the_embed_socket_is_unknown_not_an_answer() -> None:
    frame, _ = parse_embed_response(b'{"type":"rerank","id":"e","results":[]}')
    assert isinstance(frame, UnknownFrame)


@given(st.lists(st.text(min_size=1), min_size=1, max_size=5), st.data())
def test_encoded_requests_decode_back_in_any_chunking(
    texts: list[str], data: st.DataObject
) -> None:
    texts = [text.encode("utf-8", "replace").decode("utf-8") for text in texts]
    texts = ["".join(c for c in t if not 0xD800 <= ord(c) <= 0xDFFF) or "x" for t in texts]
    line = encode_embed_request(EmbedRequest(id="h", input=texts))
    cut = data.draw(st.integers(min_value=0, max_value=len(line)))
    decoder = LineDecoder()
    lines = decoder.feed(line[:cut]) + decoder.feed(line[cut:])
    assert len(lines) == 1
    decoded = decode_embed_request(lines[0])
    assert decoded.input == texts and embed_request_problem(decoded) is None
