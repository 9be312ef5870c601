"""The demo backend on the v2 wires: every capability shown, deterministically (pure).

- ``thinking: true`` (0.5.1+, backend thinks): a few sentences of reasoning about the
  prompt first, as ``thinking`` deltas.
- ``tools`` (backend takes tools) and the conversation not ending in a ``tool_result``:
  one ``tool_use`` for the first tool, its ``input`` built from the tool's
  ``input_schema`` with string properties filled from the prompt (``tool_choice:"none"``
  → no call; 0.8 marks ``tool_choice_unsatisfied`` when ``required`` got no call).
- after a ``tool_result``: a short answer built on the result's text.
- ``response_format`` (0.5+): JSON that satisfies the schema
  (:mod:`inferd_tui.mock_daemon.schema_instance`); a schema it cannot satisfy fails the
  stream the way a real backend does (``backend_unavailable``, §6 mid-stream).
- an image: its size and the mean colour of the bytes that arrived; audio: its duration
  and peak level — proof the bytes came through.
- otherwise the Markdown answer of the v1 demo. ``max_tokens`` stops with
  ``max_tokens``; the prompt words **busy** and **crash** behave as on v1.
"""

from __future__ import annotations

import json
import math
import random
import re
import struct
from typing import Any

from inferd_tui.mock_daemon.backends import Fail
from inferd_tui.mock_daemon.backends_v2 import V2Done, V2Plan, apply_drop
from inferd_tui.mock_daemon.config import MockConfig
from inferd_tui.mock_daemon.demo_text import (
    count_prompt_tokens,
    demo_answer,
    keywords_of,
    seed_for,
    split_tokens,
    topic_of,
)
from inferd_tui.mock_daemon.schema_instance import TextSource, UnsupportedSchema, instance_for
from inferd_tui.proto import DEFAULT_MAX_TOKENS
from inferd_tui.proto.eras import features
from inferd_tui.proto.v2_request import AttachmentDecl, ToolDecl, V2Request

#: What an image or a second of audio costs in prompt tokens (projection; plausible).
IMAGE_TOKENS = 256
AUDIO_TOKENS_PER_S = 25


# --- reading the request ----------------------------------------------------------------


def _text_of(blocks: list[dict[str, Any]]) -> str:
    return "".join(block.get("text", "") for block in blocks if block.get("type") == "text")


def last_user_text(request: V2Request) -> str:
    for message in reversed(request.messages):
        if message["role"] == "user":
            text = _text_of(message["content"])
            if text:
                return text
    return ""


def _ends_in_tool_result(request: V2Request) -> list[dict[str, Any]]:
    """The tool results of the last message when it is a user turn answering calls."""
    if not request.messages:
        return []
    last = request.messages[-1]
    if last["role"] != "user":
        return []
    return [block for block in last["content"] if block["type"] == "tool_result"]


def _prompt_tokens(request: V2Request) -> int:
    texts = [_text_of(message["content"]) for message in request.messages]
    count = count_prompt_tokens(texts)
    for attachment in request.attachments:
        if attachment.kind == "image":
            count += IMAGE_TOKENS
        elif attachment.kind == "audio" and attachment.sample_rate:
            seconds = len(attachment.data or b"") / 4 / attachment.sample_rate
            count += math.ceil(seconds * AUDIO_TOKENS_PER_S)
    return count


# --- what the attachments prove ---------------------------------------------------------


def describe_image(attachment: AttachmentDecl) -> str:
    """Size, byte count and mean colour of the RGB bytes that arrived."""
    data = attachment.data or b""
    pixels = len(data) // 3
    if pixels == 0:
        return f"The image `{attachment.id}` is empty ({attachment.width}×{attachment.height})."
    # Slicing and summing bytes run in C: fine even for a 64 MiB image.
    red, green, blue = (round(sum(data[offset::3]) / pixels) for offset in range(3))
    return (
        f"The image `{attachment.id}` is {attachment.width}×{attachment.height} pixels "
        f"({len(data):,} bytes of RGB arrived); its mean colour is "
        f"#{red:02X}{green:02X}{blue:02X}."
    )


