"""What the backends answer, as a plan the server streams (pure: no I/O, no clock).

A :class:`Plan` is the whole answer decided up front: the tokens with the pause before
each, then the terminal frame. The server streams it, watching for a client disconnect.
"""

from __future__ import annotations

import importlib
import random
import re
from dataclasses import dataclass, field
from typing import Any

from inferd_tui.mock_daemon.config import MockConfig
from inferd_tui.mock_daemon.demo_text import (
    count_prompt_tokens,
    demo_answer,
    seed_for,
    split_tokens,
)
from inferd_tui.proto import DEFAULT_MAX_TOKENS, Request, Role

DROP_MESSAGE = "backend ended stream without terminal frame"
GRAMMAR_PARSE_FAILED = "failed to parse grammar"


@dataclass(frozen=True)
class Done:
    stop_reason: str
    prompt_tokens: int
    backend: str


@dataclass(frozen=True)
class Fail:
    code: str
    message: str


@dataclass(frozen=True)
class Plan:
    """``tokens[i]`` is sent after a pause of ``delays[i]`` seconds, then ``ending``.

    ``admitted`` is False for an answer given at once, outside the admission pool
    (the demo's ``busy`` trigger answers ``queue_full`` like a saturated daemon).
    """

    tokens: list[str] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    ending: Done | Fail = Done("end", 0, "mock")
    admitted: bool = True


def _last_user_text(request: Request) -> str:
    for message in reversed(request.messages):
        if message.role == Role.USER:
            return message.content
    return request.messages[-1].content if request.messages else ""


def _apply_drop(plan: Plan, drop_after: int | None) -> Plan:
    """The daemon's view of a backend that stops after ``drop_after`` tokens."""
    if drop_after is None or isinstance(plan.ending, Fail):
        return plan
    return Plan(
        tokens=plan.tokens[:drop_after],
        delays=plan.delays[:drop_after],
        ending=Fail("backend_unavailable", DROP_MESSAGE),
    )


def mock_plan(config: MockConfig, request: Request) -> Plan:
    """The real ``mock`` backend: ignores the request, plays the configured tape (§10)."""
    if config.error_before_stream is not None:
        return Plan(ending=Fail(*config.error_before_stream))
    tokens = list(config.tokens)
    plan = Plan(
        tokens=tokens,
        delays=[config.token_delay_s] * len(tokens),
        ending=Done("end", 0, "mock"),
    )
    return _apply_drop(plan, config.drop_after)


def demo_plan(config: MockConfig, request: Request) -> Plan:
    """Markdown derived from the prompt (or sampled from the request's grammar)."""
    if config.error_before_stream is not None:
        return Plan(ending=Fail(*config.error_before_stream))
    prompt = _last_user_text(request)
    if re.search(r"\bbusy\b", prompt, re.IGNORECASE):
        return Plan(ending=Fail("queue_full", "queue full"), admitted=False)
    seed = seed_for(prompt)
    max_tokens = request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS
    if request.grammar:
        sampled = _sample_grammar(request.grammar, seed=seed, max_tokens=max_tokens)
        if isinstance(sampled, Fail):
            return Plan(ending=sampled)
        text = sampled
    else:
        text = demo_answer(prompt)
    tokens = split_tokens(text)
    stop_reason = "end"
    if len(tokens) > max_tokens:
        tokens, stop_reason = tokens[:max_tokens], "length"
    rng = random.Random(seed)
    base = 1.0 / config.demo_tokens_per_s
    delays = [base * rng.uniform(0.75, 1.25) for _ in tokens]
    prompt_tokens = count_prompt_tokens([message.content for message in request.messages])
    plan = Plan(tokens=tokens, delays=delays, ending=Done(stop_reason, prompt_tokens, "demo"))
    if re.search(r"\bcrash\b", prompt, re.IGNORECASE):
        return _apply_drop(plan, len(tokens) // 2)
    return _apply_drop(plan, config.drop_after)


def _sample_grammar(source: str, *, seed: int, max_tokens: int) -> str | Fail:
    """One string sampled from a GBNF grammar, or the error llama.cpp would give."""
    try:
        grammar: Any = importlib.import_module("inferd_tui.grammar")
        check, sample = grammar.check, grammar.sample
    except (ImportError, AttributeError):
        return Fail("invalid_request", GRAMMAR_PARSE_FAILED)
    try:
        result = check(source)
    except Exception:
        return Fail("invalid_request", GRAMMAR_PARSE_FAILED)
    if not result.ok:
        return Fail("invalid_request", GRAMMAR_PARSE_FAILED)
    try:
        samples = sample(source, 1, seed=seed % 2**32, max_length=max(max_tokens, 1) * 8)
    except Exception as exc:
        return Fail("internal", f"grammar sampling failed: {exc}")
    return str(samples[0]) if samples else ""


def plan_for(config: MockConfig, request: Request) -> Plan:
    if config.backend == "demo":
        return demo_plan(config, request)
    return mock_plan(config, request)
