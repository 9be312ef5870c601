"""The daemon's two kinds of rejection (§4), wire vectors of §11."""

from __future__ import annotations

import pytest

from inferd_tui.proto import (
    Request,
    RequestDecodeError,
    SamplingParams,
    decode_request,
    request_problem,
)

ACCEPTED = [
    b'{"id":"x","messages":[{"role":"user","content":"hi"}]}',
    b'{"id":"abc123","messages":[{"role":"user","content":"hello"}],"temperature":0.7,'
    b'"top_k":40,"max_tokens":128,"stream":true,"image_token_budget":280}',
    b'{"id":"x","messages":[{"role":"user","content":"hi"}],"future_field":42}',
    b'{"messages":[{"role":"user","content":"hi"}]}',
    b'{"id":"n","messages":[{"role":"user","content":"hi"}],"temperature":null,"stream":null}',
    b'{"id":"g","messages":[{"role":"user","content":"hi"}],"grammar":"root ::= \\"yes\\" | \\"no\\""}',
]


@pytest.mark.parametrize("line", ACCEPTED)
def test_accepted_requests_decode(line: bytes) -> None:
    request = decode_request(line)
    assert request.messages[0].content in {"hi", "hello"}
    assert request_problem(request) is None


def test_decoded_request_keeps_values_and_drops_nulls() -> None:
    request = decode_request(ACCEPTED[1])
    assert (request.id, request.temperature, request.top_k, request.max_tokens) == (
        "abc123",
        0.7,
        40,
        128,
    )
    assert request.image_token_budget == 280
    assert decode_request(ACCEPTED[4]).temperature is None
    assert decode_request(ACCEPTED[3]).id == ""
    assert decode_request(ACCEPTED[5]).grammar == 'root ::= "yes" | "no"'


def _with(extra: str) -> bytes:
    return ('{"id":"r","messages":[{"role":"user","content":"hi"}],' + extra + "}").encode()


REJECTED = {
    "not json": b"{ this is not json }",
    "empty line": b"",
    "whitespace line": b"  \t ",
    "role tool": b'{"id":"r","messages":[{"role":"tool","content":"x"}]}',
    "role User": b'{"id":"r","messages":[{"role":"User","content":"x"}]}',
    "array content": b'{"id":"r","messages":[{"role":"user","content":[{"type":"text"}]}]}',
    "missing messages": b'{"id":"r"}',
    "null messages": b'{"id":"r","messages":null}',
    "numeric id": b'{"id":5,"messages":[{"role":"user","content":"hi"}]}',
    "null id": b'{"id":null,"messages":[{"role":"user","content":"hi"}]}',
    "negative top_k": _with('"top_k":-1'),
    "string temperature": _with('"temperature":"hot"'),
    "null grammar": _with('"grammar":null'),
    "two objects": ACCEPTED[0] + ACCEPTED[0],
    "BOM": b"\xef\xbb\xbf" + ACCEPTED[0],
    "not an object": b"[1]",
    "invalid utf-8": b'{"id":"\xff","messages":[]}',
    # Python's json accepts these; serde_json (the daemon's decoder) does not.
    "NaN": _with('"temperature":NaN'),
    "Infinity": _with('"temperature":Infinity'),
    "-Infinity": _with('"top_p":-Infinity'),
    "overflowing float": _with('"temperature":1e400'),
    "5,000-digit integer": _with('"top_k":' + "1" * 5000),
    "nested too deep": _with('"future":' + "[" * 100_000 + "]" * 100_000),
    "lone surrogate in content": b'{"id":"r","messages":[{"role":"user","content":"\\ud800"}]}',
    "lone low surrogate in id": b'{"id":"a\\udc00","messages":[{"role":"user","content":"hi"}]}',
    "lone surrogate in grammar": _with('"grammar":"root ::= \\ud83d"'),
    "lone surrogate in a key": _with('"\\ud800":1'),
    "duplicate id": b'{"id":"r","id":"q","messages":[{"role":"user","content":"hi"}]}',
    "duplicate role": b'{"id":"r","messages":[{"role":"user","role":"user","content":"hi"}]}',
}


@pytest.mark.parametrize("line", REJECTED.values(), ids=REJECTED.keys())
def test_decode_failures_say_decode(line: bytes) -> None:
    with pytest.raises(RequestDecodeError) as info:
        decode_request(line)
    assert str(info.value).startswith("decode: ")


SERDE_ACCEPTS = {
    "large finite float": _with('"temperature":1e300'),
    # serde skips an unknown field without converting its numbers.
    "5,000-digit unknown field": _with('"future":-' + "9" * 5000),
    "overflowing unknown float": _with('"future":[1e400]'),
    # ... nor decoding its strings, nor minding that it is repeated.
    "lone surrogate in an unknown field": _with('"future":"\\ud800"'),
    "repeated unknown field": _with('"future":1,"future":2'),
    # Surrogates that are not lone.
    "surrogate pair": b'{"id":"r","messages":[{"role":"user","content":"\\ud83d\\ude00"}]}',
    "escaped backslash before u": b'{"id":"r","messages":[{"role":"user","content":"\\\\ud800"}]}',
}


@pytest.mark.parametrize("line", SERDE_ACCEPTS.values(), ids=SERDE_ACCEPTS.keys())
def test_lines_serde_accepts_still_decode(line: bytes) -> None:
    assert decode_request(line).id == "r"


def test_surrogate_pair_decodes_to_one_character() -> None:
    assert decode_request(SERDE_ACCEPTS["surrogate pair"]).messages[0].content == "\U0001f600"


def test_validation_failures_use_the_daemons_messages() -> None:
    empty = decode_request(b'{"id":"r","messages":[]}')
    assert request_problem(empty) == "invalid request: messages must not be empty"
    budget = decode_request(_with('"image_token_budget":999'))
    assert request_problem(budget) == (
        "invalid request: image_token_budget 999 not in [70, 140, 280, 560, 1120]"
    )


def test_sampling_params_send_only_what_was_set() -> None:
    assert SamplingParams().wire_fields() == {}
    assert SamplingParams(max_tokens=5).wire_fields() == {"max_tokens": 5}
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        SamplingParams(top_k=-1)
    with pytest.raises(ValueError, match="finite"):
        SamplingParams(temperature=float("nan"))


def test_request_model_roundtrips_through_decode() -> None:
    request = decode_request(ACCEPTED[1])
    again = Request.model_validate(request.wire_dict())
    assert again == request
