"""Snapshot tests: what the user sees, frame for frame (fixed size, fixed clocks, no daemon).

Each test's docstring says what the SVG shows. Regenerate with `make snapshots-update`
only for a deliberate UI change, and look at the new SVGs before committing them.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from inferd_tui.client import RetryNotice
from inferd_tui.conversation import Conversation
from inferd_tui.proto import ConnectError, SamplingParams

from .scenes import (
    ANSWER,
    SOCKET,
    add_exchange,
    add_thinking_exchange,
    add_tool_exchange,
    boot_to_ready,
    boot_until_download,
    conversation_screen,
    make_app,
    panels_ready,
    settle,
    show,
)

SIZE = (140, 42)


def test_first_boot_download(snap_compare: Any) -> None:
    """First boot: status bar and admin panel show the download at ~37% with rate and ETA;
    the admin log lists starting, checking_local and the download frames; the prompt is
    ready for typing."""

    async def run_before(pilot: Pilot[None]) -> None:
        boot_until_download(pilot.app)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_ready_and_empty(snap_compare: Any) -> None:
    """Ready: green "ready · gemma-4-e4b · cuda · 43 GPU layers", an empty conversation,
    the sampling sidebar with daemon defaults as placeholders, the admin log ending in
    capabilities and ready."""

    async def run_before(pilot: Pilot[None]) -> None:
        boot_to_ready(pilot.app)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_mid_stream(snap_compare: Any) -> None:
    """Mid-stream: the assistant turn says "streaming…" and shows half an answer (heading,
    list, the start of a code block); no usage line yet."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_exchange(conversation, "How do Unix sockets work?", ANSWER[:420], finish="streaming")
        await show(app, conversation)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_finished_answer_with_usage(snap_compare: Any) -> None:
    """A finished answer rendered as Markdown (heading, list, highlighted Python block with
    its "block 1" header, a table) and under it: end · 31 prompt + 212 completion tokens ·
    llamacpp · first token 0.35 s · 49.6 tok/s."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_exchange(conversation, "How do Unix sockets work?", ANSWER)
        await show(app, conversation)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_error_turn(snap_compare: Any) -> None:
    """An answer that failed mid-stream keeps its partial text and ends with a red
    "✖ backend_unavailable: backend ended stream without terminal frame" line."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_exchange(
            conversation,
            "Summarise the daemon's log",
            "The log shows three restarts and",
            finish="error",
            code="backend_unavailable",
            message="backend ended stream without terminal frame",
        )
        await show(app, conversation)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_cancelled_turn(snap_compare: Any) -> None:
    """A cancelled answer keeps its partial text, marked "⏹ cancelled — the partial answer
    is kept" in yellow."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_exchange(
            conversation, "Write a long story", "Once upon a time, in a", finish="cancelled"
        )
        await show(app, conversation)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_daemon_down(snap_compare: Any) -> None:
    """No daemon: "○ disconnected · /run/user/1000/inferd/infer.sock · retrying in 1.6 s"
    and the admin panel's retry notice; a queued prompt with its banner."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        from inferd_tui.client import AdminNotice

        app.fold_admin_notice(  # type: ignore[attr-defined]
            AdminNotice(
                "retrying",
                "admin unavailable, retrying in 1.6 s: No admin socket at "
                "/run/user/1000/inferd/admin.sock — is inferd running?",
                1.6,
            )
        )
        error = ConnectError(
            f"No daemon at {SOCKET} — is inferd running? Try `inferd-tui --demo`.",
            address=str(SOCKET),
            transient=True,
        )
        notice = RetryNotice(attempt=5, delay_s=1.6, error=error, deadline_in_s=float("inf"))
        app.daemon_state = app.daemon_state.with_inference_retry(  # type: ignore[attr-defined]
            str(SOCKET),
            notice.delay_s,
            error.hint,
            app.config.clock(),  # type: ignore[attr-defined]
        )
        screen = conversation_screen(app)  # type: ignore[arg-type]
        screen.prompt.set_prompt("Is anyone there?")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


GRAMMAR = """root   ::= answer " (" confidence ")"
answer ::= "yes" | "no" | "maybe"
confidence ::= [0-9] "%" | [1-9] [0-9] "%" | "100%"
"""


def test_grammar_in_the_sidebar(snap_compare: Any) -> None:
    """A valid grammar in the sidebar editor, highlighted, with "no problems" under it and
    the request preview carrying the grammar field."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        screen = conversation_screen(app)  # type: ignore[arg-type]
        await panels_ready(pilot)
        screen.sidebar.load(SamplingParams(temperature=0.2, max_tokens=64), GRAMMAR)
        screen.sidebar.grammar_editor.flush_check()
        screen._update_preview()
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_grammar_error_marked_in_the_editor(snap_compare: Any) -> None:
    """An invalid grammar: the undefined rule `confidnce` is underlined in the editor and
    listed under it as "1:24 error undefined rule `confidnce`" with the hint "did you mean
    `confidence`?", plus the warning that `confidence` is now unreachable."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        screen = conversation_screen(app)  # type: ignore[arg-type]
        await panels_ready(pilot)
        broken = GRAMMAR.replace('answer " (" confidence', 'answer " (" confidnce')
        screen.sidebar.load(SamplingParams(), broken)
        screen.sidebar.grammar_editor.flush_check()
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_small_terminal_80x24(snap_compare: Any) -> None:
    """At 80×24 the sidebar and admin panel are collapsed (F2/F3 bring them back): the
    status line, the finished answer and the prompt fit without being cut off."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_exchange(conversation, "How do Unix sockets work?", ANSWER)
        await show(app, conversation)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_thinking_folded(snap_compare: Any) -> None:
    """A finished answer that thought first: its thinking is one dimmed line above the
    answer — "▸ Thinking (4 deltas, 298 characters · F10 unfolds)" and the start of the
    thinking, cut with "…" — then the answer text and its usage line."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_thinking_exchange(conversation, "Unix socket or TCP on one machine?")
        await show(app, conversation)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_thinking_unfolded(snap_compare: Any) -> None:
    """The same answer after F10: "▾ Thinking (4 deltas, 298 characters · F10 folds)"
    over the four lines of thinking, dimmed and italic behind a ┊ rule, then the answer."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_thinking_exchange(conversation, "Unix socket or TCP on one machine?")
        await show(app, conversation)  # type: ignore[arg-type]
        await pilot.press("f10")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_tool_call_with_its_reply(snap_compare: Any) -> None:
    """With the events panel hidden (F3), the prompt and an answer that calls a tool: its
    folded thinking, "Let me check tomorrow's
    forecast.", a "╭─ tool call get_weather · tc-7f3a · answered" block with the input as
    highlighted JSON, the footer "tool_use · …" and "⚙ stopped to call a tool — answered
    below"; then "Tool result for get_weather (tc-7f3a)" with the typed JSON, and the
    answer that carries on from it."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        conversation = Conversation()
        add_tool_exchange(conversation)
        await show(app, conversation)  # type: ignore[arg-type]
        await pilot.press("f3")  # the events panel folded away: the whole exchange fits
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
