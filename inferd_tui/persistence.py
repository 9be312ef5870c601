"""Keeps a :class:`~inferd_tui.conversation.Conversation` saved in a :class:`Store`.

The screen calls these at the moments that matter — a prompt sent, the answer growing
(checkpointed at most once a second), the answer finished — and never touches SQL. Every
store failure is absorbed here: the store switches itself to memory and sets
``store.degraded``, which the UI shows as "not saving"; the conversation on screen is
never affected. Pure: no Textual.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from inferd_tui.conversation import (
    AttachmentRef,
    Conversation,
    ToolCallRecord,
    Turn,
    TurnState,
)
from inferd_tui.request_options import RequestOptions
from inferd_tui.store import Store, StoreError, TurnRecord, title_from_prompt

CHECKPOINT_INTERVAL_S = 1.0

_STORED_STATES = {
    TurnState.QUEUED: "complete",  # a queued prompt is still the user's words: keep them
    TurnState.STREAMING: "streaming",
    TurnState.COMPLETE: "complete",
    TurnState.INTERRUPTED: "interrupted",
    TurnState.CANCELLED: "cancelled",
    TurnState.ERROR: "error",
}


class ConversationSaver:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self._clock = clock
        self._last_checkpoint: dict[int, float] = {}

    @property
    def problem(self) -> str | None:
        """Why nothing is being saved, if so."""
        degraded = self.store.degraded
        return None if degraded is None else str(degraded)

    def _conversation_id(self, conversation: Conversation, first_prompt: str) -> int | None:
        if conversation.store_id is None:
            title = conversation.title or title_from_prompt(first_prompt)
            conversation.title = title
            try:
                conversation.store_id = self.store.create_conversation(
                    title=title, system_prompt=conversation.system_prompt
                ).id
            except StoreError:
                return None
        return conversation.store_id

    def save_turn(self, conversation: Conversation, turn: Turn) -> None:
        """Store a new turn (a prompt, a marker, or the start of an answer)."""
        conversation_id = self._conversation_id(conversation, turn.content)
        if conversation_id is None:
            return
        try:
            record = self.store.add_turn(
                conversation_id,
                turn.role,
                turn.content,
                state=_STORED_STATES[turn.state],  # type: ignore[arg-type]
                request_params=self._request_params(turn),
                tool_result_for=turn.tool_result_for,
                attachments=[dataclasses.asdict(ref) for ref in turn.attachments],
                response_schema=turn.response_schema,
            )
        except StoreError:
            return
        turn.store_id = record.id

    def checkpoint(self, turn: Turn, *, force: bool = False) -> None:
        """Save the streaming text, at most once per CHECKPOINT_INTERVAL_S."""
        if turn.store_id is None:
            return
        now = self._clock()
        last = self._last_checkpoint.get(turn.store_id)
        if not force and last is not None and now - last < CHECKPOINT_INTERVAL_S:
            return
        self._last_checkpoint[turn.store_id] = now
        try:
            self.store.checkpoint_turn(turn.store_id, turn.content, turn.thinking or None)
        except StoreError:
            return

    def finish(self, turn: Turn) -> None:
        if turn.store_id is None:
            return
        self._last_checkpoint.pop(turn.store_id, None)
        try:
            self.store.finish_turn(
                turn.store_id,
                content=turn.content,
                state=_STORED_STATES[turn.state],  # type: ignore[arg-type]
                error_code=turn.error_code,
                error_message=turn.error_message,
                prompt_tokens=turn.prompt_tokens,
                completion_tokens=turn.completion_tokens,
                stop_reason=turn.stop_reason,
                backend=turn.backend,
                time_to_first_token_s=turn.time_to_first_token,
                tokens_per_s=turn.tokens_per_second,
                grammar_match=turn.grammar_match,
                grammar_match_offset=turn.grammar_match_offset,
                thinking=turn.thinking,
                tool_calls=[dataclasses.asdict(call) for call in turn.tool_calls],
                tool_choice_unsatisfied=turn.tool_choice_unsatisfied,
                schema_match=turn.schema_match,
                schema_problem=turn.schema_problem,
            )
        except StoreError:
            return

    def truncate(self, conversation: Conversation, removed: list[Turn]) -> None:
        """Turns dropped by regenerate / edit-and-resend leave the store too."""
        if conversation.store_id is None:
            return
        positions = [turn for turn in removed if turn.store_id is not None]
        if not positions:
            return
        try:
            first = self.store.get_turn(positions[0].store_id or 0).position
            self.store.delete_turns_from(conversation.store_id, first)
        except StoreError:
            return

    def save_settings(self, conversation: Conversation, options: RequestOptions) -> None:
        """The system prompt and what the next request carries, kept with the conversation."""
        if conversation.store_id is None:
            return
        try:
            self.store.set_system_prompt(conversation.store_id, conversation.system_prompt)
            self.store.set_params(conversation.store_id, options.sampling.wire_fields())
            self.store.set_grammar(conversation.store_id, options.grammar)
            self.store.set_options(conversation.store_id, options.stored())
        except StoreError:
            return

    def load(self, conversation_id: int) -> tuple[Conversation, RequestOptions]:
        """A stored conversation, with the options it was last sent with."""
        record = self.store.get_conversation(conversation_id)
        conversation = Conversation(
            system_prompt=record.system_prompt, title=record.title, store_id=record.id
        )
        for stored in self.store.turns(conversation_id):
            if stored.role == "system":
                continue
            turn = Turn(
                role=stored.role,
                content=stored.content,
                state=TurnState(stored.state),
                store_id=stored.id,
                error_code=stored.error_code,
                error_message=stored.error_message,
                prompt_tokens=stored.prompt_tokens,
                completion_tokens=stored.completion_tokens,
                stop_reason=stored.stop_reason,
                backend=stored.backend,
                request_params=dict(stored.request_params or {}),
                grammar=str((stored.request_params or {}).get("grammar", "")),
                grammar_match=stored.grammar_match,
                grammar_match_offset=stored.grammar_match_offset,
                thinking=stored.thinking,
                tool_calls=[call for call in map(_tool_call, stored.tool_calls) if call],
                tool_choice_unsatisfied=stored.tool_choice_unsatisfied,
                response_schema=stored.response_schema,
                schema_match=stored.schema_match,
                schema_problem=stored.schema_problem,
                tool_result_for=stored.tool_result_for,
                attachments=[ref for ref in map(_attachment, stored.attachments) if ref],
            )
            _restore_timings(turn, stored)
            conversation.turns.append(turn)
        options = RequestOptions.from_stored(dict(record.params), record.grammar, record.options)
        return conversation, options

    @staticmethod
    def _request_params(turn: Turn) -> dict[str, Any] | None:
        if turn.role != "assistant":
            return None
        params = dict(turn.request_params)
        params.pop("id", None)
        return params


_ATTACHMENT_FIELDS = frozenset(field.name for field in dataclasses.fields(AttachmentRef))


def _attachment(stored: dict[str, Any]) -> AttachmentRef | None:
    """An attachment ref as stored; one the store cannot make sense of is left out (the
    turn's text still opens)."""
    try:
        return AttachmentRef(**{k: v for k, v in stored.items() if k in _ATTACHMENT_FIELDS})
    except TypeError:
        return None


def _tool_call(stored: dict[str, Any]) -> ToolCallRecord | None:
    call_id, name = stored.get("tool_call_id"), stored.get("name")
    if not isinstance(call_id, str) or not isinstance(name, str):
        return None
    return ToolCallRecord(call_id, name, stored.get("input"))


def _restore_timings(turn: Turn, stored: TurnRecord) -> None:
    """Rebuild start/first-token/end times so TTFT and tokens/s show as they did."""
    ttft, rate = stored.time_to_first_token_s, stored.tokens_per_s
    if ttft is None:
        return
    turn.started_at = 0.0
    turn.first_token_at = ttft
    count = stored.completion_tokens or 0
    if rate and count > 1:
        turn.finished_at = ttft + (count - 1) / rate
