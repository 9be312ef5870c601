"""The chat flow without widgets: one conversation, sent to the daemon and kept saved.

A :class:`ChatSession` owns the :class:`~inferd_tui.conversation.Conversation`, talks to
the daemon through the client, and saves every turn as it happens. It queues a prompt
until the daemon is ready, retries ``queue_full`` with a countdown (never
``invalid_request``), sequences cancel, regenerate, edit-and-resend and answering a tool
call, and checks constrained answers against their grammar (v1) or JSON schema (0.5+).
It reports everything that changes what a user would see as one of the plain
:data:`SessionEvent` dataclasses, through the ``on_event`` callback; a screen renders
them, a test collects them. No Textual, no Rich.

Concurrency is structured: the session never creates a task of its own. The caller
hands it ``spawn`` — a task group's ``start_soon``, or the UI's worker starter — and each
answer streams in one task started there, inside a cancel scope that :meth:`cancel`
cancels. Cancelling the caller's task group cancels the answer too; either way the
partial answer is kept and saved as cancelled.

Requests are wire-neutral (:meth:`Conversation.to_chat_request` from the session's
:class:`RequestOptions`) and go out through the client's ``chat()``, which speaks whatever
wire the daemon has. Only :meth:`ChatSession._stream` reads its answer events and only
:func:`failure_of` maps its errors.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import anyio

from inferd_tui.conversation import (
    AttachmentRef,
    Conversation,
    Turn,
    TurnState,
    attachment_id_for,
)
from inferd_tui.persistence import ConversationSaver
from inferd_tui.proto import (
    AuthRejected,
    ConnectError,
    DaemonError,
    IncompatibleDaemon,
    InferdError,
    InvalidRequest,
    SamplingParams,
    UnexpectedEof,
)
from inferd_tui.proto.capability import DaemonProfile, request_problems
from inferd_tui.proto.chat import AnswerEvent, AudioAttachment, ChatRequest, ImageAttachment
from inferd_tui.proto.errors import UnsupportedByDaemon
from inferd_tui.proto.preview import request_preview
from inferd_tui.request_options import RequestOptions
from inferd_tui.store import NotFound, Store, StoreError

if TYPE_CHECKING:
    from inferd_tui.daemon_state import DaemonState
    from inferd_tui.grammar import MatchResult

#: ``queue_full`` is retried this many times (after waits of 1, 2, 4, 8 and 8 s).
QUEUE_FULL_RETRIES = 5
#: An answer longer than this is not matched against its grammar (matching is CPU work).
GRAMMAR_MATCH_LIMIT = 50_000
#: An answer longer than this is not parsed and validated against its JSON schema.
SCHEMA_CHECK_LIMIT = 2_000_000
#: The error code of an answer whose request this daemon cannot take (nothing was sent).
UNSUPPORTED = "unsupported"


class AnswerSource(Protocol):
    """What the session needs of the client: request ids, answers on the daemon's wire,
    and what the daemon is (which wire, which releases, what its backends advertise).

    :class:`inferd_tui.client.Client` is one; a test may pass its own. ``chat`` raises
    :class:`UnsupportedByDaemon` before sending a request the daemon cannot take."""

    def new_request_id(self) -> str: ...

    def chat(self, request: ChatRequest) -> AsyncGenerator[AnswerEvent, None]: ...

    @property
    def profile(self) -> DaemonProfile: ...


#: Returns an attachment with its bytes (from the store) under the id it is sent with.
LoadAttachment: TypeAlias = Callable[[AttachmentRef, str], ImageAttachment | AudioAttachment]


#: Starts ``job`` in the caller's task group (or UI worker); the session awaits nothing
#: outside the tasks it starts this way.
Spawn: TypeAlias = Callable[[Callable[[], Awaitable[None]]], None]


class SessionBusy(Exception):
    """An answer is streaming or a prompt is queued: the request would clash with it."""


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnsChanged:
    """Turns were added or removed, or another conversation opened: show the list anew."""


@dataclass(frozen=True)
class TurnChanged:
    """One turn changed in place (a queued prompt went out; an answer is being checked)."""

    turn: Turn


@dataclass(frozen=True)
class AnswerStreamed:
    """More of the live answer arrived, or its end: many per second, so batch redraws."""

    turn: Turn


@dataclass(frozen=True)
class RetryCountdown:
    """``queue_full``: the answer is tried again in ``seconds_left`` seconds."""

    turn: Turn
    seconds_left: int
    retry: int
    retries: int


@dataclass(frozen=True)
class RetryStarted:
    """The countdown is over and the answer is being asked for again, from empty."""

    turn: Turn


@dataclass(frozen=True)
class RetriesExhausted:
    """The queue stayed full through every retry; the answer keeps the error."""

    turn: Turn
    retries: int


@dataclass(frozen=True)
class AnswerFinished:
    """The answer ended — complete, failed or cancelled — and is saved that way.

    ``resend`` is the prompt that led to a failed (not cancelled) answer: offered for
    fixing and sending again."""

    turn: Turn
    resend: Turn | None


@dataclass(frozen=True)
class PromptQueued:
    """The daemon is not ready: ``turn`` goes out once it is (``regenerate``: a retry of
    the last prompt, not a new one)."""

    turn: Turn
    regenerate: bool


@dataclass(frozen=True)
class PromptReleased:
    """The daemon became ready and the queued prompt went out."""

    turn: Turn


@dataclass(frozen=True)
class PromptWithdrawn:
    """The queued prompt was taken back before it went out (and left the conversation)."""

    turn: Turn


@dataclass(frozen=True)
class EditingChanged:
    """The next send now replaces the conversation from ``turn`` on (``None``: it adds)."""

    turn: Turn | None


@dataclass(frozen=True)
class ConnectionLost:
    """The daemon could not be reached while answering: wait for it again."""

    reason: str


SessionEvent: TypeAlias = (
    TurnsChanged
    | TurnChanged
    | AnswerStreamed
    | RetryCountdown
    | RetryStarted
    | RetriesExhausted
    | AnswerFinished
    | PromptQueued
    | PromptReleased
    | PromptWithdrawn
    | EditingChanged
    | ConnectionLost
)


def failure_of(exc: InferdError) -> tuple[TurnState, str | None, str]:
    """How a client error ends an answer: its state, error code and message."""
    if isinstance(exc, UnexpectedEof):
        return TurnState.INTERRUPTED, None, exc.hint
    if isinstance(exc, UnsupportedByDaemon):  # before InvalidRequest: it is one
        return TurnState.ERROR, UNSUPPORTED, exc.hint
    if isinstance(exc, InvalidRequest):
        return TurnState.ERROR, "invalid_request", exc.hint
    if isinstance(exc, AuthRejected):
        return TurnState.ERROR, "auth", exc.hint
    if isinstance(exc, IncompatibleDaemon):  # before ConnectError: it is one
        return TurnState.ERROR, "incompatible_daemon", exc.hint
    if isinstance(exc, DaemonError):
        return TurnState.ERROR, exc.code, exc.message
    return TurnState.ERROR, exc.title, exc.hint


class ChatSession:
    """One conversation at a time: sending, answering, retrying, editing and saving it."""

    def __init__(
        self,
        *,
        client: AnswerSource,
        daemon_state: Callable[[], DaemonState],
        store: Store,
        spawn: Spawn,
        on_event: Callable[[SessionEvent], None],
        system_prompt: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        load_attachment: LoadAttachment | None = None,
    ) -> None:
        #: Replaced when the daemon turns out to be another release (another wire).
        self.client = client
        self.store = store
        self.saver = ConversationSaver(store)
        self.conversation = Conversation(system_prompt=system_prompt)
        #: What the last send or regenerate went out with.
        self.options = RequestOptions()
        self._load_attachment = load_attachment
        self._daemon_state = daemon_state
        self._spawn = spawn
        self._emit = on_event
        self._clock = clock
        self._sleep = sleep
        self._live: Turn | None = None
        self._queued: Turn | None = None
        self._editing: Turn | None = None
        self._answer_scope: anyio.CancelScope | None = None
        #: What to do once the running answer has stopped (leaving the conversation).
        self._after_answer: Callable[[], None] | None = None

    # --- what is going on --------------------------------------------------------------

    @property
    def live(self) -> Turn | None:
        """The answer being written, if any."""
        return self._live

    @property
    def queued(self) -> Turn | None:
        """The prompt waiting for the daemon to become ready, if any."""
        return self._queued

    @property
    def editing(self) -> Turn | None:
        """The turn the next send replaces the conversation from, if any."""
        return self._editing

    @property
    def busy(self) -> bool:
        """An answer is coming (streaming, or queued until the daemon is ready)."""
        return self._live is not None or self._queued is not None

    @property
    def ready(self) -> bool:
        return self._daemon_state().accepts_requests

    @property
    def params(self) -> SamplingParams:
        """The sampling fields the last send or regenerate went out with."""
        return self.options.sampling

    @property
    def grammar(self) -> str:
        return self.options.grammar

    @property
    def profile(self) -> DaemonProfile:
        """What the daemon is, as far as the client knows (wire, releases, backends)."""
        return self.client.profile

    @property
    def saving_problem(self) -> str | None:
        """Why nothing is being saved, if so (the conversation is kept in memory)."""
        return self.saver.problem

    # --- sending -----------------------------------------------------------------------

    def send(
        self,
        text: str,
        options: RequestOptions,
        *,
        attachments: Sequence[AttachmentRef] = (),
    ) -> Turn:
        """Add ``text`` (with ``attachments``) as the user's turn, replacing the conversation
        from the edited turn if editing, and ask for the answer, now or once the daemon is
        ready.

        ``attachments``: refs to bytes already kept in the store's blobs (kept when they
        were attached); saving the turn records that the conversation uses them."""
        self._check_idle()
        self._drop_edited_turns()
        with contextlib.suppress(Exception):  # prompt history is a convenience
            self.store.add_prompt(text)
        turn = self.conversation.add_user(text)
        turn.attachments = list(attachments)
        self._send_turn(turn, options)
        return turn

    def answer_tool_call(self, tool_call_id: str, text: str, options: RequestOptions) -> Turn:
        """Answer the model's tool call ``tool_call_id`` with ``text`` (a person playing the
        tool). Once every call of that answer has its result, ask for the answer that
        continues from them, as :meth:`send` does."""
        self._check_idle()
        if not any(
            call.tool_call_id == tool_call_id
            for turn in self.conversation.turns
            if turn.role == "assistant" and turn.state is TurnState.COMPLETE
            for call in turn.tool_calls
        ):
            raise ValueError(f"no complete answer made the tool call {tool_call_id!r}")
        self._drop_edited_turns()
        turn = self.conversation.add_tool_result(tool_call_id, text)
        if self.conversation.open_tool_calls():
            # The answer made more calls: the model continues once each has its result.
            self.saver.save_turn(self.conversation, turn)
            self._emit(TurnsChanged())
            return turn
        self._send_turn(turn, options)
        return turn

    def _check_idle(self) -> None:
        if self.busy:
            raise SessionBusy("an answer is still coming")

    def _drop_edited_turns(self) -> None:
        if self._editing is not None:
            index = self.conversation.turns.index(self._editing)
            self.saver.truncate(self.conversation, self.conversation.truncate(index))
            self._set_editing(None)

    def _send_turn(self, turn: Turn, options: RequestOptions) -> None:
        self.options = options
        self.saver.save_turn(self.conversation, turn)
        # The settings this prompt goes out with, also for a conversation created just now
        # (its settings had nowhere to go before its first turn).
        self.saver.save_settings(self.conversation, options)
        self._answer_or_queue(turn, regenerate=False)

    def can_regenerate(self) -> bool:
        return self.conversation.last_user_index() is not None

    def regenerate(self, options: RequestOptions) -> None:
        """Ask again from the last prompt: the turns after it are dropped."""
        self._check_idle()
        index = self.conversation.last_user_index()
        if index is None:
            raise ValueError("nothing to regenerate: no prompt yet")
        self.options = options
        removed = self.conversation.truncate(index + 1)
        self.saver.truncate(self.conversation, removed)
        self._set_editing(None)
        self._answer_or_queue(self.conversation.turns[index], regenerate=True)

    def _answer_or_queue(self, prompt: Turn, *, regenerate: bool) -> None:
        """Ask for the answer to ``prompt`` now, or queue it until the daemon is ready."""
        if self.ready:
            self._start_answer()
            self._emit(TurnsChanged())
            return
        prompt.state = TurnState.QUEUED
        prompt.touch()
        self._queued = prompt
        self._emit(TurnsChanged())
        self._emit(PromptQueued(prompt, regenerate=regenerate))

    def daemon_changed(self) -> None:
        """Call whenever the daemon's state changes: a queued prompt goes out once ready."""
        turn = self._queued
        if turn is None or self._live is not None or not self.ready:
            return
        self._queued = None
        turn.state = TurnState.COMPLETE
        turn.touch()
        self._start_answer()
        self._emit(PromptReleased(turn))
        self._emit(TurnsChanged())

    def next_request_line(
        self,
        options: RequestOptions,
        prompt: str,
        *,
        attachments: Sequence[AttachmentRef] = (),
    ) -> str:
        """The exact request the next send of ``prompt`` would write on this daemon's wire
        (:func:`~inferd_tui.proto.preview.request_preview`; the API key never appears in
        it): an edit drops the turns from the edited one on."""
        turns = self.conversation.turns
        if self._editing is not None:
            turns = turns[: turns.index(self._editing)]
        draft = Conversation(system_prompt=self.conversation.system_prompt, turns=list(turns))
        draft.add_user(prompt).attachments = list(attachments)
        request = draft.to_chat_request(options, request_id="<id>")
        # The preview loads no attachment bytes: their sizes come from the refs.
        blob_sizes = _blob_sizes(draft)
        refusals = [
            problem.message
            for problem in request_problems(request, self.profile, blob_sizes=blob_sizes)
            if problem.severity == "error"
        ]
        if refusals:  # what would be refused before sending is said, not shown as sent
            return "\n".join(f"✗ not sent as it is: {message}" for message in refusals)
        return request_preview(request, self.profile.wire, blob_sizes=blob_sizes)

    # --- stopping and editing ----------------------------------------------------------

    def cancel(self) -> None:
        """Stop the answer being written (its partial text stays, marked cancelled), or
        withdraw the queued prompt. Without either, nothing happens."""
        if self._live is not None:
            if self._answer_scope is not None:
                self._answer_scope.cancel()
            return
        turn = self._queued
        if turn is None:
            return
        self._queued = None
        removed = self.conversation.truncate(self.conversation.turns.index(turn))
        self.saver.truncate(self.conversation, removed)
        self._emit(PromptWithdrawn(turn))

    def stop_answer(self, then: Callable[[], None]) -> None:
        """Stop the running answer and call ``then`` once it is marked and saved as
        cancelled (at once if nothing is running)."""
        if self._live is None:
            then()
            return
        self._after_answer = then
        self.cancel()

    def edit(self, turn: Turn) -> None:
        """The next send replaces the conversation from ``turn`` on."""
        if self._live is not None:
            raise SessionBusy("an answer is still coming")
        self._set_editing(turn)

    def stop_editing(self) -> None:
        self._set_editing(None)

    def _set_editing(self, turn: Turn | None) -> None:
        self._editing = turn
        self._emit(EditingChanged(turn))

    # --- conversations and settings ----------------------------------------------------

    def new_conversation(self) -> None:
        """Start over with an empty conversation (the system prompt stays)."""
        self._leave_conversation()
        self.conversation = Conversation(system_prompt=self.conversation.system_prompt)
        self._emit(TurnsChanged())

    def open(self, conversation_id: int) -> RequestOptions:
        """Open a stored conversation; return the options it was last sent with."""
        self._leave_conversation()
        conversation, options = self.saver.load(conversation_id)
        self.conversation = conversation
        self._emit(TurnsChanged())
        return options

    def _leave_conversation(self) -> None:
        if self._live is not None:
            raise SessionBusy("stop the answer first")
        self._queued = None
        self._set_editing(None)

    def was_deleted(self) -> bool:
        """Whether the open conversation has been deleted from the store meanwhile."""
        if self.conversation.store_id is None:
            return False
        try:
            self.store.get_conversation(self.conversation.store_id)
        except NotFound:
            return True
        except StoreError:  # a store that fails says so elsewhere; nothing was deleted
            return False
        return False

    def turn_at_stored_position(self, position: int) -> Turn | None:
        """The turn stored at ``position`` of this conversation (a search hit points there)."""
        shown = {turn.store_id: turn for turn in self.conversation.turns}
        for record in self.store.turns(self.conversation.store_id or 0):
            if record.position == position and record.id in shown:
                return shown[record.id]
        return None

    def add_marker(self, text: str) -> None:
        """A lifecycle note (daemon restarting…) between turns; none before the first."""
        if not self.conversation.turns:
            return
        turn = self.conversation.add_marker(text)
        self.saver.save_turn(self.conversation, turn)
        self._emit(TurnsChanged())

    def set_system_prompt(self, text: str) -> None:
        """Sent with every later request; saved with the settings (:meth:`save_settings`)."""
        self.conversation.system_prompt = text

    def save_settings(self, options: RequestOptions) -> None:
        """Keep the system prompt and the request options with the conversation."""
        self.saver.save_settings(self.conversation, options)

    def recent_prompts(self, limit: int) -> list[str]:
        """Earlier prompts, oldest first (none if the store cannot say)."""
        with contextlib.suppress(Exception):
            return list(reversed(self.store.prompt_history(limit)))
        return []

    # --- answering ---------------------------------------------------------------------

    def _start_answer(self) -> None:
        request = self.conversation.to_chat_request(
            self.options,
            request_id=self.client.new_request_id(),
            load_attachment=self._load_attachment,
        )
        answer = self.conversation.begin_answer(request, now=self._clock())
        self.saver.save_turn(self.conversation, answer)
        # The turn and its cancel scope exist from now on, so a cancel or a second send
        # before the task first runs is seen (a scope cancelled early cancels on entry).
        self._live = answer
        scope = self._answer_scope = anyio.CancelScope()

        async def job() -> None:
            await self._answer(answer, request, scope)

        self._spawn(job)

    async def _answer(self, answer: Turn, request: ChatRequest, scope: anyio.CancelScope) -> None:
        with scope:
            try:
                await self._stream_with_retries(answer, request)
                if answer.state is TurnState.COMPLETE:
                    await self._check_answer(answer)
            except anyio.get_cancelled_exc_class():
                self.conversation.fail(answer, TurnState.CANCELLED, now=self._clock())
                raise
            except InferdError as exc:
                state, code, message = failure_of(exc)
                self.conversation.fail(answer, state, now=self._clock(), code=code, message=message)
                if isinstance(exc, ConnectError) and not isinstance(exc, IncompatibleDaemon):
                    self._emit(ConnectionLost(exc.hint))
            except Exception as exc:  # a bug must not leave the turn "streaming" forever
                message = f"{type(exc).__name__}: {exc}"
                self.conversation.fail(
                    answer, TurnState.ERROR, now=self._clock(), code="internal", message=message
                )
            finally:
                self._finish(answer)
        then, self._after_answer = self._after_answer, None
        if then is not None:  # the user left this conversation mid-answer
            then()

    async def _stream_with_retries(self, answer: Turn, request: ChatRequest) -> None:
        """Stream the answer; ``queue_full`` is retried after a countdown."""
        retry = 1
        while True:
            await self._stream(answer, request)
            if not (answer.state is TurnState.ERROR and answer.error_code == "queue_full"):
                return
            if retry > QUEUE_FULL_RETRIES:
                self._emit(RetriesExhausted(answer, QUEUE_FULL_RETRIES))
                return
            await self._count_down(answer, retry)
            retry += 1
            self._restart(answer)

    async def _stream(self, answer: Turn, request: ChatRequest) -> None:
        """The one place the client's answer events become changes of the answer."""
        # chat() refuses what this daemon cannot take (UnsupportedByDaemon) before sending.
        async with contextlib.aclosing(self.client.chat(request)) as events:
            async for event in events:
                self.conversation.apply(answer, event, now=self._clock())
                self.saver.checkpoint(answer)  # at most once a second
                self._emit(AnswerStreamed(answer))

    async def _count_down(self, answer: Turn, retry: int) -> None:
        """Wait 1, 2, 4, 8, 8 s before retry 1…5, saying so every second."""
        delay = min(2 ** (retry - 1), 8)
        for seconds_left in range(delay, 0, -1):
            self._emit(RetryCountdown(answer, seconds_left, retry, QUEUE_FULL_RETRIES))
            await self._sleep(1)

    def _restart(self, answer: Turn) -> None:
        answer.state = TurnState.STREAMING
        answer.error_code = answer.error_message = None
        answer.content = ""
        answer.thinking, answer.thinking_deltas = "", 0
        answer.tool_calls = []
        answer.tool_choice_unsatisfied = False
        answer.started_at, answer.first_token_at, answer.finished_at = self._clock(), None, None
        answer.touch()
        self._emit(RetryStarted(answer))

    async def _check_answer(self, answer: Turn) -> None:
        """Check a complete answer against what constrained it: its GBNF grammar (v1), or
        its JSON schema (0.5+; not checked when it stopped early or only called tools)."""
        if answer.grammar:
            self._emit(TurnChanged(answer))  # shown before it is checked
            await self._check_grammar(answer)
        if answer.response_schema is not None and answer.stop_kind not in _UNCHECKED_STOPS:
            self._emit(TurnChanged(answer))
            await self._check_schema(answer)

    async def _check_schema(self, answer: Turn) -> None:
        """✓ or ✗ with the validator's path and message. Parsing and validating a long
        answer takes a while, so it runs in a worker thread."""
        if len(answer.content) > SCHEMA_CHECK_LIMIT or answer.response_schema is None:
            return
        schema, content = answer.response_schema, answer.content
        problem = await anyio.to_thread.run_sync(lambda: _schema_problem(schema, content))
        answer.schema_match = problem is None
        answer.schema_problem = problem
        answer.touch()

    async def _check_grammar(self, answer: Turn) -> None:
        """Whether a constrained answer matches its grammar (✓/✗). Matching is CPU work,
        tens of ms per KB, so it runs in a worker thread."""
        if len(answer.content) > GRAMMAR_MATCH_LIMIT:
            return
        grammar, content = answer.grammar, answer.content
        outcome = await anyio.to_thread.run_sync(lambda: _match_grammar(grammar, content))
        if outcome is None:
            return
        answer.grammar_match = outcome.ok
        answer.grammar_match_offset = None if outcome.ok else outcome.offset
        answer.touch()

    def _finish(self, answer: Turn) -> None:
        self._live = None
        self._answer_scope = None
        self.saver.finish(answer)
        resend = None
        if answer.failed and answer.state is not TurnState.CANCELLED:
            index = self.conversation.last_user_index()
            if index is not None:
                resend = self.conversation.turns[index]
        self._emit(AnswerFinished(answer, resend))


