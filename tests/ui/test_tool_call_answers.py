"""The chat screen's keys for blocks: Ctrl+F answers the last answer's tool calls in a
dialog, in order; F10 folds and unfolds thinking from anywhere on the screen."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TextArea
from ui_harness import until

from inferd_tui.client import resolve_endpoints
from inferd_tui.conversation import Conversation, Turn, TurnState
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto.chat import Finished, TextDelta, ThinkingDelta, TokenUsage, ToolCall
from inferd_tui.request_options import RequestOptions
from inferd_tui.ui.app import AppConfig, InferdApp
from inferd_tui.ui.screens.chat import ChatScreen
from inferd_tui.ui.screens.tool_result import ToolResultScreen

pytestmark = pytest.mark.anyio


def short_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="t-", dir="/tmp"))


def app_for(directory: Path, **overrides: Any) -> InferdApp:
    resolution = resolve_endpoints(
        socket=directory / "inferd.sock", admin=directory / "admin.sock", env={}
    )
    return InferdApp(AppConfig(resolution=resolution, **overrides))


@asynccontextmanager
async def daemon(directory: Path) -> AsyncIterator[MockDaemon]:
    # Tool results need a v2 wire: an inferd 0.8 stand-in.
    config = MockConfig(
        socket_path=directory / "inferd.sock",
        admin_path=directory / "admin.sock",
        era="0.8",
        tokens=("It is ", "sunny."),
    )
    async with MockDaemon.start(config) as running:
        yield running


def chat(app: InferdApp) -> ChatScreen:
    screen = app.screen_stack[0] if not isinstance(app.screen, ChatScreen) else app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def answer_calling(conversation: Conversation, *call_ids: str, thinking: str = "") -> Turn:
    conversation.add_user("weather in Dublin and Cork?")
    request = conversation.to_chat_request(RequestOptions(), request_id="r1")
    answer = conversation.begin_answer(request, now=1.0)
    if thinking:
        conversation.apply(answer, ThinkingDelta(thinking), now=1.1)
    conversation.apply(answer, TextDelta("Let me check."), now=1.2)
    for number, call_id in enumerate(call_ids):
        city = ("Dublin", "Cork")[number % 2]
        conversation.apply(answer, ToolCall(call_id, "get_weather", {"city": city}), now=1.3)
    stop = "tool_use" if call_ids else "end_turn"
    conversation.apply(answer, Finished(stop, stop, TokenUsage(12, 3), "demo"), now=1.4)
    return answer


def show(app: InferdApp, conversation: Conversation) -> None:
    screen = chat(app)
    screen.conversation = conversation
    screen.transcript.sync(conversation.turns)
    screen.transcript.action_follow()


class RecordingFlow:
    """Stands in for the flow's ``ChatSession.answer_tool_call``: records each call and
    adds the result turn as the flow would, without sending anything."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.calls: list[tuple[str, str, RequestOptions]] = []

    def __call__(self, tool_call_id: str, text: str, options: RequestOptions) -> None:
        self.calls.append((tool_call_id, text, options))
        self.conversation.add_tool_result(tool_call_id, text)


async def type_result(pilot: Pilot[None], text: str) -> None:
    dialog = pilot.app.screen
    assert isinstance(dialog, ToolResultScreen)
    dialog.query_one(TextArea).insert(text)
    await pilot.press("ctrl+s")
    await pilot.pause()


def dialog_title(app: InferdApp) -> str:
    return str(app.screen.query_one("#tool-title", Static).render())


async def test_ctrl_f_answers_each_call_in_order_through_the_session() -> None:
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        conversation = Conversation()
        answer_calling(conversation, "tc-1", "tc-2")
        show(app, conversation)
        flow = RecordingFlow(conversation)
        chat(app).session.answer_tool_call = flow  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, ToolResultScreen)
        assert dialog_title(app) == "Result of tool call 1 of 2: get_weather (tc-1)"
        assert '"city": "Dublin"' in str(app.screen.query_one("#tool-input", Static).render())
        await type_result(pilot, '{"sky": "sunny",\n "celsius": 21}')
        assert [call[:2] for call in flow.calls] == [("tc-1", '{"sky": "sunny",\n "celsius": 21}')]
        assert isinstance(flow.calls[0][2], RequestOptions)
        # The second call is asked for at once, by name.
        assert isinstance(app.screen, ToolResultScreen)
        assert dialog_title(app) == "Result of tool call 2 of 2: get_weather (tc-2)"
        await type_result(pilot, "rain")
        assert [call[:2] for call in flow.calls][1] == ("tc-2", "rain")
        assert isinstance(app.screen, ChatScreen)
        assert conversation.open_tool_calls() == []


