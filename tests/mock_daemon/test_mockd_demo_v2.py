"""The demo backend on the v2 wire: thinking, tool calls, structured output, attachments."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mockd_lp import LPWire, blob_frames, lp_request
from mockd_wire import config

from inferd_tui.mock_daemon import MockDaemon
from inferd_tui.mock_daemon.demo_v2 import text_source, thinking_text
from inferd_tui.proto.lp import encode_json_frame

pytestmark = pytest.mark.anyio

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["city"],
    },
}
PROMPT = "What's the weather like in Dublin today?"


@asynccontextmanager
async def demo(sock_dir: Path, era: str = "0.8", **overrides: Any) -> AsyncIterator[LPWire]:
    cfg = config(
        sock_dir,
        era=era,
        socket_path=sock_dir / "inferd.sock",
        backend="demo",
        demo_tokens_per_s=1e6,
        **overrides,
    )
    async with MockDaemon.start(cfg) as daemon:
        await daemon.wait_ready()
        async with await LPWire.unix(daemon.socket_path) as wire:
            yield wire


async def ask(wire: LPWire, body: dict[str, Any], extra: bytes = b"") -> tuple[list[Any], Any]:
    """The response blocks and the terminal frame."""
    await wire.send(encode_json_frame(body) + extra)
    frames = await wire.answer()
    return [frame["block"] for frame in frames[:-1]], frames[-1]


def text_of(blocks: list[dict[str, Any]], kind: str = "text") -> str:
    return "".join(block["delta"] for block in blocks if block["type"] == kind)


async def test_thinking_comes_first_when_asked(sock_dir: Path) -> None:
    async with demo(sock_dir, era="0.5") as wire:
        blocks, done = await ask(
            wire, lp_request("t", "How do I reverse a list in Python?", thinking=True)
        )
        kinds = [block["type"] for block in blocks]
        first_text = kinds.index("text")
        assert set(kinds[:first_text]) == {"thinking"} and "thinking" not in kinds[first_text:]
        assert text_of(blocks, "thinking") == thinking_text("How do I reverse a list in Python?")
        assert "reverse" in text_of(blocks, "thinking").lower()
        assert done["stop_reason"] == "end_turn"
        blocks, _ = await ask(wire, lp_request("u", "How do I reverse a list in Python?"))
        assert "thinking" not in {block["type"] for block in blocks}


async def test_thinking_is_an_unknown_key_before_0_5(sock_dir: Path) -> None:
    async with demo(sock_dir, era="0.4") as wire:
        blocks, _ = await ask(wire, lp_request("t", "Explain recursion", thinking=True))
        assert "thinking" not in {block["type"] for block in blocks}


async def test_a_tool_call_built_from_the_schema_and_the_prompt(sock_dir: Path) -> None:
    async with demo(sock_dir) as wire:
        blocks, done = await ask(wire, lp_request("c", PROMPT, tools=[WEATHER_TOOL]))
        assert blocks == [
            {
                "type": "tool_use",
                "tool_call_id": "tc-1",
                "name": "get_weather",
                "input": {"city": "Dublin", "unit": "celsius"},
            }
        ]
        assert done["stop_reason"] == "tool_use"
        assert "tool_choice_unsatisfied" not in done
        # The follow-up: the call replayed, its result answered → a short answer.
        follow_up = lp_request("f", PROMPT, tools=[WEATHER_TOOL])
        follow_up["messages"] += [
            {"role": "assistant", "content": blocks},
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
        blocks, done = await ask(wire, follow_up)
        assert "sunny, 21C" in text_of(blocks)
        assert "`get_weather`" in text_of(blocks)
        assert done["stop_reason"] == "end_turn"


async def test_tool_choice_none_and_required(sock_dir: Path) -> None:
    async with demo(sock_dir) as wire:
        blocks, done = await ask(
            wire, lp_request("n", PROMPT, tools=[WEATHER_TOOL], tool_choice="none")
        )
        assert {block["type"] for block in blocks} == {"text"}
        assert done["stop_reason"] == "end_turn"
        _, done = await ask(
            wire, lp_request("r", PROMPT, tools=[WEATHER_TOOL], tool_choice="required")
        )
        assert done["stop_reason"] == "tool_use"


async def test_required_without_a_call_is_unsatisfied(sock_dir: Path) -> None:
    async with demo(sock_dir, tools=False) as wire:  # a backend that cannot call tools
        _, done = await ask(
            wire, lp_request("r", PROMPT, tools=[WEATHER_TOOL], tool_choice="required")
        )
        assert done["stop_reason"] == "end_turn"
        assert done["tool_choice_unsatisfied"] is True


SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "year": {"type": "integer", "minimum": 1900, "maximum": 2100},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "released": {"type": "string", "format": "date"},
        "rating": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 5}, {"type": "null"}]},
    },
    "required": ["title", "year", "tags"],
    "additionalProperties": False,
}


async def test_response_format_gives_json_that_satisfies_the_schema(sock_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    body = lp_request(
        "j", "Describe a film", response_format={"type": "json_schema", "schema": SCHEMA}
    )
    async with demo(sock_dir, era="0.5") as wire:
        blocks, done = await ask(wire, body)
    jsonschema.validate(json.loads(text_of(blocks)), SCHEMA)
    assert done["stop_reason"] == "end_turn"


async def test_a_schema_the_backend_cannot_satisfy_fails_mid_stream(sock_dir: Path) -> None:
    schema = {"type": "string", "pattern": "^[a-z]+$"}
    body = lp_request("j", "x", response_format={"type": "json_schema", "schema": schema})
    async with demo(sock_dir) as wire:
        await wire.send_json(body)
        assert await wire.frame() == {
            "type": "error",
            "id": "j",
            "code": "backend_unavailable",
            "message": "backend ended stream without terminal frame",
        }
        blocks, _ = await ask(wire, lp_request("after", "hi"))  # the connection stays open
        assert blocks


async def test_audio_clip_duration_and_peak(sock_dir: Path) -> None:
    rate = 16000
    samples = [0.5 * math.sin(2 * math.pi * 440 * n / rate) for n in range(rate * 3 // 2)]
    pcm = struct.pack(f"<{len(samples)}f", *samples)
    body = lp_request("a", "What is in this clip?")
    body["attachments"] = [{"kind": "audio", "id": "clip", "sample_rate": rate}]
    body["messages"][0]["content"].append({"type": "audio", "attachment_id": "clip"})
    async with demo(sock_dir) as wire:
        blocks, done = await ask(wire, body, blob_frames("clip", pcm))
    text = text_of(blocks)
    assert "lasts 1.50 s (24,000 samples at 16,000 Hz)" in text
    assert "peak level is 0.50 (-6.0 dBFS)" in text
    assert done["usage"]["input_tokens"] > 38  # the clip's projection counts


async def test_max_tokens_and_busy(sock_dir: Path) -> None:
    async with demo(sock_dir) as wire:
        blocks, done = await ask(wire, lp_request("m", "Explain sockets", max_tokens=3))
        assert len(blocks) == 3
        assert done["stop_reason"] == "max_tokens"
        assert done["usage"]["output_tokens"] == 3
        await wire.send_json(lp_request("b", "are you busy"))
        assert (await wire.frame() or {})["code"] == "queue_full"


@pytest.mark.parametrize(
    ("prompt", "name", "value"),
    [
        (PROMPT, "city", "Dublin"),
        ("Is it raining in paris", "location", "Paris"),
        ("Find papers about transformers", "query", "Find papers about transformers"),
    ],
)
def test_tool_strings_come_from_the_prompt(prompt: str, name: str, value: str) -> None:
    assert text_source(prompt)(name) == value
