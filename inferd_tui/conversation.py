"""Pure conversation state: turns, folding answer events into the live turn, requests.

No I/O and no UI. The app owns one :class:`Conversation`; its generation worker calls
:meth:`Conversation.begin_answer`, then :meth:`Conversation.apply` for every answer event
(any wire; v1 frames are accepted too), and :meth:`Conversation.fail` when the stream ends
without a terminal frame (EOF, cancel). Times are injected (monotonic seconds) so tests
are exact.

An answer keeps every block the daemon sent: its text, its thinking and its tool calls. A
user turn may be the result of a tool call (``tool_result_for``) and may carry
attachments (:class:`AttachmentRef`: what was sent, by content hash; the bytes live in
the store). :meth:`Conversation.to_chat_request` turns the dialogue into a wire-neutral
request.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from inferd_tui.proto import (
    DoneFrame,
    ErrorFrame,
    Message,
    Request,
    ResponseFrame,
    Role,
    SamplingParams,
    TokenFrame,
)
from inferd_tui.proto.chat import (
    AnswerEvent,
    AudioAttachment,
    AudioBlock,
    ChatMessage,
    ChatRequest,
    ContentBlock,
    Failed,
    Finished,
    ImageAttachment,
    ImageBlock,
    TextBlock,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResultBlock,
    ToolUseBlock,
    normalise_stop_reason,
)
from inferd_tui.proto.v1_wire import from_v1_frame
from inferd_tui.request_options import RequestOptions

TurnRole = Literal["user", "assistant", "marker"]


class TurnState(StrEnum):
    QUEUED = "queued"  # a prompt waiting for the daemon to become ready
    STREAMING = "streaming"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"  # the daemon closed the connection mid-answer
    CANCELLED = "cancelled"  # the user stopped it
    ERROR = "error"  # an error frame, or a client-side failure


FAILED_STATES = frozenset({TurnState.INTERRUPTED, TurnState.CANCELLED, TurnState.ERROR})

_turn_ids = itertools.count(1)


@dataclass(frozen=True)
class ToolCallRecord:
    """A tool call the model made: replayed as a ``tool_use`` block in later requests."""

    tool_call_id: str
    name: str
    input: Any


@dataclass(frozen=True)
class AttachmentRef:
    """An image or audio clip sent with a user turn. ``sha256`` names the exact bytes that
    went on the wire (RGB or mono f32 PCM), kept once per content next to the store;
    ``size`` is their length. Images: ``width``/``height`` as sent and the original's size;
    audio: ``sample_rate`` and ``duration_s``."""

    kind: Literal["image", "audio"]
    name: str
    sha256: str
    size: int
    width: int = 0
    height: int = 0
    original_width: int = 0
    original_height: int = 0
    sample_rate: int = 0
    duration_s: float = 0.0


@dataclass
class Turn:
    """One entry of the conversation. Assistant turns carry the answer's bookkeeping."""

    role: TurnRole
    content: str
    state: TurnState = TurnState.COMPLETE
    key: int = field(default_factory=lambda: next(_turn_ids))
    store_id: int | None = None
    # Assistant answers only:
    request_id: str = ""
    request_params: dict[str, Any] = field(default_factory=dict)
    grammar: str = ""
    error_code: str | None = None
    error_message: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stop_reason: str | None = None
    backend: str | None = None
    started_at: float | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    tokens_received: int = 0
    grammar_match: bool | None = None
    grammar_match_offset: int | None = None
    # v2 blocks (answers): reasoning, tool calls, and what the answer was checked against.
    thinking: str = ""
    thinking_deltas: int = 0
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    tool_choice_unsatisfied: bool = False
    response_schema: dict[str, Any] | None = None
    schema_match: bool | None = None  # None: not checked (no schema, or cut off early)
    schema_problem: str | None = None  # the validator's path and message when it failed
    # User turns: the tool call this turn answers, and what was attached.
    tool_result_for: str | None = None
    attachments: list[AttachmentRef] = field(default_factory=list)
    revision: int = 0  # bumped on every change, so views can cache by (key, revision)

    @property
    def stop_kind(self) -> str | None:
        """The stop reason in v2's words whatever the wire (``length`` → ``max_tokens``)."""
        return None if self.stop_reason is None else normalise_stop_reason(self.stop_reason)

    @property
    def time_to_first_token(self) -> float | None:
        if self.started_at is None or self.first_token_at is None:
            return None
        return self.first_token_at - self.started_at

    @property
    def tokens_per_second(self) -> float | None:
        """Completion tokens over the time from the first token to the end."""
        if self.first_token_at is None or self.finished_at is None:
            return None
        elapsed = self.finished_at - self.first_token_at
        count = self.completion_tokens or self.tokens_received
        if elapsed <= 0 or count <= 1:
            return None
        return (count - 1) / elapsed

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES

    def touch(self) -> None:
        self.revision += 1