def describe_audio(attachment: AttachmentDecl) -> str:
    """Duration (samples / rate) and peak level of the f32 PCM that arrived."""
    data = attachment.data or b""
    samples = len(data) // 4
    rate = attachment.sample_rate or 1
    peak = max((abs(value) for (value,) in struct.iter_unpack("<f", data)), default=0.0)
    level = f"{20 * math.log10(peak):.1f} dBFS" if peak > 0 else "silence"
    return (
        f"The audio clip `{attachment.id}` lasts {samples / rate:.2f} s "
        f"({samples:,} samples at {rate:,} Hz); its peak level is {peak:.2f} ({level})."
    )


# --- the pieces of an answer ------------------------------------------------------------


def thinking_text(prompt: str) -> str:
    """A few sentences of plausible reasoning about ``prompt``."""
    topic = topic_of(prompt)
    words = keywords_of(prompt, limit=3)
    return (
        f"The user is asking about {topic.lower() if topic[1:2].islower() else topic}. "
        f"The key terms are {', '.join(words)}. "
        "I should start with the short answer, then give an example they can try, "
        f"and mention the usual pitfalls around {words[0]}."
    )


#: Words that are capitalised only because a sentence starts with them.
_SENTENCE_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "what",
        "what's",
        "how",
        "where",
        "when",
        "who",
        "why",
        "which",
        "can",
        "could",
        "would",
        "will",
        "should",
        "do",
        "does",
        "did",
        "please",
        "tell",
        "find",
        "show",
        "give",
        "get",
        "list",
        "i",
        "it",
        "its",
        "my",
        "we",
        "you",
    ]
)
_PLACE_HINTS = ("city", "location", "place", "town", "country", "region", "where")
_FREE_TEXT_HINTS = ("query", "q", "text", "prompt", "question", "search", "message", "input")
_CAPITALISED = re.compile(r"\b([A-Z][\w-]+(?:\s+[A-Z][\w-]+)*)")
_AFTER_PREPOSITION = re.compile(r"\b(?:in|for|at|of|about|near|from|to)\s+([\w-]+)", re.I)


def text_source(prompt: str) -> TextSource:
    """Sensible strings for a tool's string properties, by property name, from ``prompt``."""
    names: list[str] = [str(match) for match in _CAPITALISED.findall(prompt)]
    # The first word of a sentence is capitalised anyway: prefer later proper nouns.
    sentence_starts = {m.group(1) for m in re.finditer(r"(?:^|[.?!]\s+)([A-Z][\w-]*)", prompt)}
    proper = [
        name
        for name in names
        if name not in sentence_starts or name.split()[0].lower() not in _SENTENCE_WORDS
    ]
    after: list[str] = [str(word) for word in _AFTER_PREPOSITION.findall(prompt)]
    words = keywords_of(prompt, limit=3)

    def text_for(name: str) -> str | None:
        lowered = name.lower()
        if any(hint in lowered for hint in _PLACE_HINTS):
            if proper:
                return proper[-1]
            return after[-1].capitalize() if after else "Dublin"
        if lowered in _FREE_TEXT_HINTS or any(hint in lowered for hint in ("query", "search")):
            return prompt.strip() or "example"
        if "name" in lowered and proper:
            return proper[0]
        if proper:
            return proper[-1]
        return words[0] if words else None

    return text_for


def tool_input(tool: ToolDecl, prompt: str) -> Any:
    return instance_for(tool.input_schema, text_for=text_source(prompt))


def _call_id(request: V2Request) -> str:
    earlier = sum(1 for _, _, block in request.blocks() if block["type"] == "tool_use")
    return f"tc-{earlier + 1}"


