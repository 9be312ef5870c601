"""The chat flow on every wire: a 0.8 daemon (thinking, tool calls, JSON-schema answers),
a 0.3 daemon (v1, unchanged), and a conversation carried from one to the other.

The client chooses its wire from the daemon itself (``Client.connect``), as the app does.
Every wait is on an event the session reports, never a fixed sleep.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream

from inferd_tui.client import Client, resolve_endpoints
from inferd_tui.conversation import TurnState
from inferd_tui.daemon_state import DaemonState
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto import SamplingParams
from inferd_tui.proto.chat import ToolSpec
from inferd_tui.request_options import RequestOptions
from inferd_tui.session import (
    UNSUPPORTED,
    AnswerFinished,
    ChatSession,
    SessionBusy,
    SessionEvent,
    TurnChanged,
)
from inferd_tui.store import Store

pytestmark = pytest.mark.anyio

READY = DaemonState(inference_connected=True)
WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city.",
    input_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}

Event = TypeVar("Event")


@dataclass
class Harness:
    session: ChatSession
    store: Store
    tasks: TaskGroup
    inbox: MemoryObjectReceiveStream[SessionEvent]

    async def next(self, kind: type[Event]) -> Event:
        with anyio.fail_after(10):
            async for event in self.inbox:
                if isinstance(event, kind):
                    return event
        raise AssertionError(f"no {kind.__name__} was reported")

    async def answer(self, text: str, options: RequestOptions) -> AnswerFinished:
        self.session.send(text, options)
        return await self.next(AnswerFinished)


def daemon_config(directory: Path, **knobs: Any) -> MockConfig:
    era = knobs.setdefault("era", "0.8")
    knobs.setdefault("backend", "demo")
    knobs.setdefault("demo_tokens_per_s", 50_000.0)
    # The generation socket has the era's leaf: inferd.sock from 0.4 (protocol-v2.md §1).
    leaf = "inferd.sock" if era in ("0.4", "0.5", "0.6", "0.8") else "infer.sock"
    return MockConfig(socket_path=directory / leaf, admin_path=directory / "admin.sock", **knobs)


@asynccontextmanager
async def stand_in(**knobs: Any) -> AsyncIterator[tuple[MockDaemon, Client]]:
    """A stand-in daemon in its own short directory, and a client that chose its wire."""
    directory = Path(tempfile.mkdtemp(prefix="sw-", dir="/tmp"))
    async with MockDaemon.start(daemon_config(directory, **knobs)) as daemon:
        await daemon.wait_ready()
        assert daemon.socket_path is not None and daemon.admin_path is not None
        resolution = resolve_endpoints(socket=daemon.socket_path, admin=daemon.admin_path, env={})
        async with await Client.connect(resolution) as client:
            yield daemon, client


@asynccontextmanager
async def harness(client: Client) -> AsyncIterator[Harness]:
    sender, inbox = anyio.create_memory_object_stream[SessionEvent](math.inf)
    store = Store.memory()
    async with anyio.create_task_group() as tg:
        session = ChatSession(
            client=client,
            daemon_state=lambda: READY,
            store=store,
            spawn=lambda job: tg.start_soon(job),
            on_event=sender.send_nowait,
        )
        yield Harness(session, store, tg, inbox)
        tg.cancel_scope.cancel()
    store.close()


async def test_a_0_8_daemon_thinks_then_answers_and_both_are_kept() -> None:
    async with stand_in() as (_, client), harness(client) as h:
        assert client.wire == "v2"
        finished = await h.answer("Why is the sky blue?", RequestOptions(thinking=True))
        answer = finished.turn
        assert answer.state is TurnState.COMPLETE
        assert answer.thinking and answer.thinking_deltas > 1
        assert answer.content and answer.content not in answer.thinking
        assert answer.request_params["thinking"] is True
        # The next request replays the answer's text, never its thinking.
        preview = h.session.next_request_line(RequestOptions(), "and at sunset?")
        assert preview.startswith("LP frame: ")
        assert answer.thinking[:20] not in preview


async def test_a_tool_call_is_answered_by_hand_and_the_model_continues() -> None:
    options = RequestOptions(tools=(WEATHER,), tool_choice="auto")
    async with stand_in() as (daemon, client), harness(client) as h:
        call = (await h.answer("What is the weather in Dublin?", options)).turn
        assert call.stop_kind == "tool_use"
        [record] = call.tool_calls
        assert (record.tool_call_id, record.name) == ("tc-1", "get_weather")
        assert record.input == {"city": "Dublin"}
        with pytest.raises(ValueError, match="no complete answer"):
            h.session.answer_tool_call("tc-9", "sunny", options)

        h.session.answer_tool_call("tc-1", "sunny, 21C", options)
        with pytest.raises(SessionBusy):
            h.session.answer_tool_call("tc-1", "again", options)
        reply = (await h.next(AnswerFinished)).turn
        assert reply.state is TurnState.COMPLETE
        assert "sunny, 21C" in reply.content and not reply.tool_calls
        roles = [(t.role, t.tool_result_for) for t in h.session.conversation.turns]
        assert roles == [("user", None), ("assistant", None), ("user", "tc-1"), ("assistant", None)]
        assert daemon.completed_requests == 2


async def test_tool_choice_required_without_a_call_is_kept_on_the_answer() -> None:
    options = RequestOptions(tools=(WEATHER,), tool_choice="required")
    async with stand_in() as (_, client), harness(client) as h:
        await h.answer("What is the weather in Dublin?", options)
        h.session.answer_tool_call("tc-1", "rain", options)
        # After a tool result the demo answers in text: "required" was not satisfied.
        reply = (await h.next(AnswerFinished)).turn
        assert reply.tool_choice_unsatisfied is True


async def test_a_schema_answer_is_checked_valid() -> None:
    async with stand_in() as (_, client), harness(client) as h:
        h.session.send("A person, please.", RequestOptions(response_schema=PERSON))
        shown = await h.next(TurnChanged)  # shown before it is checked
        assert shown.turn.schema_match is None
        answer = (await h.next(AnswerFinished)).turn
        assert (answer.schema_match, answer.schema_problem) == (True, None)
        assert answer.response_schema == PERSON


async def test_an_answer_that_breaks_its_schema_says_where() -> None:
    tape = ({"type": "text", "delta": '{"name": "Ada", '}, {"type": "text", "delta": '"age": -3}'})
    async with stand_in(backend="mock", tape=tape) as (_, client), harness(client) as h:
        answer = (await h.answer("A person.", RequestOptions(response_schema=PERSON))).turn
        assert answer.schema_match is False
        assert answer.schema_problem is not None
        assert answer.schema_problem.startswith("$.age: ")


async def test_an_answer_cut_off_by_max_tokens_is_not_checked() -> None:
    options = RequestOptions(sampling=SamplingParams(max_tokens=2), response_schema=PERSON)
    async with stand_in() as (_, client), harness(client) as h:
        answer = (await h.answer("A person.", options)).turn
        assert answer.stop_kind == "max_tokens"
        assert (answer.schema_match, answer.schema_problem) == (None, None)


async def test_a_field_the_daemon_cannot_take_is_an_error_and_nothing_is_sent() -> None:
    async with stand_in(era="0.4") as (daemon, client), harness(client) as h:
        finished = await h.answer("Think first.", RequestOptions(thinking=True))
        answer = finished.turn
        assert (answer.state, answer.error_code) == (TurnState.ERROR, UNSUPPORTED)
        assert answer.error_message is not None and "not sent" in answer.error_message
        assert finished.resend is not None and finished.resend.content == "Think first."
        assert daemon.requests_seen == 0
        # The session goes on: the same prompt without the switch is answered.
        h.session.edit(finished.resend)
        again = (await h.answer("Think first.", RequestOptions())).turn
        assert again.state is TurnState.COMPLETE


async def test_a_grammar_is_refused_on_0_8_and_checked_on_0_3() -> None:
    grammar = 'root ::= "yes" | "no"'
    async with stand_in() as (_, client), harness(client) as h:
        answer = (await h.answer("yes or no?", RequestOptions(grammar=grammar))).turn
        assert answer.error_code == UNSUPPORTED
        assert answer.error_message is not None and "GBNF" in answer.error_message
    async with (
        stand_in(era="0.3", backend="mock", tokens=("maybe",)) as (_, client),
        harness(client) as h,
    ):
        assert client.wire == "v1"
        answer = (await h.answer("yes or no?", RequestOptions(grammar=grammar))).turn
        assert answer.content == "maybe"
        assert (answer.grammar_match, answer.grammar_match_offset) == (False, 0)
        assert h.session.next_request_line(RequestOptions(), "x").startswith('{"id":"<id>"')


async def test_a_conversation_continues_when_the_daemon_becomes_another_release() -> None:
    async with stand_in(era="0.3") as (_, old), harness(old) as h:
        first = (await h.answer("Tell me about lighthouses.", RequestOptions())).turn
        assert first.state is TurnState.COMPLETE and old.wire == "v1"
        async with stand_in(era="0.8") as (daemon, new):
            h.session.client = new  # what the app does when the daemon is replaced
            assert h.session.profile.wire == "v2"
            second = (await h.answer("And why?", RequestOptions(thinking=True))).turn
            assert second.state is TurnState.COMPLETE and second.thinking
            assert daemon.completed_requests == 1
        contents = [t.content for t in h.session.conversation.turns]
        assert contents[0] == "Tell me about lighthouses."
        assert len(contents) == 4


async def test_a_saved_v2_conversation_reopens_with_its_blocks_and_continues() -> None:
    options = RequestOptions(thinking=True, tools=(WEATHER,), tool_choice="auto")
    async with stand_in() as (daemon, client), harness(client) as h:
        await h.answer("What is the weather in Dublin?", options)
        h.session.answer_tool_call("tc-1", "sunny, 21C", options)
        await h.next(AnswerFinished)
        conversation_id = h.session.conversation.store_id
        assert conversation_id is not None
        before = [
            (t.role, t.content, t.thinking, t.tool_calls, t.tool_result_for)
            for t in h.session.conversation.turns
        ]
        h.session.new_conversation()
        assert h.session.open(conversation_id) == options
        after = [
            (t.role, t.content, t.thinking, t.tool_calls, t.tool_result_for)
            for t in h.session.conversation.turns
        ]
        assert after == before
        assert after[1][2] and after[1][3] and after[2][4] == "tc-1"
        # The reopened dialogue replays the call and its result: the daemon accepts it.
        reply = (await h.answer("Thanks!", RequestOptions())).turn
        assert reply.state is TurnState.COMPLETE
        assert daemon.completed_requests == 3
