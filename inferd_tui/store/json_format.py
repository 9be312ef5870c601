"""The JSON export format: writing a conversation out, and reading (validating) one back in.

The JSON export is the one that round-trips: each turn keeps its exact request parameters
and grammar, and (version 2) its thinking, tool calls, tool result pairing, attachment refs
and JSON-schema check; the conversation its request options. Version 1 files (before
these) still import. Anything read back is untrusted, so `parse_export` checks every field
and reports the first problem with where it is (`turns[3].prompt_tokens: expected int or
null`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, cast

from inferd_tui.store.attachments import is_sha256, sha256_of
from inferd_tui.store.errors import ImportFormatError
from inferd_tui.store.records import (
    DEFAULT_TITLE,
    ROLES,
    SAMPLING_FIELDS,
    TURN_REQUEST_FIELDS,
    TURN_STATES,
    ConversationRecord,
    TurnRecord,
    clean_params,
)
from inferd_tui.store.schema import TURN_COLUMNS
from inferd_tui.text_safety import without_lone_surrogates

EXPORT_FORMAT: Final = "inferd-tui.conversation"
#: 2 added thinking, tool calls and results, attachment refs, schema checks and options.
EXPORT_VERSION: Final = 2
#: What an attachment ref holds (conversation.AttachmentRef's fields), and their types.
ATTACHMENT_FIELDS: Final[dict[str, tuple[type, ...]]] = {
    "kind": (str,),
    "name": (str,),
    "sha256": (str,),
    "size": (int,),
    "width": (int,),
    "height": (int,),
    "original_width": (int,),
    "original_height": (int,),
    "sample_rate": (int,),
    "duration_s": (int, float),
}


#: An embedded attachment is refused past this many bytes (one BLOB frame's cap).
MAX_EMBEDDED_BYTES: Final = 64 * 1024 * 1024


def export_document(
    conversation: ConversationRecord,
    turns: Sequence[TurnRecord],
    *,
    attachments: Sequence[tuple[str, bytes]] | None = None,
) -> str:
    """The conversation and each turn's exact request parameters and grammar, as JSON.

    `attachments` (sha256, bytes) are embedded as base64 under ``"attachments"``; without
    them the document names attachments by hash only (the turns' refs)."""
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "conversation": {
            "title": conversation.title,
            "system_prompt": conversation.system_prompt,
            "params": clean_params(conversation.params),
            "grammar": conversation.grammar,
            "options": conversation.options,
            "created_at": conversation.created_at.isoformat(),
            "updated_at": conversation.updated_at.isoformat(),
        },
        "turns": [_turn_to_export(turn) for turn in turns],
    }
    if attachments is not None:
        document["attachments"] = [
            {"sha256": sha, "size": len(data), "base64": base64.b64encode(data).decode("ascii")}
            for sha, data in attachments
        ]
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _turn_to_export(turn: TurnRecord) -> dict[str, Any]:
    return {
        "role": turn.role,
        "content": turn.content,
        "state": turn.state,
        "error_code": turn.error_code,
        "error_message": turn.error_message,
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.completion_tokens,
        "stop_reason": turn.stop_reason,
        "backend": turn.backend,
        "time_to_first_token_s": turn.time_to_first_token_s,
        "tokens_per_s": turn.tokens_per_s,
        "request_params": None
        if turn.request_params is None
        else clean_params(turn.request_params, TURN_REQUEST_FIELDS),
        "grammar_match": turn.grammar_match,
        "grammar_match_offset": turn.grammar_match_offset,
        "thinking": turn.thinking,
        "tool_calls": turn.tool_calls,
        "tool_choice_unsatisfied": turn.tool_choice_unsatisfied,
        "response_schema": turn.response_schema,
        "schema_match": turn.schema_match,
        "schema_problem": turn.schema_problem,
        "tool_result_for": turn.tool_result_for,
        "attachments": turn.attachments,
        "created_at": turn.created_at.isoformat(),
        "updated_at": turn.updated_at.isoformat(),
    }


