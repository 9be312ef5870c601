"""Thinking, tool calls and tool results in the transcript, with their footers."""

from __future__ import annotations

import time

import pytest
from textual.app import App, ComposeResult

from inferd_tui.conversation import Conversation, Turn
from inferd_tui.proto.chat import Finished, TextDelta, ThinkingDelta, TokenUsage, ToolCall
from inferd_tui.request_options import RequestOptions
from inferd_tui.ui.widgets.transcript import TOOL_INPUT_LINES, TranscriptView, tool_input_text

pytestmark = pytest.mark.anyio


class TranscriptApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TranscriptView(id="t")


def screen_text(view: TranscriptView) -> str:
    return "\n".join(
        "".join(segment.text for segment in view.render_line(y)) for y in range(view.size.height)
    )


def begun(conversation: Conversation, prompt: str = "weather in Dublin?") -> Turn:
    conversation.add_user(prompt)
    request = conversation.to_chat_request(RequestOptions(), request_id="r")
    return conversation.begin_answer(request, now=0.0)


def finish(conversation: Conversation, turn: Turn, stop: str = "end_turn", **extra: bool) -> None:
    conversation.apply(turn, Finished(stop, stop, TokenUsage(12, 30), "demo", **extra), now=2.0)


THOUGHTS = [f"Step {n}: the user wants the weather, so I weigh it.\n" for n in range(12)]


async def test_thinking_streams_open_then_folds_to_one_line_when_the_answer_is_done() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation)
        view.sync(conversation.turns)
        for piece in THOUGHTS[:6]:
            conversation.apply(turn, ThinkingDelta(piece), now=0.5)
            view.turn_changed(turn)
        await pilot.pause()
        text = screen_text(view)
        assert "▾ Thinking… (6 deltas)" in text
        assert "┊ Step 0: the user wants the weather" in text
        assert "┊ Step 5:" in text
        for piece in THOUGHTS[6:]:
            conversation.apply(turn, ThinkingDelta(piece), now=0.6)
        conversation.apply(turn, TextDelta("It is sunny in Dublin."), now=0.7)
        view.turn_changed(turn)
        await pilot.pause()
        text = screen_text(view)
        assert "▾ Thinking (12 deltas" in text and "┊ Step 11:" in text  # done thinking
        finish(conversation, turn)
        view.turn_changed(turn)
        await pilot.pause()
        text = screen_text(view)
        folded = [line for line in text.splitlines() if "Thinking" in line]
        assert len(folded) == 1
        assert "▸ Thinking (12 deltas, 614 characters · F10 unfolds) Step 0: the user" in folded[0]
        assert folded[0].rstrip().endswith("…")
        assert "┊" not in text and "It is sunny in Dublin." in text


async def test_streaming_thinking_renders_each_whole_line_once() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation)
        view.sync(conversation.turns)
        for piece in THOUGHTS[:3]:
            conversation.apply(turn, ThinkingDelta(piece), now=0.5)
            view.turn_changed(turn)
        await pilot.pause()
        entry = view._entries[-1]
        first_strips = list(entry.thinking_strips)
        for piece in THOUGHTS[3:]:
            for word in piece.split(" "):  # word by word, as a model sends it
                conversation.apply(turn, ThinkingDelta(word + " "), now=0.6)
                view.turn_changed(turn)
        await pilot.pause()
        # The first lines were not rendered again: the same strip objects are kept.
        assert all(a is b for a, b in zip(first_strips, entry.thinking_strips, strict=False))
        assert len(entry.thinking_strips) >= len(THOUGHTS) - 1


async def test_the_thinking_key_unfolds_and_folds_the_selected_or_last_answer() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        for number in (1, 2):
            turn = begun(conversation, f"question {number}")
            conversation.apply(turn, ThinkingDelta(f"thought {number}\nmore {number}"), now=0.1)
            conversation.apply(turn, TextDelta(f"answer {number}"), now=0.2)
            finish(conversation, turn)
        view.sync(conversation.turns)
        view.focus()
        await pilot.pause()
        assert "┊" not in screen_text(view)
        await pilot.press("z")  # nothing selected: the last answer
        text = screen_text(view)
        assert "┊ more 2" in text and "┊ more 1" not in text
        assert "▾ Thinking (1 delta, 16 characters · F10 folds)" in text
        await pilot.press("z")
        assert "┊" not in screen_text(view)
        await pilot.press("up", "up", "up")  # select the first answer
        assert view.selected_turn() is conversation.turns[1]
        await pilot.press("z")
        text = screen_text(view)
        assert "┊ more 1" in text and "┊ more 2" not in text


async def test_nothing_to_unfold_is_said() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation)
        conversation.apply(turn, TextDelta("no thoughts"), now=0.2)
        finish(conversation, turn)
        view.sync(conversation.turns)
        view.focus()
        await pilot.press("z")
        assert any("no thinking" in n.message.lower() or "any thinking" in n.message
                   for n in app._notifications)  # fmt: skip