async def test_escape_cancels_and_an_empty_result_is_not_sent() -> None:
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        conversation = Conversation()
        answer_calling(conversation, "tc-1")
        show(app, conversation)
        flow = RecordingFlow(conversation)
        chat(app).session.answer_tool_call = flow  # type: ignore[attr-defined]
        await pilot.press("ctrl+f")
        assert dialog_title(app) == "Result of tool get_weather (tc-1)"
        await pilot.press("ctrl+s")  # nothing typed
        assert isinstance(app.screen, ToolResultScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)
        assert flow.calls == []
        assert [c.tool_call_id for c in conversation.open_tool_calls()] == ["tc-1"]


async def test_ctrl_f_without_an_open_call_says_so() -> None:
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        conversation = Conversation()
        answer_calling(conversation)
        show(app, conversation)
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, ChatScreen)
        assert any("no tool call waiting" in n.message for n in app._notifications)


async def test_invalid_sampling_fields_are_said_before_a_result_is_typed() -> None:
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        conversation = Conversation()
        answer_calling(conversation, "tc-1")
        show(app, conversation)
        screen = chat(app)
        flow = RecordingFlow(conversation)
        screen.session.answer_tool_call = flow  # type: ignore[attr-defined]
        screen.sidebar_options = lambda: None  # type: ignore[method-assign]
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, ChatScreen)  # no dialog to type into in vain
        assert any("Fix the highlighted" in n.message for n in app._notifications)
        assert flow.calls == []


async def test_a_result_that_cannot_go_yet_comes_back_in_the_dialog() -> None:
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        conversation = Conversation()
        answer_calling(conversation, "tc-1")
        show(app, conversation)
        screen = chat(app)
        flow = RecordingFlow(conversation)
        screen.session.answer_tool_call = flow  # type: ignore[attr-defined]
        await pilot.press("ctrl+f")
        screen.sidebar_options = lambda: None  # type: ignore[method-assign]
        await type_result(pilot, '{"sky": "grey"}')
        await until(pilot, lambda: isinstance(app.screen, ToolResultScreen), "the dialog again")
        text_area = app.screen.query_one(TextArea)
        assert text_area.text == '{"sky": "grey"}'
        assert text_area.cursor_location == text_area.document.end  # typing carries on
        assert any("result you typed is kept" in n.message for n in app._notifications)
        assert flow.calls == []


async def test_hostile_call_is_named_inertly_in_the_dialog() -> None:
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        conversation = Conversation()
        hostile = "[bold]x[/bold]\x1b[2J\u202e"
        answer_calling(conversation, hostile)
        conversation.turns[-1].tool_calls[0] = type(conversation.turns[-1].tool_calls[0])(
            hostile, hostile, {hostile: hostile}
        )
        show(app, conversation)
        await pilot.press("ctrl+f")
        title = dialog_title(app)
        assert "[bold]x[/bold]␛[2J\\u202e" in title and "\x1b" not in title
        shown = str(app.screen.query_one("#tool-input", Static).render())
        assert "\x1b" not in shown and "\u202e" not in shown


async def test_a_typed_result_is_sent_and_the_model_carries_on() -> None:
    directory = short_dir()
    async with daemon(directory) as running:
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            conversation = Conversation()
            answer_calling(conversation, "tc-1")
            show(app, conversation)
            await pilot.press("ctrl+f")
            await type_result(pilot, "sunny, 21C")
            await until(
                pilot,
                lambda: chat(app).session.live is None and running.completed_requests == 1,
                "the answer to the tool result",
            )
            turns = chat(app).conversation.turns
            assert [(t.role, t.tool_result_for) for t in turns[-2:]] == [
                ("user", "tc-1"),
                ("assistant", None),
            ]
            assert turns[-1].state is TurnState.COMPLETE and turns[-1].content == "It is sunny."
            await pilot.pause()
            view = chat(app).transcript
            shown = "".join(s.text for y in range(view.size.height) for s in view.render_line(y))
            assert "Tool result for get_weather (tc-1)" in shown


async def test_f10_folds_and_unfolds_thinking_while_typing() -> None:
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        conversation = Conversation()
        answer_calling(conversation, thinking="first I look at the sky\nthen I answer")
        show(app, conversation)
        screen = chat(app)
        screen.prompt.focus()
        await pilot.press("h", "i")
        view = screen.transcript

        def shown() -> str:
            return "\n".join(
                "".join(s.text for s in view.render_line(y)) for y in range(view.size.height)
            )

        await pilot.pause()
        assert "▸ Thinking" in shown() and "┊ then I answer" not in shown()
        await pilot.press("f10")
        assert "┊ then I answer" in shown()
        await pilot.press("f10")
        assert "┊ then I answer" not in shown()
        assert screen.prompt.text == "hi" and screen.focused is screen.prompt
