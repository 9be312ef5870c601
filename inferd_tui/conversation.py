"""Pure conversation state: turns, folding response frames into the live turn, requests.

No I/O and no UI. The app owns one :class:`Conversation`; its generation worker calls
:meth:`Conversation.begin_answer`, then :meth:`Conversation.apply` for every frame, and
:meth:`Conversation.fail` when the stream ends without a terminal frame (EOF, cancel).
Times are injected (monotonic seconds) so tests are exact.
"""

from __future__ import annotations

import itertools
import re
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
    revision: int = 0  # bumped on every change, so views can cache by (key, revision)

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

    def begin_answer(self, request: Request, *, now: float) -> Turn:
        turn = Turn(
            role="assistant",
            content="",
            state=TurnState.STREAMING,
            request_id=request.id,
            request_params=request_parameters(request),
            grammar=request.grammar or "",
            started_at=now,
        )
        self.turns.append(turn)
        return turn

    # --- folding frames ---------------------------------------------------------------

    def apply(self, turn: Turn, frame: ResponseFrame, *, now: float) -> None:
        """Fold one frame into ``turn``. Unknown and status frames change nothing."""
        if isinstance(frame, TokenFrame):
            if turn.first_token_at is None:
                turn.first_token_at = now
            turn.content += frame.content
            turn.tokens_received += 1
        elif isinstance(frame, DoneFrame):
            # The terminal frame's content is authoritative (it repeats the whole answer).
            if frame.content or not turn.content:
                turn.content = frame.content
            if turn.first_token_at is None:
                turn.first_token_at = now
            turn.state = TurnState.COMPLETE
            turn.prompt_tokens = frame.usage.prompt_tokens
            turn.completion_tokens = frame.usage.completion_tokens
            turn.stop_reason = str(frame.stop_reason)
            turn.backend = frame.backend
            turn.finished_at = now
        elif isinstance(frame, ErrorFrame):
            turn.state = TurnState.ERROR
            turn.error_code = str(frame.code)
            turn.error_message = frame.message
            turn.finished_at = now
        else:
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
