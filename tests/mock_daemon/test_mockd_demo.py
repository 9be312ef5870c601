"""The demo backend: Markdown derived from the prompt, max_tokens, triggers, grammars."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from mockd_wire import Wire, config, request

from inferd_tui.mock_daemon import MockDaemon
from inferd_tui.mock_daemon.demo_text import demo_answer, split_tokens, topic_of

pytestmark = pytest.mark.anyio

QUESTION = "How do I read a file in Python?"


def demo_config(sock_dir: Path, **overrides: Any) -> Any:
    return config(sock_dir, backend="demo", demo_tokens_per_s=100_000.0, **overrides)


async def ask(daemon: MockDaemon, line: bytes) -> list[dict[str, Any]]:
    async with await Wire.unix(daemon.socket_path) as wire:
        await wire.send(line)
        return await wire.answer()


async def test_markdown_answer_derived_from_the_prompt(sock_dir: Path) -> None:
    async with MockDaemon.start(demo_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        frames = await ask(daemon, request("d1", QUESTION))
        again = await ask(daemon, request("d2", QUESTION))
        other = await ask(daemon, request("d3", "Explain the borrow checker in Rust"))
    done = frames[-1]
    tokens = [frame["content"] for frame in frames[:-1]]
    assert all(frame["type"] == "token" for frame in frames[:-1])
    assert done["type"] == "done"
    assert done["backend"] == "demo"
    assert done["stop_reason"] == "end"
    assert done["content"] == "".join(tokens)
    assert done["usage"]["completion_tokens"] == len(tokens)
    assert done["usage"]["prompt_tokens"] > 5
    assert len(tokens) > 100
    assert max(len(token.strip()) for token in tokens) < 40  # word-sized tokens
    text = done["content"]
    assert text.startswith("## Read a file in Python")  # the heading reflects the question
    assert re.search(r"^1\. ", text, re.MULTILINE)  # a list
    assert "\n```python\n" in text  # a fenced code block with a language tag
    assert "\n|---|---|---|\n" in text  # a table
    assert again[-1]["content"] == text  # deterministic for a prompt
    assert "```rust" in other[-1]["content"]
    assert other[-1]["content"] != text


async def test_max_tokens_gives_length(sock_dir: Path) -> None:
    async with MockDaemon.start(demo_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        frames = await ask(daemon, request("short", QUESTION, max_tokens=5))
    assert [frame["type"] for frame in frames] == ["token"] * 5 + ["done"]
    assert frames[-1]["stop_reason"] == "length"
    assert frames[-1]["usage"]["completion_tokens"] == 5


async def test_crash_drops_mid_answer_and_busy_is_queue_full(sock_dir: Path) -> None:
    async with MockDaemon.start(demo_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("c", "Why does my server crash on start?"))
            crashed = await wire.answer()
            await wire.send(request("b", "Are you busy?"))
            busy = await wire.answer()
            await wire.send(request("ok", QUESTION))  # the connection is still usable
            assert (await wire.answer())[-1]["type"] == "done"
    assert len(crashed) > 10
    assert crashed[-1] == {
        "type": "error",
        "id": "c",
        "code": "backend_unavailable",
        "message": "backend ended stream without terminal frame",
    }
    assert busy == [{"type": "error", "id": "b", "code": "queue_full", "message": "queue full"}]


async def test_grammar_that_does_not_parse_is_an_error_and_keeps_the_connection(
    sock_dir: Path,
) -> None:
    async with MockDaemon.start(demo_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        async with await Wire.unix(daemon.socket_path) as wire:
            await wire.send(request("g", "yes or no?", grammar="root ::= ("))
            assert await wire.answer() == [
                {
                    "type": "error",
                    "id": "g",
                    "code": "invalid_request",
                    "message": "failed to parse grammar",
                }
            ]
            await wire.send(request("ok", QUESTION))
            assert (await wire.answer())[-1]["type"] == "done"


@pytest.mark.skipif(
    importlib.util.find_spec("inferd_tui.grammar") is None, reason="grammar package absent"
)
async def test_answer_is_sampled_from_the_grammar(sock_dir: Path) -> None:
    grammar = 'root ::= "yes" | "no"'
    async with MockDaemon.start(demo_config(sock_dir)) as daemon:
        await daemon.wait_ready()
        frames = await ask(daemon, request("g", "Is the sky blue?", grammar=grammar))
        json_grammar = r"""root ::= "{" ws "\"answer\":" ws ("true" | "false") ws "}"
ws ::= [ ]?"""
        structured = await ask(daemon, request("j", "Answer in JSON", grammar=json_grammar))
    assert frames[-1]["type"] == "done", frames
    assert frames[-1]["content"] in {"yes", "no"}
    assert structured[-1]["type"] == "done", structured
    assert re.fullmatch(r'\{ ?"answer": ?(true|false) ?\}', structured[-1]["content"])


def test_split_tokens_round_trips() -> None:
    for text in (demo_answer(QUESTION), "  leading\n\n  and trailing  \n", "", "a"):
        assert "".join(split_tokens(text)) == text


@pytest.mark.parametrize(
    ("prompt", "topic"),
    [
        (QUESTION, "Read a file in Python"),
        ("What is a monad?", "Monad"),
        ("Can you explain TCP keepalive. Thanks", "TCP keepalive"),
        ("???", "Your question"),
    ],
)
def test_topic_of(prompt: str, topic: str) -> None:
    assert topic_of(prompt) == topic
