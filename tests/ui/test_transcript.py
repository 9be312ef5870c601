"""The virtualised transcript on its own: rendering, streaming, follow, selection, copy."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from ui_harness import until

from inferd_tui.conversation import Conversation, Turn, TurnState
from inferd_tui.proto import DoneFrame, Message, Request, SamplingParams, TokenFrame, Usage
from inferd_tui.ui.widgets.transcript import TranscriptView

pytestmark = pytest.mark.anyio


class TranscriptApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.copies: list[TranscriptView.CopyRequested] = []
        self.edits: list[TranscriptView.EditRequested] = []

    def compose(self) -> ComposeResult:
        yield TranscriptView(id="t")

    def on_transcript_view_copy_requested(self, message: TranscriptView.CopyRequested) -> None:
        self.copies.append(message)

    def on_transcript_view_edit_requested(self, message: TranscriptView.EditRequested) -> None:
        self.edits.append(message)


def screen_text(view: TranscriptView) -> str:
    return "\n".join(
        "".join(segment.text for segment in view.render_line(y)) for y in range(view.size.height)
    )


def begun(conversation: Conversation, prompt: str) -> Turn:
    """The user's ``prompt`` and the assistant turn that answers it, still streaming."""
    conversation.add_user(prompt)
    request = Request.build([Message(role="user", content=prompt)], id="r")
    return conversation.begin_answer(request, now=0.0)


def answered(conversation: Conversation, prompt: str, answer: str) -> None:
    turn = begun(conversation, prompt)
    conversation.apply(turn, TokenFrame(content=answer), now=0.25)
    conversation.apply(
        turn,
        DoneFrame(
            content=answer, usage=Usage(prompt_tokens=5, completion_tokens=9), backend="mock"
        ),
        now=1.0,
    )


async def test_turns_render_markdown_with_usage_footer() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        answered(conversation, "hello", "## Title\n\n- one\n- two\n\n```python\nprint(1)\n```")
        view.sync(conversation.turns)
        await pilot.pause()
        text = screen_text(view)
        assert "You" in text and "hello" in text
        assert "Title" in text and "• one" in text
        assert "python · block 1" in text and "print(1)" in text
        assert "5 prompt + 9 completion tokens" in text and "mock" in text
        assert "first token 0.25 s" in text


async def test_hostile_text_is_shown_literally_and_harmlessly() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        hostile = "[bold]x[/bold] \x1b[2J\x1b]52;c;aGk=\x07 \ud800 <b>html</b>"
        answered(conversation, hostile, hostile)
        view.sync(conversation.turns)
        await pilot.pause()
        rendered = [seg.text for y in range(view.size.height) for seg in view.render_line(y)]
        joined = "".join(rendered)
        assert "\x1b" not in joined and "\x07" not in joined
        assert "[bold]x[/bold]" in joined  # markup stays literal
        assert "␛[2J" in joined
        assert "<b>html</b>" in joined  # raw HTML is shown, not dropped


async def test_a_10_mb_token_is_clipped_on_screen_but_kept_whole() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        huge = "x" * 10_000_000
        answered(conversation, "big", huge)
        view.sync(conversation.turns)
        await pilot.pause()
        assert conversation.turns[-1].content == huge
        view.action_follow()
        await pilot.pause()
        assert "more characters not shown" in screen_text(view)


def redraws_of(view: TranscriptView) -> list[TurnState]:
    """The state of each turn the view redraws from now on (``turn_changed`` is wrapped on
    this instance only)."""
    redraws: list[TurnState] = []
    redraw = view.turn_changed

    def counted(turn: Turn) -> None:
        redraws.append(turn.state)
        redraw(turn)

    view.turn_changed = counted  # type: ignore[method-assign]
    return redraws


async def test_streaming_updates_only_the_tail_and_follows() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        conversation.add_user("count")
        turn = conversation.begin_answer(conversation.to_request(SamplingParams()), now=0)
        view.sync(conversation.turns)
        for number in range(60):
            paragraph = f"line {number} " + "word " * 40 + "\n\n"
            conversation.apply(turn, TokenFrame(content=paragraph), now=1)
            view.turn_changed(turn)
        await pilot.pause()
        assert view.following
        assert "line 59" in screen_text(view)
        entry = view._entries[-1]
        # Finished runs of paragraphs were committed and rendered once; only the open
        # tail re-renders.
        assert len(entry.splitter.committed) >= 9
        assert len(entry.block_strips) == len(entry.splitter.committed)


async def test_a_streaming_answer_is_redrawn_in_batches_and_its_end_at_once() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        redraws = redraws_of(view)
        conversation = Conversation()
        turn = begun(conversation, "count")
        view.sync(conversation.turns)
        for number in range(50):
            conversation.apply(turn, TokenFrame(content=f"word{number} "), now=0.1)
            view.turn_streamed(turn)
        assert redraws == []  # fifty tokens, no redraw yet: they wait for one flush
        await until(pilot, lambda: bool(redraws), "the batched redraw")
        await pilot.pause()
        assert redraws == [TurnState.STREAMING]
        assert "word49" in screen_text(view)

        conversation.apply(turn, TokenFrame(content="last "), now=0.2)
        view.turn_streamed(turn)
        conversation.apply(turn, DoneFrame(content="", usage=Usage()), now=1.0)
        view.turn_streamed(turn)
        assert redraws[-1] is TurnState.COMPLETE  # the end is drawn at once
        await until(pilot, lambda: not view._stream_flush_pending, "the pending flush")
        await pilot.pause()
        assert len(redraws) == 2  # the flush still pending found nothing left to draw
        assert "word49 last" in screen_text(view)