def _answer_to_results(request: V2Request, results: list[dict[str, Any]]) -> str:
    names = {
        block["tool_call_id"]: block["name"]
        for _, _, block in request.blocks()
        if block["type"] == "tool_use"
    }
    parts = []
    for result in results:
        name = names.get(result["tool_call_id"], "the tool")
        text = _text_of(result["content"]).strip() or "(no text)"
        parts.append(f"`{name}` answered: {text}.")
    return (
        " ".join(parts)
        + " Based on that, here is the short answer: "
        + (
            "it looks like " + _text_of(results[0]["content"]).strip()
            if _text_of(results[0]["content"]).strip()
            else "the tool gave nothing to go on"
        )
        + "."
    )


# --- the plan ---------------------------------------------------------------------------


def demo_v2_plan(config: MockConfig, request: V2Request) -> V2Plan:
    """The demo's answer to ``request`` on a v2 wire."""
    if config.error_before_stream is not None:
        return V2Plan(ending=Fail(*config.error_before_stream))
    prompt = last_user_text(request)
    if re.search(r"\bbusy\b", prompt, re.IGNORECASE):
        return V2Plan(ending=Fail("queue_full", "queue full"), admitted=False)
    backend = config.backend_features
    era = features(config.era)
    seed = seed_for(prompt)
    rng = random.Random(seed)
    base = 1.0 / config.demo_tokens_per_s
    max_tokens = request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS

    blocks: list[dict[str, Any]] = []
    if request.thinking and backend.thinking:
        blocks += [
            {"type": "thinking", "delta": piece} for piece in split_tokens(thinking_text(prompt))
        ]

    stop_reason = "end_turn"
    unsatisfied = False
    results = _ends_in_tool_result(request)
    wants_call = (
        bool(request.tools) and backend.tools and not results and request.tool_choice != "none"
    )
    text = ""
    if wants_call:
        tool = request.tools[0]
        try:
            arguments = tool_input(tool, prompt)
        except UnsupportedSchema:
            # The model cannot produce a valid call: the daemon's mid-stream failure.
            return _failing(blocks, rng, base)
        blocks.append(
            {
                "type": "tool_use",
                "tool_call_id": _call_id(request),
                "name": tool.name,
                "input": arguments,
            }
        )
        stop_reason = "tool_use"
    elif results:
        text = _answer_to_results(request, results)
    elif request.has_response_format and era.response_format:
        try:
            text = json.dumps(instance_for(request.response_schema), ensure_ascii=False)
        except UnsupportedSchema:
            return _failing(blocks, rng, base)
    else:
        seen = [describe_image(a) for a in request.attachments if a.kind == "image"]
        heard = [describe_audio(a) for a in request.attachments if a.kind == "audio"]
        text = " ".join(seen + heard) if seen or heard else demo_answer(prompt)
    if request.tool_choice == "required" and stop_reason != "tool_use" and era.tool_choice:
        unsatisfied = True
    blocks += [{"type": "text", "delta": piece} for piece in split_tokens(text)]
    if len(blocks) > max_tokens:
        blocks, stop_reason = blocks[:max_tokens], "max_tokens"
    delays = [base * rng.uniform(0.75, 1.25) for _ in blocks]
    plan = V2Plan(
        blocks=blocks,
        delays=delays,
        ending=V2Done(stop_reason, _prompt_tokens(request), "demo", unsatisfied),
    )
    if re.search(r"\bcrash\b", prompt, re.IGNORECASE):
        return apply_drop(plan, len(blocks) // 2)
    return apply_drop(plan, config.drop_after)


def _failing(blocks: list[dict[str, Any]], rng: random.Random, base: float) -> V2Plan:
    """Whatever streamed so far, then the daemon's "no terminal frame" error."""
    delays = [base * rng.uniform(0.75, 1.25) for _ in blocks]
    return apply_drop(V2Plan(blocks=blocks, delays=delays), len(blocks))