#: Answers not checked against their schema: cut off (◌), or a tool call instead of text.
_UNCHECKED_STOPS = frozenset({"max_tokens", "tool_use"})


def _schema_problem(schema: dict[str, Any], text: str) -> str | None:
    """Why ``text`` does not satisfy ``schema``; a schema the validator cannot use is a
    problem too (said, not raised: the answer stands)."""
    from inferd_tui.structured import answer_problem

    try:
        return answer_problem(schema, text)
    except Exception as exc:  # jsonschema raises its own types for a broken schema
        return f"the schema could not be used: {type(exc).__name__}: {exc}"


def _blob_sizes(conversation: Conversation) -> dict[str, int]:
    """Each attachment's byte count under the id it is sent with (the preview has none of
    the bytes themselves)."""
    sizes: dict[str, int] = {}
    counts = {"image": 0, "audio": 0}
    for turn in conversation.turns:
        if turn.role != "user" or turn.tool_result_for is not None:
            continue
        if turn.state not in {TurnState.COMPLETE, TurnState.QUEUED}:
            continue
        for ref in turn.attachments:
            counts[ref.kind] += 1
            sizes[attachment_id_for(ref.kind, counts[ref.kind])] = ref.size
    return sizes


def _match_grammar(grammar: str, text: str) -> MatchResult | None:
    """``text`` matched against ``grammar``; ``None`` if the grammar cannot be matched
    locally (invalid, or ``<token>`` forms)."""
    from inferd_tui.grammar import GrammarError, check, match

    result = check(grammar)
    if result.grammar is None or not result.ok:
        return None
    try:
        return match(result.grammar, text)
    except GrammarError:
        return None