async def test_an_answer_that_ends_without_a_last_frame_is_not_redrawn_again() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation, "count")
        view.sync(conversation.turns)
        conversation.apply(turn, TokenFrame(content="partial "), now=0.1)
        view.turn_streamed(turn)  # a flush is now pending
        conversation.fail(turn, TurnState.CANCELLED, now=0.2)  # Esc: no frame follows
        view.turn_changed(turn)  # what the screen does when the answer is finished
        redraws = redraws_of(view)
        await until(pilot, lambda: not view._stream_flush_pending, "the pending flush")
        assert redraws == []  # the ended answer is not drawn a second time
        assert view._streamed is None  # nor kept


async def test_scrolling_up_stops_following_and_end_resumes() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        for number in range(10):
            answered(conversation, f"q{number}", f"answer {number}")
        view.sync(conversation.turns)
        await pilot.pause()
        assert view.following
        view.focus()
        await pilot.press("pageup")
        await pilot.pause()
        assert not view.following
        conversation.add_user("more")
        view.sync(conversation.turns)
        await pilot.pause()
        assert view.scroll_y < view.max_scroll_y  # did not jump while the user reads
        await pilot.press("end")
        await pilot.pause()
        assert view.following
        assert view.scroll_y == view.max_scroll_y


async def test_keyboard_selection_copy_and_edit() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        answered(conversation, "first", "text\n\n```sh\nls -la\n```\n\n```py\nx = 1\n```")
        view.sync(conversation.turns)
        view.focus()
        await pilot.press("up")
        assert view.selected_turn() is conversation.turns[1]
        await pilot.press("y", "2")
        await pilot.pause()
        assert [(m.turn.role, m.code_block) for m in app.copies] == [
            ("assistant", None),
            ("assistant", 2),
        ]
        await pilot.press("e")  # an answer cannot be edited
        await pilot.press("up", "e")
        await pilot.pause()
        assert [m.turn.content for m in app.edits] == ["first"]


async def test_failed_turn_states_are_labelled() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        for state, code, message in [
            (TurnState.CANCELLED, None, None),
            (TurnState.INTERRUPTED, None, "the daemon closed the connection"),
            (TurnState.ERROR, "backend_unavailable", "backend not ready"),
        ]:
            conversation.add_user("go")
            turn = conversation.begin_answer(conversation.to_request(SamplingParams()), now=0)
            conversation.apply(turn, TokenFrame(content="PARTIAL-TEXT"), now=0.1)
            conversation.fail(turn, state, now=1, code=code, message=message)
        view.sync(conversation.turns)
        await pilot.pause()
        text = screen_text(view)
        assert "■ cancelled" in text
        assert "⚠ interrupted — the daemon closed the connection" in text
        assert "✖ backend_unavailable: backend not ready" in text
        assert text.count("PARTIAL-TEXT") == 3


async def test_a_thousand_turns_render_only_what_is_visible() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        for number in range(1000):
            answered(conversation, f"question {number}", f"answer **{number}**")
        view.sync(conversation.turns)
        await pilot.pause()
        rendered = sum(1 for entry in view._entries if entry.lines_key is not None)
        assert rendered < 30
        assert "answer 999" in screen_text(view)


async def test_a_retry_note_stands_in_for_the_footer_until_it_is_cleared() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation, "busy?")
        conversation.fail(turn, TurnState.ERROR, now=0.1, code="queue_full", message="full")
        view.sync(conversation.turns)
        view.set_note(turn, "queue full — retrying in 2 s")
        await pilot.pause()
        text = screen_text(view)
        assert "retrying in 2 s" in text
        assert "✖" not in text  # not final yet: no error line under the countdown
        view.set_note(turn, None)
        await pilot.pause()
        assert "✖ queue_full: full — the daemon is busy: retry in a moment" in screen_text(view)


async def test_a_cancel_before_any_text_does_not_promise_a_partial_answer() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation, "stop")
        conversation.fail(turn, TurnState.CANCELLED, now=0.1)
        view.sync(conversation.turns)
        await pilot.pause()
        assert "■ cancelled before any text arrived" in screen_text(view)


async def test_new_text_below_is_flagged_only_for_new_text() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        for number in range(10):
            answered(conversation, f"q{number}", f"answer {number}")
        view.sync(conversation.turns)
        await pilot.pause()
        view.focus()
        await pilot.press("up", "up", "up")  # select earlier turns: nothing new arrived
        await pilot.pause()
        assert not view.following
        assert not view._new_text_below
        conversation.add_user("more")
        view.sync(conversation.turns)
        await pilot.pause()
        assert view._new_text_below


async def test_a_hostile_stop_reason_is_shown_harmlessly() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation, "x")
        done = DoneFrame(content="ok", stop_reason="\x1b]0;STOP\x07[bold]end[/]", backend="b")
        conversation.apply(turn, done, now=1.0)
        view.sync(conversation.turns)
        await pilot.pause()
        text = screen_text(view)
        assert "\x1b" not in text and "\x07" not in text
        assert "␛]0;STOP␇[bold]end[/] · " in text


async def test_an_answer_cut_off_inside_the_grammar_is_not_called_a_mismatch() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(160, 30)) as pilot:
        view = app.query_one(TranscriptView)
        conversation = Conversation()
        turn = begun(conversation, "date?")
        turn.grammar = 'root ::= [0-9]{4} "-" [0-9]{2} "-" [0-9]{2}'
        done = DoneFrame(content="1862-02", stop_reason="length", backend="demo")
        conversation.apply(turn, done, now=1.0)
        turn.grammar_match, turn.grammar_match_offset = False, len("1862-02")
        view.sync(conversation.turns)
        await pilot.pause()
        text = screen_text(view)
        assert "◌ fits the grammar so far, cut off by max tokens" in text
        assert "✗" not in text