def _expect(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ImportFormatError(f"{where}: {message}")


def _optional(obj: Mapping[str, Any], key: str, kinds: tuple[type, ...], where: str) -> Any:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int in Python; don't accept true for a token count.
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    names = " or ".join(kind.__name__ for kind in kinds)
    _expect(ok, f"{where}.{key}", f"expected {names} or null, got {json.dumps(value)[:40]}")
    if float in kinds and isinstance(value, int | float):
        _expect(math.isfinite(value), f"{where}.{key}", "expected a finite number")
    return value


def _text(obj: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = obj.get(key, default)
    _expect(isinstance(value, str), f"{where}.{key}", "expected a string")
    return cast(str, value)


def _timestamp(obj: Mapping[str, Any], key: str, where: str) -> float:
    value = obj.get(key)
    if value is None:
        return time.time()
    _expect(isinstance(value, str), f"{where}.{key}", "expected an ISO 8601 timestamp")
    try:
        moment = datetime.fromisoformat(cast(str, value))
    except ValueError:
        raise ImportFormatError(f"{where}.{key}: expected an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _params(value: Any, where: str, fields: Sequence[str]) -> dict[str, Any]:
    _expect(isinstance(value, dict), where, "expected an object")
    params = clean_params(cast(dict[str, Any], value), fields)
    for name, item in params.items():
        if name == "grammar":
            _expect(isinstance(item, str), f"{where}.grammar", "expected a string")
        elif name in ("temperature", "top_p"):
            _optional(params, name, (int, float), where)
        else:
            _optional(params, name, (int,), where)
    return params


def _object(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any] | None:
    value = obj.get(key)
    _expect(value is None or isinstance(value, dict), f"{where}.{key}", "expected an object")
    return cast("dict[str, Any] | None", value)


def _tool_calls(obj: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    value = obj.get("tool_calls")
    value = [] if value is None else value
    _expect(isinstance(value, list), f"{where}.tool_calls", "expected a list")
    calls: list[dict[str, Any]] = []
    for index, call in enumerate(cast(list[Any], value)):
        here = f"{where}.tool_calls[{index}]"
        _expect(isinstance(call, dict), here, "expected an object")
        call_in = cast(dict[str, Any], call)
        calls.append(
            {
                "tool_call_id": _text(call_in, "tool_call_id", here),
                "name": _text(call_in, "name", here),
                "input": call_in.get("input"),
            }
        )
    return calls


def _attachments(obj: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    value = obj.get("attachments")
    value = [] if value is None else value
    _expect(isinstance(value, list), f"{where}.attachments", "expected a list")
    refs: list[dict[str, Any]] = []
    for index, ref in enumerate(cast(list[Any], value)):
        here = f"{where}.attachments[{index}]"
        _expect(isinstance(ref, dict), here, "expected an object")
        ref_in = cast(dict[str, Any], ref)
        _expect(ref_in.get("kind") in ("image", "audio"), f"{here}.kind", "expected image or audio")
        for name in ("name", "sha256", "size"):
            _expect(ref_in.get(name) is not None, f"{here}.{name}", "missing")
        refs.append(
            {
                name: _optional(ref_in, name, kinds, here)
                for name, kinds in ATTACHMENT_FIELDS.items()
                if ref_in.get(name) is not None
            }
        )
    return refs


def parse_export(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate an export document; values come back ready to insert (timestamps as floats)."""
    try:
        document = without_lone_surrogates(json.loads(text))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ImportFormatError(f"not JSON: {exc}") from None
    _expect(isinstance(document, dict), "document", "expected a JSON object")
    fmt = document.get("format")
    _expect(
        fmt == EXPORT_FORMAT,
        "format",
        f"expected {json.dumps(EXPORT_FORMAT)}, got {json.dumps(fmt)[:60]}"
        " (is this an inferd-tui conversation export?)",
    )
    version = document.get("version")
    _expect(
        isinstance(version, int) and not isinstance(version, bool),
        "version",
        "expected an integer",
    )
    _expect(
        version <= EXPORT_VERSION,
        "version",
        f"this export is version {version}; this inferd-tui reads up to {EXPORT_VERSION}",
    )
    raw_conversation = document.get("conversation")
    _expect(isinstance(raw_conversation, dict), "conversation", "expected an object")
    conversation_in = cast(dict[str, Any], raw_conversation)
    conversation = {
        "title": _text(conversation_in, "title", "conversation", DEFAULT_TITLE),
        "system_prompt": _text(conversation_in, "system_prompt", "conversation", ""),
        "params": _params(
            conversation_in.get("params", {}), "conversation.params", SAMPLING_FIELDS
        ),
        "grammar": _text(conversation_in, "grammar", "conversation", ""),
        "options": _object(conversation_in, "options", "conversation") or {},
        "created_at": _timestamp(conversation_in, "created_at", "conversation"),
        "updated_at": _timestamp(conversation_in, "updated_at", "conversation"),
    }
    raw_turns = document.get("turns")
    _expect(isinstance(raw_turns, list), "turns", "expected a list")
    turns: list[dict[str, Any]] = []
    for index, raw_turn in enumerate(cast(list[Any], raw_turns)):
        where = f"turns[{index}]"
        _expect(isinstance(raw_turn, dict), where, "expected an object")
        turn_in = cast(dict[str, Any], raw_turn)
        role = turn_in.get("role")
        _expect(role in ROLES, f"{where}.role", f"expected one of {', '.join(ROLES)}")
        state = turn_in.get("state", "complete")
        _expect(state in TURN_STATES, f"{where}.state", f"expected one of {', '.join(TURN_STATES)}")
        request = turn_in.get("request_params")
        turns.append(
            {
                "role": role,
                "content": _text(turn_in, "content", where),
                # Nothing is streaming in a file: an export taken mid-answer was cut short.
                "state": "interrupted" if state == "streaming" else state,
                "error_code": _optional(turn_in, "error_code", (str,), where),
                "error_message": _optional(turn_in, "error_message", (str,), where),
                "prompt_tokens": _optional(turn_in, "prompt_tokens", (int,), where),
                "completion_tokens": _optional(turn_in, "completion_tokens", (int,), where),
                "stop_reason": _optional(turn_in, "stop_reason", (str,), where),
                "backend": _optional(turn_in, "backend", (str,), where),
                "time_to_first_token_s": _optional(
                    turn_in, "time_to_first_token_s", (int, float), where
                ),
                "tokens_per_s": _optional(turn_in, "tokens_per_s", (int, float), where),
                "request_params": None
                if request is None
                else _params(request, f"{where}.request_params", TURN_REQUEST_FIELDS),
                "grammar_match": _optional(turn_in, "grammar_match", (bool,), where),
                "grammar_match_offset": _optional(turn_in, "grammar_match_offset", (int,), where),
                "thinking": _text(turn_in, "thinking", where, ""),
                "tool_calls": _tool_calls(turn_in, where),
                "tool_choice_unsatisfied": bool(
                    _optional(turn_in, "tool_choice_unsatisfied", (bool,), where)
                ),
                "response_schema": _object(turn_in, "response_schema", where),
                "schema_match": _optional(turn_in, "schema_match", (bool,), where),
                "schema_problem": _optional(turn_in, "schema_problem", (str,), where),
                "tool_result_for": _optional(turn_in, "tool_result_for", (str,), where),
                "attachments": _attachments(turn_in, where),
                "created_at": _timestamp(turn_in, "created_at", where),
                "updated_at": _timestamp(turn_in, "updated_at", where),
            }
        )
    return conversation, turns


def parse_export_attachments(text: str) -> dict[str, bytes]:
    """The attachments embedded in an export, by sha256, each checked against its hash
    and size; `ImportFormatError` naming the first one that is not what it says."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ImportFormatError(f"not JSON: {exc}") from None
    raw = document.get("attachments") if isinstance(document, dict) else None
    if raw is None:
        return {}
    _expect(isinstance(raw, list), "attachments", "expected a list")
    found: dict[str, bytes] = {}
    for index, item in enumerate(cast(list[Any], raw)):
        where = f"attachments[{index}]"
        _expect(isinstance(item, dict), where, "expected an object")
        entry = cast(dict[str, Any], item)
        sha = entry.get("sha256")
        # The hash becomes a file name: only 64 lowercase hex digits, never a path.
        _expect(is_sha256(sha), f"{where}.sha256", "expected 64 lowercase hex digits")
        raw_size = entry.get("size")
        _expect(
            isinstance(raw_size, int) and not isinstance(raw_size, bool) and raw_size >= 0,
            f"{where}.size",
            "expected a byte count",
        )
        size = cast(int, raw_size)
        _expect(
            size <= MAX_EMBEDDED_BYTES,
            f"{where}.size",
            f"{size:,} bytes is past the {MAX_EMBEDDED_BYTES:,} an attachment can be",
        )
        raw_encoded = entry.get("base64")
        _expect(isinstance(raw_encoded, str), f"{where}.base64", "expected base64 text")
        encoded = cast(str, raw_encoded)
        _expect(
            len(encoded) <= (size + 2) // 3 * 4 + 8,
            f"{where}.base64",
            f"longer than {size:,} bytes encode to",
        )
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ImportFormatError(f"{where}.base64: not valid base64") from None
        _expect(
            len(data) == size, f"{where}.size", f"says {size:,} bytes, the data is {len(data):,}"
        )
        _expect(
            sha256_of(data) == sha,
            f"{where}.sha256",
            "the data does not hash to it (damaged or altered)",
        )
        found[cast(str, sha)] = data
    return found


def insert_imported(
    conn: sqlite3.Connection, conversation: Mapping[str, Any], turns: Sequence[Mapping[str, Any]]
) -> int:
    """Insert what `parse_export` returned as a new conversation; returns its id.

    Runs inside the caller's transaction: an import lands whole or not at all.
    """
    cursor = conn.execute(
        "INSERT INTO conversations (title, system_prompt, params, grammar,"
        " created_at, updated_at, options) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            conversation["title"],
            conversation["system_prompt"],
            json.dumps(conversation["params"]),
            conversation["grammar"],
            conversation["created_at"],
            conversation["updated_at"],
            json.dumps(conversation["options"]),
        ),
    )
    new_id = cast(int, cursor.lastrowid)
    for position, turn in enumerate(turns):
        conn.execute(
            f"INSERT INTO turns ({TURN_COLUMNS}) VALUES"
            " (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_id,
                position,
                turn["role"],
                turn["content"],
                turn["state"],
                turn["error_code"],
                turn["error_message"],
                turn["prompt_tokens"],
                turn["completion_tokens"],
                turn["stop_reason"],
                turn["backend"],
                turn["time_to_first_token_s"],
                turn["tokens_per_s"],
                None if turn["request_params"] is None else json.dumps(turn["request_params"]),
                None if turn["grammar_match"] is None else int(turn["grammar_match"]),
                turn["grammar_match_offset"],
                turn["created_at"],
                turn["updated_at"],
                turn["thinking"],
                json.dumps(turn["tool_calls"]) if turn["tool_calls"] else None,
                turn["tool_result_for"],
                int(turn["tool_choice_unsatisfied"]),
                None if turn["response_schema"] is None else json.dumps(turn["response_schema"]),
                None if turn["schema_match"] is None else int(turn["schema_match"]),
                turn["schema_problem"],
                json.dumps(turn["attachments"]) if turn["attachments"] else None,
            ),
        )
    return new_id
