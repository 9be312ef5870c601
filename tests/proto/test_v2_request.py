"""Daemon-side v2 request decoding (the stand-in's view of §3, §6, §7), per era and wire."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inferd_tui.proto.v2_request import (
    BackendLimits,
    RequestDecodeError,
    attachment_count_refusal,
    backend_refusal,
    decode_v2_request,
    resolve_problem,
    wire_version_refusal,
)


def body(**fields: Any) -> bytes:
    request: dict[str, Any] = {
        "wire_version": 1,
        "id": "r",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    request.update(fields)
    return json.dumps(request).encode()


SCHEMA = {"type": "json_schema", "schema": {"type": "object"}}


def test_fields_a_release_lacks_are_ignored() -> None:
    old = decode_v2_request(
        body(response_format=SCHEMA, thinking=True, tool_choice={"x": 1}),
        era="0.4",
        length_prefixed=True,
    )
    assert (old.has_response_format, old.thinking, old.tool_choice) == (False, None, None)
    new = decode_v2_request(
        body(response_format=SCHEMA, thinking=True, tool_choice="auto"),
        era="0.8",
        length_prefixed=True,
    )
    assert (new.response_schema, new.thinking, new.tool_choice) == (
        {"type": "object"},
        True,
        "auto",
    )


def test_the_ndjson_wire_has_no_wire_version_and_inline_bytes() -> None:
    image = {"kind": "image", "id": "i", "width": 2, "height": 2, "bytes": "3B4e////////3B4e"}
    request = decode_v2_request(
        body(wire_version="anything", attachments=[image], response_format=SCHEMA),
        era="0.3",
        length_prefixed=False,
    )
    assert request.wire_version == 0
    assert request.attachments[0].data == bytes.fromhex("dc1e1effffffffffffdc1e1e")
    assert not request.has_response_format


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"messages": None}, "decode: invalid type: null, expected a sequence for `messages`"),
        ({"id": 5}, "decode: invalid type: a number, expected a string for `id`"),
        ({"top_k": -1}, "decode: invalid value: integer `-1`, expected u32 for `top_k`"),
        (
            {"wire_version": "1"},
            'decode: invalid type: string "1", expected u32 for `wire_version`',
        ),
        (
            {"tools": [{"name": "t", "input_schema": {}}]},
            "decode: missing field `description` in `tools[0]`",
        ),
        (
            {"attachments": [{"kind": "image", "id": "i"}]},
            "decode: missing field `width` in `attachments[0]`",
        ),
        (
            {"response_format": {"type": "json_object"}},
            "decode: response_format.type: unknown variant",
        ),
    ],
)
def test_decode_errors(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestDecodeError) as caught:
        decode_v2_request(body(**fields), era="0.8", length_prefixed=True)
    assert str(caught.value).startswith(message)


def test_version_and_attachment_count_stages() -> None:
    request = decode_v2_request(body(wire_version=2), era="0.8", length_prefixed=True)
    refusal = wire_version_refusal(request)
    assert refusal is not None and refusal.close and refusal.code == "wire_version_unsupported"
    many = [{"kind": "audio", "id": f"a{n}", "sample_rate": 16000} for n in range(33)]
    request = decode_v2_request(body(attachments=many), era="0.8", length_prefixed=True)
    assert attachment_count_refusal(request, "0.5") is None
    refusal = attachment_count_refusal(request, "0.6")
    assert refusal is not None and refusal.close


def test_resolve_and_backend_stages_keep_the_connection() -> None:
    request = decode_v2_request(
        body(tools=[{"name": "t", "description": "", "input_schema": {}}], tool_choice="required"),
        era="0.6",
        length_prefixed=True,
    )
    assert resolve_problem(request, "0.6") is None  # tool_choice unread before 0.8
    bad = decode_v2_request(body(tool_choice="required"), era="0.8", length_prefixed=True)
    assert (
        resolve_problem(bad, "0.8") == "invalid request: tool_choice needs a non-empty tools list"
    )
    audio = decode_v2_request(
        body(attachments=[{"kind": "audio", "id": "a", "sample_rate": 8000}]),
        era="0.8",
        length_prefixed=True,
    ).with_data({"a": b"\0" * 8})
    refusal = backend_refusal(audio, "0.8", BackendLimits(audio=True, audio_sample_rate=16000))
    assert refusal is not None and not refusal.close
    assert refusal.message.startswith('attachment: audio "a" is 8000 Hz')