@dataclass
class Conversation:
    """The turns of one conversation and the system prompt sent with every request."""

    system_prompt: str = ""
    turns: list[Turn] = field(default_factory=list)
    title: str = ""
    store_id: int | None = None

    # --- building ---------------------------------------------------------------------

    def add_user(self, text: str, *, state: TurnState = TurnState.COMPLETE) -> Turn:
        turn = Turn(role="user", content=text, state=state)
        self.turns.append(turn)
        return turn

    def add_marker(self, text: str) -> Turn:
        """A one-line lifecycle note (daemon restarting, draining…) between turns."""
        turn = Turn(role="marker", content=text)
        self.turns.append(turn)
        return turn

    def add_tool_result(self, tool_call_id: str, text: str) -> Turn:
        """The user's answer to a tool call, sent as a ``tool_result`` paired with it."""
        turn = Turn(role="user", content=text, tool_result_for=tool_call_id)
        self.turns.append(turn)
        return turn

    def begin_answer(self, request: Request | ChatRequest, *, now: float) -> Turn:
        if isinstance(request, ChatRequest):
            params = request_options_parameters(request)
            grammar = request.grammar or ""
        else:
            params = request_parameters(request)
            grammar = request.grammar or ""
        turn = Turn(
            role="assistant",
            content="",
            state=TurnState.STREAMING,
            request_id=request.id,
            request_params=params,
            grammar=grammar,
            started_at=now,
            response_schema=request.response_schema if isinstance(request, ChatRequest) else None,
        )
        self.turns.append(turn)
        return turn

    # --- folding answer events ----------------------------------------------------------

    def apply(self, turn: Turn, event: AnswerEvent | ResponseFrame, *, now: float) -> None:
        """Fold one answer event (or v1 frame) into ``turn``; unknown frames change nothing."""
        if isinstance(event, TokenFrame | DoneFrame | ErrorFrame):
            event = from_v1_frame(event)
        if isinstance(event, TextDelta):
            if turn.first_token_at is None:
                turn.first_token_at = now
            turn.content += event.text
            turn.tokens_received += 1
        elif isinstance(event, ThinkingDelta):
            if turn.first_token_at is None:
                turn.first_token_at = now
            turn.thinking += event.text
            turn.thinking_deltas += 1
        elif isinstance(event, ToolCall):
            if turn.first_token_at is None:
                turn.first_token_at = now
            turn.tool_calls.append(ToolCallRecord(event.tool_call_id, event.name, event.input))
        elif isinstance(event, Finished):
            # v1's done repeats the whole answer: it is authoritative there.
            if event.text is not None and (event.text or not turn.content):
                turn.content = event.text
            if turn.first_token_at is None:
                turn.first_token_at = now
            turn.state = TurnState.COMPLETE
            turn.prompt_tokens = event.usage.input_tokens
            turn.completion_tokens = event.usage.output_tokens
            turn.stop_reason = event.raw_stop_reason
            turn.backend = event.backend
            turn.tool_choice_unsatisfied = event.tool_choice_unsatisfied
            turn.finished_at = now
        elif isinstance(event, Failed):
            turn.state = TurnState.ERROR
            turn.error_code = event.code
            turn.error_message = event.message
            turn.finished_at = now
        else:  # OtherFrame, v1 status and unknown frames
            return
        turn.touch()

    def fail(
        self,
        turn: Turn,
        state: TurnState,
        *,
        now: float,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """End ``turn`` without a terminal frame; the partial text stays."""
        if state not in FAILED_STATES:
            raise ValueError(f"{state} is not a failure state")
        turn.state = state
        turn.error_code = code
        turn.error_message = message
        turn.finished_at = now
        turn.touch()

    # --- editing ----------------------------------------------------------------------

    def last_user_index(self) -> int | None:
        for index in range(len(self.turns) - 1, -1, -1):
            if self.turns[index].role == "user":
                return index
        return None

    def truncate(self, index: int) -> list[Turn]:
        """Drop the turns from ``index`` on (regenerate / edit-and-resend); return them."""
        removed = self.turns[index:]
        del self.turns[index:]
        return removed

    def open_tool_calls(self) -> list[ToolCallRecord]:
        """The last answer's tool calls that wait for a result, in the order it made them.

        Empty unless the last answer is complete and only tool results (or markers) came
        after it: once the user types a prompt of their own, the calls are left behind.
        """
        return open_tool_calls(self.turns)

    # --- requests ---------------------------------------------------------------------

    def messages(self) -> list[Message]:
        """What goes on the wire: v1 is stateless, so the whole conversation every time.

        Failed or unfinished answers and lifecycle markers are not part of the dialogue
        the model sees; complete answers and every user turn are.
        """
        messages: list[Message] = []
        if self.system_prompt.strip():
            messages.append(Message(role=Role.SYSTEM, content=self.system_prompt))
        for turn in self.turns:
            if turn.role == "user" and turn.state in {TurnState.COMPLETE, TurnState.QUEUED}:
                messages.append(Message(role=Role.USER, content=turn.content))
            elif turn.role == "assistant" and turn.state is TurnState.COMPLETE:
                messages.append(Message(role=Role.ASSISTANT, content=turn.content))
        return messages

    def to_request(
        self, params: SamplingParams, *, grammar: str = "", request_id: str = ""
    ) -> Request:
        return Request.build(self.messages(), params, id=request_id, grammar=grammar)

    def chat_messages(self) -> list[ChatMessage]:
        """The dialogue as content blocks: what every v2 request carries.

        Complete answers replay their text and tool calls (``tool_use``); a tool-result
        turn becomes a ``tool_result`` block in a user message; attachments follow the
        prompt's text as ``image``/``audio`` blocks named ``img-N``/``aud-N`` in order.
        Thinking is not sent back.
        """
        messages: list[ChatMessage] = []
        if self.system_prompt.strip():
            messages.append(ChatMessage.text(Role.SYSTEM, self.system_prompt))
        counts = {"image": 0, "audio": 0}
        for turn in self.turns:
            if turn.role == "user" and turn.state in {TurnState.COMPLETE, TurnState.QUEUED}:
                if turn.tool_result_for is not None:
                    result = ToolResultBlock(
                        tool_call_id=turn.tool_result_for,
                        content=(TextBlock(text=turn.content),),
                    )
                    messages.append(ChatMessage(role=Role.USER, content=(result,)))
                    continue
                blocks: list[ContentBlock] = [TextBlock(text=turn.content)]
                for attachment in turn.attachments:
                    counts[attachment.kind] += 1
                    attachment_id = attachment_id_for(attachment.kind, counts[attachment.kind])
                    if attachment.kind == "image":
                        blocks.append(ImageBlock(attachment_id=attachment_id))
                    else:
                        blocks.append(AudioBlock(attachment_id=attachment_id))
                messages.append(ChatMessage(role=Role.USER, content=tuple(blocks)))
            elif turn.role == "assistant" and turn.state is TurnState.COMPLETE:
                answer: list[ContentBlock] = []
                if turn.content or not turn.tool_calls:
                    answer.append(TextBlock(text=turn.content))
                answer.extend(
                    ToolUseBlock(tool_call_id=call.tool_call_id, name=call.name, input=call.input)
                    for call in turn.tool_calls
                )
                messages.append(ChatMessage(role=Role.ASSISTANT, content=tuple(answer)))
        return messages

    def to_chat_request(
        self,
        options: RequestOptions,
        *,
        request_id: str = "",
        load_attachment: Callable[[AttachmentRef, str], ImageAttachment | AudioAttachment]
        | None = None,
    ) -> ChatRequest:
        """The wire-neutral request for the next answer. ``load_attachment(ref, id)``
        returns each attachment with its bytes (from the store); without it, attachments
        go without bytes (a preview)."""
        attachments: list[ImageAttachment | AudioAttachment] = []
        counts = {"image": 0, "audio": 0}
        for turn in self.turns:
            if turn.role != "user" or turn.state not in {TurnState.COMPLETE, TurnState.QUEUED}:
                continue
            if turn.tool_result_for is not None:
                continue
            for ref in turn.attachments:
                counts[ref.kind] += 1
                attachment_id = attachment_id_for(ref.kind, counts[ref.kind])
                if load_attachment is not None:
                    attachments.append(load_attachment(ref, attachment_id))
                elif ref.kind == "image":
                    attachments.append(
                        ImageAttachment(id=attachment_id, width=ref.width, height=ref.height)
                    )
                else:
                    attachments.append(
                        AudioAttachment(id=attachment_id, sample_rate=ref.sample_rate)
                    )
        return ChatRequest(
            id=request_id,
            messages=tuple(self.chat_messages()),
            attachments=tuple(attachments),
            sampling=options.sampling,
            grammar=options.grammar or None,
            response_schema=options.response_schema,
            thinking=options.thinking,
            tools=options.tools,
            tool_choice=options.tool_choice,
        )


def open_tool_calls(turns: list[Turn]) -> list[ToolCallRecord]:
    """:meth:`Conversation.open_tool_calls` of ``turns`` (views keep their own list)."""
    answered: set[str] = set()
    for index in range(len(turns) - 1, -1, -1):
        turn = turns[index]
        if turn.role == "assistant":
            if turn.state is not TurnState.COMPLETE:
                return []
            return [call for call in turn.tool_calls if call.tool_call_id not in answered]
        if turn.role == "user":
            if turn.tool_result_for is None:
                return []
            answered.add(turn.tool_result_for)
    return []


def attachment_id_for(kind: str, number: int) -> str:
    """``img-1``, ``aud-2``: attachment ids in the order they appear in the conversation."""
    return f"{'img' if kind == 'image' else 'aud'}-{number}"


def request_options_parameters(request: ChatRequest) -> dict[str, Any]:
    """A wire-neutral request's fields other than the conversation (kept with each answer):
    the sampling fields, and the switches that were set."""
    params: dict[str, Any] = request.sampling.wire_fields()
    if request.grammar:
        params["grammar"] = request.grammar
    if request.response_schema is not None:
        params["response_format"] = {"type": "json_schema", "schema": request.response_schema}
    if request.thinking is not None:
        params["thinking"] = request.thinking
    if request.tools:
        params["tools"] = [tool.model_dump(mode="json") for tool in request.tools]
    if request.tool_choice is not None:
        params["tool_choice"] = request.tool_choice
    return params


def request_parameters(request: Request) -> dict[str, Any]:
    """The request's fields other than the conversation itself (kept with each answer)."""
    # Excluded rather than dumped and dropped: the conversation can be long.
    return request.model_dump(mode="json", exclude_none=True, exclude={"messages"})


_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$", re.MULTILINE)


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Fenced code blocks of a Markdown answer, in order (an unclosed one runs to the end)."""
    blocks: list[CodeBlock] = []
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening.group("fence")
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if (
                closing
                and closing.group("fence")[0] == fence[0]
                and len(closing.group("fence")) >= len(fence)
                and not closing.group("info").strip()
            ):
                break
            body.append(lines[index])
            index += 1
        blocks.append(CodeBlock(language=opening.group("info").strip(), code="\n".join(body)))
        index += 1
    return blocks
