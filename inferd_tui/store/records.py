"""What the store holds, as frozen records, and the rules for the values in them.

Request parameters are filtered to the known wire fields (`clean_params`) on the way in and
on the way out, so the API key never has a column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

# Sampling fields exactly as they go on the wire (protocol-v1 §4). Nothing else is stored.
SAMPLING_FIELDS: Final[tuple[str, ...]] = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "image_token_budget",
)
# What a turn records about the request it was generated with.
TURN_REQUEST_FIELDS: Final[tuple[str, ...]] = (*SAMPLING_FIELDS, "grammar")

Role = Literal["user", "assistant", "system", "marker"]
TurnState = Literal["complete", "streaming", "interrupted", "cancelled", "error"]
ROLES: Final[tuple[str, ...]] = get_args(Role)
TURN_STATES: Final[tuple[str, ...]] = get_args(TurnState)

DEFAULT_TITLE: Final = "New conversation"


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: int
    title: str
    system_prompt: str
    # Sampling fields exactly as on the wire, only those the user set.
    params: dict[str, Any]
    grammar: str
    created_at: datetime
    updated_at: datetime
    # The request options beyond sampling and grammar (RequestOptions.stored(): a JSON
    # schema, the thinking switch, tools, tool_choice).
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TurnRecord:
    id: int
    conversation_id: int
    position: int
    role: Role
    content: str
    state: TurnState
    error_code: str | None = None
    error_message: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stop_reason: str | None = None
    backend: str | None = None
    time_to_first_token_s: float | None = None
    tokens_per_s: float | None = None
    # The exact sampling fields + grammar the turn was generated with (None for user turns).
    request_params: dict[str, Any] | None = None
    grammar_match: bool | None = None
    grammar_match_offset: int | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Answers on the v2 wires: reasoning, tool calls ({tool_call_id, name, input}), and the
    # JSON schema the answer was asked to follow with the check's outcome.
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_choice_unsatisfied: bool = False
    response_schema: dict[str, Any] | None = None
    schema_match: bool | None = None
    schema_problem: str | None = None
    # User turns: the tool call this turn answers, and what was attached (refs by sha256).
    tool_result_for: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    params: dict[str, Any]
    grammar: str
    system_prompt: str


def clean_params(
    params: Mapping[str, Any] | None, fields: Sequence[str] = SAMPLING_FIELDS
) -> dict[str, Any]:
    """Keep only known request fields with a value; anything else (an API key) is dropped."""
    if not params:
        return {}
    return {name: params[name] for name in fields if params.get(name) is not None}


_LEADING_MARKDOWN = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+)+")


def title_from_prompt(text: str, max_chars: int = 60) -> str:
    """A conversation title: the prompt's first non-empty line, cut on a word boundary."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Leading Markdown marks (a heading, a quote, a bullet) are not part of the subject.
    title = " ".join(_LEADING_MARKDOWN.sub("", first_line).split()) or " ".join(first_line.split())
    if not title:
        return DEFAULT_TITLE
    if len(title) <= max_chars:
        return title
    cut = title[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"
