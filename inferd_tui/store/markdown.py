"""A readable Markdown transcript of a conversation (the JSON export is the one that
round-trips). Untrusted text can neither close a code fence nor replay escape sequences."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from inferd_tui.store.records import ConversationRecord, TurnRecord, clean_params
from inferd_tui.text_safety import sanitize


def _format_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {json.dumps(value)}" for name, value in clean_params(params).items())


def _fence(text: str, info: str = "") -> str:
    # A fence longer than any backtick run inside, so untrusted content can't close it.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _code(text: str) -> str:
    """Inline code that untrusted text cannot close (a longer backtick run around it)."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _attachment_line(ref: Mapping[str, Any]) -> str:
    size = ref.get("size")
    parts = [f"{ref.get('kind', 'attachment')} {_code(str(ref.get('name', '')))}"]
    if isinstance(size, int):
        parts.append(f"{size:,} bytes")
    if ref.get("width") and ref.get("height"):
        parts.append(f"{ref['width']}×{ref['height']}")
    if ref.get("duration_s"):
        parts.append(f"{ref['duration_s']:.1f} s")
    parts.append(f"sha256 {_code(str(ref.get('sha256', '')))}")
    return "- Attached: " + ", ".join(parts)


def _after_text(turn: TurnRecord) -> list[str]:
    """What follows a turn's text: its attachments, and the tool calls an answer made."""
    lines = [_attachment_line(ref) for ref in turn.attachments]
    if lines:
        lines.append("")
    for call in turn.tool_calls:
        name, call_id = str(call.get("name", "")), str(call.get("tool_call_id", ""))
        arguments = json.dumps(call.get("input"), ensure_ascii=False, indent=2)
        lines += [f"**Tool call** {_code(name)} ({_code(call_id)})", "", _fence(arguments, "json")]
        lines.append("")
    return lines


def render_markdown(conversation: ConversationRecord, turns: Sequence[TurnRecord]) -> str:
    """A readable Markdown transcript (the JSON export is the one that round-trips)."""
    lines = [f"# {conversation.title}", ""]
    lines.append(f"- Created: {conversation.created_at.isoformat(timespec='seconds')}")
    if conversation.params:
        lines.append(f"- Parameters: {_format_params(conversation.params)}")
    lines.append("")
    if conversation.system_prompt:
        lines += ["## System prompt", "", conversation.system_prompt, ""]
    if conversation.grammar:
        lines += ["## Grammar", "", _fence(conversation.grammar, "gbnf"), ""]
    for turn in turns:
        if turn.role == "marker":
            lines += [f"> *{' '.join(turn.content.split())}*", ""]
            continue
        if turn.tool_result_for is not None:
            lines += [f"## Tool result for {_code(turn.tool_result_for)}", ""]
        else:
            lines += [f"## {turn.role.capitalize()}", ""]
        if turn.thinking:  # before the answer it led to
            lines += ["**Thinking**", "", _fence(turn.thinking, "text"), ""]
        if turn.content or not (turn.tool_calls or turn.thinking):
            lines += [turn.content, ""]
        lines += _after_text(turn)
        details = _turn_details(turn)
        if details:
            lines += [f"*{' · '.join(details)}*", ""]
    # Control characters made visible: `cat transcript.md` must not replay escape sequences.
    return sanitize("\n".join(lines).rstrip("\n") + "\n")


def _turn_details(turn: TurnRecord) -> list[str]:
    details: list[str] = []
    if turn.state != "complete":
        details.append(turn.state)
    if turn.error_code or turn.error_message:
        details.append(f"error {turn.error_code or ''}: {turn.error_message or ''}".strip())
    if turn.stop_reason:
        details.append(f"stop: {turn.stop_reason}")
    if turn.prompt_tokens is not None or turn.completion_tokens is not None:
        details.append(f"{turn.prompt_tokens or 0} + {turn.completion_tokens or 0} tokens")
    if turn.tokens_per_s is not None:
        details.append(f"{turn.tokens_per_s:.1f} tok/s")
    if turn.backend:
        details.append(turn.backend)
    if turn.request_params:
        sampling = _format_params(turn.request_params)
        if sampling:
            details.append(sampling)
        if turn.request_params.get("grammar"):
            details.append("grammar-constrained")
    if turn.grammar_match:
        details.append("matches grammar")
    elif turn.grammar_match is False and turn.grammar_match_offset == len(turn.content):
        details.append("fits the grammar so far, incomplete")  # as the transcript says
    elif turn.grammar_match is False:
        details.append(f"leaves the grammar at offset {turn.grammar_match_offset}")
    if turn.response_schema is not None:
        if turn.schema_match:
            details.append("matches its JSON schema")
        elif turn.schema_match is False:
            details.append(f"breaks its JSON schema: {turn.schema_problem or ''}".rstrip(": "))
        elif turn.state == "complete":
            details.append("not checked against its JSON schema")
    if turn.tool_choice_unsatisfied:
        details.append("tool_choice required a tool call, but none came")
    return details
