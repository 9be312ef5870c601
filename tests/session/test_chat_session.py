"""The chat flow of :class:`ChatSession` against the stand-in daemon, without Textual.

Answers stream in this test's task group (the session's ``spawn``); every wait is on an
event the session reports, never a fixed sleep.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import anyio
import pytest
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from inferd_tui.client import Client, Endpoint
from inferd_tui.conversation import TurnState
from inferd_tui.daemon_state import DaemonState
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto import SamplingParams
from inferd_tui.request_options import RequestOptions
from inferd_tui.session import (
    QUEUE_FULL_RETRIES,
    AnswerFinished,
    AnswerStreamed,
    ChatSession,
    ConnectionLost,
    EditingChanged,
    PromptQueued,
    PromptReleased,
    PromptWithdrawn,
    RetriesExhausted,
    RetryCountdown,
    RetryStarted,
    SessionBusy,
    SessionEvent,
    TurnsChanged,
)
from inferd_tui.store import Store

pytestmark = pytest.mark.anyio

TAPE = ("alpha ", "beta ", "gamma")
READY = DaemonState(inference_connected=True)
NOT_READY = DaemonState()
LONG = tuple(f"t{i} " for i in range(500))

Event = TypeVar("Event")


@dataclass
class Harness:
    """A session wired to a daemon, with what it reported so far."""

    session: ChatSession
    store: Store
    #: Where the session starts its answers (the session's ``spawn``).
    tasks: TaskGroup
    events: list[SessionEvent]
    inbox: MemoryObjectReceiveStream[SessionEvent]
    state: list[DaemonState]
    waits: list[float] = field(default_factory=list)

    async def next(self, kind: type[Event]) -> Event:
        """The next reported event of ``kind`` (the ones before it are skipped)."""
        with anyio.fail_after(10):
            async for event in self.inbox:
                if isinstance(event, kind):
                    return event
        raise AssertionError(f"no {kind.__name__} was reported")

    def became(self, state: DaemonState) -> None:
        self.state[0] = state
        self.session.daemon_changed()

    def send(self, text: str, grammar: str = "") -> None:
        self.session.send(text, RequestOptions(grammar=grammar))


@asynccontextmanager
async def harness(
    endpoint: Path | None = None, *, ready: bool = True, **knobs: object
) -> AsyncIterator[tuple[Harness, MockDaemon | None]]:
    """A session on a fresh stand-in daemon built from ``knobs`` (or, with ``endpoint``,
    a client aimed at that socket and no daemon at all)."""
    sender: MemoryObjectSendStream[SessionEvent]
    sender, inbox = anyio.create_memory_object_stream[SessionEvent](math.inf)
    events: list[SessionEvent] = []
    state = [READY if ready else NOT_READY]
    store = Store.memory()
    waits: list[float] = []

    def record(event: SessionEvent) -> None:
        events.append(event)
        sender.send_nowait(event)

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)
        await anyio.lowlevel.checkpoint()

    async with (
        _daemon(endpoint, knobs) as (socket_path, daemon),
        Client(Endpoint.unix(socket_path)) as client,
        anyio.create_task_group() as tg,
    ):
        session = ChatSession(
            client=client,
            daemon_state=lambda: state[0],
            store=store,
            spawn=lambda job: h.tasks.start_soon(job),
            on_event=record,
            sleep=no_wait,
        )
        h = Harness(session, store, tg, events, inbox, state, waits)
        yield h, daemon
        tg.cancel_scope.cancel()
    store.close()


@asynccontextmanager
async def _daemon(
    endpoint: Path | None, knobs: dict[str, object]
) -> AsyncIterator[tuple[Path, MockDaemon | None]]:
    if endpoint is not None:
        yield endpoint, None
        return
    config = MockConfig(**{"tokens": TAPE, **knobs})  # type: ignore[arg-type]
    async with MockDaemon.start(config) as daemon:
        await daemon.wait_ready()
        assert daemon.socket_path is not None
        yield daemon.socket_path, daemon


def stored(h: Harness) -> list[tuple[str, str, str]]:
    conversation_id = h.session.conversation.store_id
    assert conversation_id is not None
    return [(t.role, t.content, t.state) for t in h.store.turns(conversation_id)]


async def test_a_prompt_streams_an_answer_that_is_saved() -> None:
    async with harness() as (h, _):
        h.send("hello")
        assert h.session.live is not None  # started at once: a second send would clash
        with pytest.raises(SessionBusy):
            h.send("again")
        finished = await h.next(AnswerFinished)
        answer = finished.turn
        assert (answer.content, answer.state, answer.completion_tokens) == (
            "alpha beta gamma",
            TurnState.COMPLETE,
            3,
        )
        assert finished.resend is None
        assert h.session.live is None
        assert any(isinstance(e, AnswerStreamed) for e in h.events)
        assert isinstance(h.events[0], TurnsChanged)
        assert stored(h) == [
            ("user", "hello", "complete"),
            ("assistant", "alpha beta gamma", "complete"),
        ]
        assert h.store.prompt_history(10) == ["hello"]


async def test_a_prompt_waits_until_the_daemon_is_ready(tmp_path: Path) -> None:
    async with harness(ready=False) as (h, daemon):
        assert daemon is not None
        h.send("early")
        queued = await h.next(PromptQueued)
        assert (queued.turn.state, queued.regenerate) == (TurnState.QUEUED, False)
        assert daemon.requests_seen == 0
        h.session.daemon_changed()  # still not ready: nothing happens
        assert h.session.queued is queued.turn
        h.became(READY)
        released = await h.next(PromptReleased)
        assert released.turn.state is TurnState.COMPLETE
        finished = await h.next(AnswerFinished)
        assert finished.turn.content == "alpha beta gamma"


async def test_cancel_withdraws_a_queued_prompt() -> None:
    async with harness(ready=False) as (h, _):
        h.send("not yet")
        h.session.cancel()
        withdrawn = await h.next(PromptWithdrawn)
        assert withdrawn.turn.content == "not yet"
        assert h.session.conversation.turns == []
        assert not h.session.busy


async def test_cancel_stops_the_answer_keeps_its_text_and_saves_it_cancelled() -> None:
    async with harness(tokens=LONG, token_delay_s=0.01) as (h, daemon):
        assert daemon is not None
        h.send("long")
        while "t3" not in (await h.next(AnswerStreamed)).turn.content:
            pass
        h.session.cancel()
        finished = await h.next(AnswerFinished)
        assert finished.turn.state is TurnState.CANCELLED
        assert finished.turn.content.startswith("t0 t1 t2 t3")
        assert finished.resend is None  # a cancel does not offer the prompt again
        assert stored(h)[-1][2] == "cancelled"
        with anyio.fail_after(10):
            while daemon.cancelled_requests != 1:  # the daemon learns by the closed stream
                await anyio.lowlevel.checkpoint()


async def test_a_cancel_before_the_answer_task_runs_is_not_lost() -> None:
    async with harness() as (h, daemon):
        assert daemon is not None
        h.send("never mind")
        h.session.cancel()  # the task has not started yet
        finished = await h.next(AnswerFinished)
        assert finished.turn.state is TurnState.CANCELLED
        assert daemon.completed_requests == 0


async def test_stop_answer_runs_then_once_the_answer_is_saved_cancelled() -> None:
    async with harness(tokens=LONG, token_delay_s=0.01) as (h, _):
        h.send("long")
        await h.next(AnswerStreamed)
        seen: list[list[tuple[str, str, str]]] = []
        h.session.stop_answer(lambda: seen.append(stored(h)))
        await h.next(AnswerFinished)
        assert [rows[-1][2] for rows in seen] == ["cancelled"]
        h.session.new_conversation()
        assert h.session.conversation.turns == []


async def test_cancelling_the_callers_task_group_cancels_the_answer() -> None:
    async with harness(tokens=LONG, token_delay_s=0.01) as (h, _):
        async with anyio.create_task_group() as answers:  # cancelled below, body and all
            h.tasks = answers
            h.send("long")
            await h.next(AnswerStreamed)
            answers.cancel_scope.cancel()
        finished = await h.next(AnswerFinished)
        assert finished.turn.state is TurnState.CANCELLED
        assert stored(h)[-1][2] == "cancelled"


async def test_queue_full_is_retried_with_a_countdown_then_given_up() -> None:
    async with harness(error_before_stream=("queue_full", "queue full")) as (h, daemon):
        assert daemon is not None
        h.send("busy?")
        exhausted = await h.next(RetriesExhausted)
        finished = await h.next(AnswerFinished)
        assert exhausted.retries == QUEUE_FULL_RETRIES
        assert (finished.turn.error_code, finished.turn.error_message) == (
            "queue_full",
            "queue full",
        )
        assert daemon.requests_seen == 1 + QUEUE_FULL_RETRIES
        countdown = [(e.seconds_left, e.retry) for e in h.events if isinstance(e, RetryCountdown)]
        assert countdown[:4] == [(1, 1), (2, 2), (1, 2), (4, 3)]
        assert len(countdown) == len(h.waits) == 1 + 2 + 4 + 8 + 8
        assert sum(isinstance(e, RetryStarted) for e in h.events) == QUEUE_FULL_RETRIES
        assert finished.resend is h.session.conversation.turns[0]  # offered for a resend


async def test_invalid_request_is_never_retried() -> None:
    async with harness(error_before_stream=("invalid_request", "bad")) as (h, daemon):
        assert daemon is not None
        h.send("x")
        finished = await h.next(AnswerFinished)
        assert finished.turn.error_code == "invalid_request"
        assert daemon.requests_seen == 1
        assert not any(isinstance(e, RetryCountdown) for e in h.events)


async def test_the_daemon_dying_mid_answer_keeps_the_text_and_offers_the_prompt() -> None:
    async with harness(drop_after=2) as (h, _):
        h.send("question")
        finished = await h.next(AnswerFinished)
        assert (finished.turn.state, finished.turn.error_code) == (
            TurnState.ERROR,
            "backend_unavailable",
        )
        assert finished.turn.content == "alpha beta "
        assert finished.resend is not None and finished.resend.content == "question"


async def test_no_daemon_at_all_reports_a_lost_connection(tmp_path: Path) -> None:
    async with harness(tmp_path / "nobody.sock") as (h, _):
        h.send("anyone?")
        lost = await h.next(ConnectionLost)
        finished = await h.next(AnswerFinished)
        assert lost.reason
        assert finished.turn.state is TurnState.ERROR
        assert stored(h)[-1][2] == "error"


async def test_regenerate_and_edit_and_resend() -> None:
    async with harness() as (h, daemon):
        assert daemon is not None
        h.send("one")
        await h.next(AnswerFinished)
        h.send("two")
        await h.next(AnswerFinished)
        h.session.regenerate(RequestOptions())
        await h.next(AnswerFinished)
        contents = [t.content for t in h.session.conversation.turns]
        assert contents == ["one", "alpha beta gamma", "two", "alpha beta gamma"]
        assert daemon.completed_requests == 3
        first = h.session.conversation.turns[0]
        h.session.edit(first)
        assert (await h.next(EditingChanged)).turn is first
        assert '"content":"uno"' in h.session.next_request_line(RequestOptions(), "uno")
        assert '"two"' not in h.session.next_request_line(RequestOptions(), "uno")
        h.send("uno")
        assert (await h.next(EditingChanged)).turn is None
        await h.next(AnswerFinished)
        assert [t.content for t in h.session.conversation.turns] == ["uno", "alpha beta gamma"]
        assert [row[1] for row in stored(h)] == ["uno", "alpha beta gamma"]


async def test_regenerate_waits_for_the_daemon_like_a_prompt() -> None:
    async with harness() as (h, _):
        h.send("one")
        await h.next(AnswerFinished)
        h.became(NOT_READY)
        h.session.regenerate(RequestOptions())
        queued = await h.next(PromptQueued)
        assert queued.regenerate and queued.turn.content == "one"
        assert [t.role for t in h.session.conversation.turns] == ["user"]
        h.became(READY)
        await h.next(AnswerFinished)
        assert [t.role for t in h.session.conversation.turns] == ["user", "assistant"]


async def test_a_constrained_answer_is_checked_against_its_grammar() -> None:
    async with harness(tokens=("maybe",)) as (h, _):
        h.send("yes or no?", grammar='root ::= "yes" | "no"')
        finished = await h.next(AnswerFinished)
        assert (finished.turn.grammar_match, finished.turn.grammar_match_offset) == (False, 0)


async def test_markers_come_only_between_turns_and_are_saved() -> None:
    async with harness() as (h, _):
        h.session.add_marker("restarting")
        assert h.session.conversation.turns == []
        h.send("hi")
        await h.next(AnswerFinished)
        h.session.add_marker("restarting · 12:00:00")
        assert stored(h)[-1][:2] == ("marker", "restarting · 12:00:00")


async def test_a_saved_conversation_reopens_with_its_settings() -> None:
    async with harness() as (h, _):
        options = RequestOptions(sampling=SamplingParams(temperature=0.3), grammar='root ::= "x"')
        h.session.send("keep", options)
        await h.next(AnswerFinished)
        conversation_id = h.session.conversation.store_id
        assert conversation_id is not None
        h.session.new_conversation()
        assert not h.session.was_deleted()
        assert h.session.open(conversation_id) == options
        assert h.session.conversation.turns[0].content == "keep"
        assert h.session.turn_at_stored_position(0) is h.session.conversation.turns[0]
        h.store.delete_conversation(conversation_id)
        assert h.session.was_deleted()