async def test_tool_calls_are_blocks_and_the_footer_says_how_to_answer_them() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 50)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation, "weather in Dublin and Cork?")
        conversation.apply(turn, TextDelta("Let me check both."), now=0.1)
        conversation.apply(turn, ToolCall("tc-1", "get_weather", {"city": "Dublin"}), now=0.2)
        conversation.apply(turn, ToolCall("tc-2", "get_weather", {"city": "Cork"}), now=0.3)
        finish(conversation, turn, stop="tool_use")
        view.sync(conversation.turns)
        await pilot.pause()
        text = screen_text(view)
        assert "╭─ tool call get_weather · tc-1 · waiting for a result" in text
        assert '"city": "Dublin"' in text and '"city": "Cork"' in text
        assert "tool_use · 12 prompt + 30 completion tokens" in text
        assert (
            "⚙ stopped to call 2 tools — press Ctrl+F to answer get_weather (call 1 of 2)" in text
        )
        conversation.add_tool_result("tc-1", "sunny, 21C")
        view.sync(conversation.turns)
        view.action_follow()
        await pilot.pause()
        text = screen_text(view)
        assert "tc-1 · answered" in text and "tc-2 · waiting for a result" in text
        assert "(call 2 of 2)" in text
        assert "Tool result for get_weather (tc-1)" in text and "sunny, 21C" in text
        conversation.add_tool_result("tc-2", "rain, 14C")
        view.sync(conversation.turns)
        await pilot.pause()
        text = screen_text(view)
        assert "⚙ stopped to call a tool — answered below" in text
        assert "Tool result for get_weather (tc-2)" in text


async def test_a_single_call_and_a_call_left_behind() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation)
        conversation.apply(turn, ToolCall("tc-1", "get_weather", {}), now=0.2)
        finish(conversation, turn, stop="tool_use")
        view.sync(conversation.turns)
        await pilot.pause()
        assert "⚙ stopped to call a tool — press Ctrl+F to answer it" in screen_text(view)
        begun(conversation, "never mind, tell me a joke")  # the user moved on
        view.sync(conversation.turns)
        view.scroll_home(animate=False)
        await pilot.pause()
        text = screen_text(view)
        assert "press Ctrl+F" not in text and "waiting for a result" not in text
        assert "⚙ stopped to call a tool" in text


async def test_footers_for_tool_choice_and_the_schema_check() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(160, 60)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        cases: list[Turn] = []
        for _ in range(4):
            turn = begun(conversation)
            conversation.apply(turn, TextDelta('{"a": 1}'), now=0.1)
            turn.response_schema = {"type": "object"}
            cases.append(turn)
        finish(conversation, cases[0], tool_choice_unsatisfied=True)
        cases[0].schema_match = True
        finish(conversation, cases[1])
        cases[1].schema_match, cases[1].schema_problem = False, "$.a: 1 is not of type 'string'"
        finish(conversation, cases[2], stop="max_tokens")
        finish(conversation, cases[3], stop="length")  # v1's word for it
        view.sync(conversation.turns)
        view.scroll_home(animate=False)
        await pilot.pause()
        text = screen_text(view)
        assert "⚠ tool_choice was required but no tool was called" in text
        assert "✓ matches the schema" in text
        assert "✗ $.a: 1 is not of type 'string'" in text
        assert text.count("◌ stopped early (max tokens); not checked") == 2


HOSTILE = "[bold]x[/bold] \x1b[2J\x1b]52;c;aGk=\x07 \u202edlrow\u202c \ud800"


def assert_inert(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "[bold]x[/bold]" in text  # literal, not markup
    assert "␛[2J" in text and "\\u202e" in text


async def test_hostile_text_in_every_block_is_inert() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(160, 60)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation)
        conversation.apply(turn, ThinkingDelta(HOSTILE + "\n" + HOSTILE), now=0.1)
        view.sync(conversation.turns)
        await pilot.pause()
        assert_inert(screen_text(view))  # streaming, unfolded
        conversation.apply(turn, ToolCall(HOSTILE, HOSTILE, {HOSTILE: [HOSTILE]}), now=0.2)
        finish(conversation, turn, stop="tool_use")
        view.turn_changed(turn)
        await pilot.pause()
        text = screen_text(view)
        assert_inert(text)  # folded thinking, the tool name, id, input and footer
        assert "╭─ tool call [bold]x[/bold]" in text
        conversation.add_tool_result(HOSTILE, HOSTILE)
        view.sync(conversation.turns)
        view.action_follow()
        await pilot.pause()
        text = screen_text(view)
        assert_inert(text)
        assert "Tool result for [bold]x[/bold]" in text
        view.action_toggle_thinking()
        view.scroll_home(animate=False)
        await pilot.pause()
        assert_inert(screen_text(view))


async def test_a_1_mb_tool_input_is_capped_on_screen() -> None:
    many_lines = {f"key{n}": n for n in range(60_000)}  # about 1 MB pretty-printed
    shown, more = tool_input_text(many_lines)
    assert shown.count("\n") == TOOL_INPUT_LINES - 1
    assert more is not None and "59,802 more lines" in more
    one_line = {"blob": "x" * 1_000_000}
    shown, more = tool_input_text(one_line)
    assert len(shown) == 20_000 and more is not None and "more characters" in more

    app = TranscriptApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation)
        conversation.apply(turn, ToolCall("tc-1", "dump", many_lines), now=0.2)
        conversation.apply(turn, ToolCall("tc-2", "dump", one_line), now=0.2)
        finish(conversation, turn, stop="tool_use")
        started = time.perf_counter()
        view.sync(conversation.turns)
        await pilot.pause()
        assert time.perf_counter() - started < 5  # capped, not 60,000 lines of Syntax
        entry = view._entries[-1]
        assert len(entry.lines) < 2 * TOOL_INPUT_LINES + 20_000 // 90 + 40
        text = "\n".join(s.text for s in entry.lines)
        assert "… 59,802 more lines of the input not shown" in text
        assert "more characters of the input not shown" in text
