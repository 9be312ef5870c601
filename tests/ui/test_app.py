"""The whole app against the stand-in daemon, driven with Pilot.

Each test waits on the app's own state (answers finished, daemon ready) with
`pilot.pause()` between checks — never a fixed sleep.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import anyio
import pytest
from textual import events
from textual.pilot import Pilot
from ui_harness import until

from inferd_tui.client import resolve_endpoints
from inferd_tui.conversation import TurnState
from inferd_tui.mock_daemon import MockConfig, MockDaemon
from inferd_tui.proto import SamplingParams
from inferd_tui.store import Store
from inferd_tui.ui.app import AppConfig, InferdApp
from inferd_tui.ui.screens.chat import INVALID_FIELDS_PREVIEW, ChatScreen

pytestmark = pytest.mark.anyio

TAPE = ("alpha ", "beta ", "gamma")


def short_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="t-", dir="/tmp"))


def app_for(directory: Path, **overrides: object) -> InferdApp:
    resolution = resolve_endpoints(
        socket=directory / "infer.sock", admin=directory / "admin.sock", env={}
    )
    config = AppConfig(resolution=resolution, **overrides)  # type: ignore[arg-type]
    return InferdApp(config)


@asynccontextmanager
async def daemon(directory: Path, **knobs: object) -> AsyncIterator[MockDaemon]:
    settings: dict[str, object] = {"tokens": TAPE, **knobs}
    # The generation socket has the era's leaf: inferd.sock from 0.4 (protocol-v2.md §1).
    leaf = "inferd.sock" if settings.get("era") in ("0.4", "0.5", "0.6", "0.8") else "infer.sock"
    config = MockConfig(
        socket_path=directory / leaf,
        admin_path=directory / "admin.sock",
        **settings,  # type: ignore[arg-type]
    )
    async with MockDaemon.start(config) as running:
        yield running


def chat(app: InferdApp) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


async def send(pilot: Pilot[None], text: str) -> None:
    chat(pilot.app).prompt.focus()  # type: ignore[arg-type]
    await pilot.press(*text)
    await pilot.press("enter")


def last(app: InferdApp) -> object:
    return chat(app).conversation.turns[-1]


async def answered(pilot: Pilot[None], app: InferdApp) -> None:
    await until(
        pilot,
        lambda: (
            bool(chat(app).conversation.turns)
            and chat(app).conversation.turns[-1].role == "assistant"
            and chat(app).conversation.turns[-1].state is not TurnState.STREAMING
            and chat(app)._live is None
        ),
        "a finished answer",
    )


async def test_prompt_streams_an_answer_with_usage() -> None:
    directory = short_dir()
    async with daemon(directory):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "hello")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert (turn.content, turn.state) == ("alpha beta gamma", TurnState.COMPLETE)
            assert (turn.completion_tokens, turn.backend) == (3, "mock")
            assert chat(app).prompt.text == ""


async def test_prompt_typed_before_ready_is_queued_and_goes_out_on_ready() -> None:
    directory = short_dir()
    app = app_for(directory)
    async with app.run_test(size=(140, 42)) as pilot:
        await send(pilot, "early")
        user = chat(app).conversation.turns[0]
        assert user.state is TurnState.QUEUED
        async with daemon(directory, bind_delay_s=0.05):
            await answered(pilot, app)
            assert user.state is TurnState.COMPLETE
            assert chat(app).conversation.turns[-1].content == "alpha beta gamma"


async def test_keys_typed_before_the_prompt_has_focus_land_in_it() -> None:
    app = app_for(short_dir())
    async with app.run_test(size=(140, 42)) as pilot:
        screen = chat(app)
        screen.set_focus(None)
        for character in "hi!":  # as the driver delivers type-ahead: to the screen itself
            screen.post_message(events.Key(character, character))
        await pilot.pause()
        assert screen.prompt.text == "hi!"
        assert app.focused is screen.prompt


async def test_escape_withdraws_a_queued_prompt_back_into_the_box() -> None:
    app = app_for(short_dir())
    async with app.run_test(size=(140, 42)) as pilot:
        await send(pilot, "not yet")
        assert chat(app).conversation.turns[0].state is TurnState.QUEUED
        await pilot.press("escape")
        assert chat(app).conversation.turns == []
        assert chat(app).prompt.text == "not yet"


async def test_escape_cancels_and_keeps_the_partial_answer() -> None:
    directory = short_dir()
    async with daemon(
        directory, tokens=tuple(f"t{i} " for i in range(500)), token_delay_s=0.01
    ) as d:
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "long")
            await until(
                pilot,
                lambda: "t3" in chat(app).conversation.turns[-1].content,
                "some tokens",
            )
            await pilot.press("escape")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert turn.state is TurnState.CANCELLED
            assert turn.content.startswith("t0 t1 t2 t3")
            await until(pilot, lambda: d.cancelled_requests == 1, "the daemon saw the cancel")
            assert chat(app).prompt.text == ""  # a cancel does not put the prompt back


async def test_daemon_dying_mid_answer_keeps_text_and_restores_the_prompt() -> None:
    directory = short_dir()
    async with daemon(directory, drop_after=2):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "question")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert turn.state is TurnState.ERROR
            assert turn.error_code == "backend_unavailable"
            assert turn.content == "alpha beta "
            # The prompt comes back so it can be fixed and resent; Enter replaces that turn.
            assert chat(app).prompt.text == "question"
            assert "Editing turn #1" in str(chat(app).query_one("#banner").render())


async def test_queue_full_is_retried_with_a_countdown_then_reported() -> None:
    directory = short_dir()
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)
        await anyio.lowlevel.checkpoint()

    async with daemon(directory, error_before_stream=("queue_full", "queue full")) as d:
        app = app_for(directory, sleep=no_wait)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "busy?")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert (turn.state, turn.error_code) == (TurnState.ERROR, "queue_full")
            assert d.requests_seen == 6  # the first try and five retries
            assert turn.error_message == "queue full"  # the daemon's words, as stored
            assert len(waits) == 1 + 2 + 4 + 8 + 8


async def test_invalid_request_is_never_retried() -> None:
    directory = short_dir()
    async with daemon(directory, error_before_stream=("invalid_request", "bad")) as d:
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "x")
            await answered(pilot, app)
            assert chat(app).conversation.turns[-1].error_code == "invalid_request"
            assert d.requests_seen == 1


async def test_regenerate_and_edit_an_earlier_turn() -> None:
    directory = short_dir()
    async with daemon(directory) as d:
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "one")
            await answered(pilot, app)
            await send(pilot, "two")
            await answered(pilot, app)
            await pilot.press("f5")
            await until(pilot, lambda: d.completed_requests == 3, "the regenerated answer")
            await answered(pilot, app)
            assert [t.content for t in chat(app).conversation.turns] == [
                "one",
                "alpha beta gamma",
                "two",
                "alpha beta gamma",
            ]
            await pilot.press("ctrl+t", "up", "up", "up", "e")  # select "one", edit it
            assert chat(app).prompt.text == "one"
            chat(app).prompt.set_prompt("uno")
            chat(app).prompt.focus()
            await pilot.press("enter")
            await until(pilot, lambda: d.completed_requests == 4, "the answer to the edit")
            await answered(pilot, app)
            assert [t.content for t in chat(app).conversation.turns] == ["uno", "alpha beta gamma"]


def preview_messages(app: InferdApp) -> list[tuple[str, str]]:
    line = json.loads(chat(app).sidebar.preview)
    return [(m["role"], m["content"]) for m in line["messages"]]


async def test_preview_follows_the_conversation_and_an_edit() -> None:
    directory = short_dir()
    async with daemon(directory):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "one")
            await answered(pilot, app)
            # The next send carries the finished answer, so the preview must show it.
            assert preview_messages(app) == [
                ("user", "one"),
                ("assistant", "alpha beta gamma"),
                ("user", "…your prompt…"),
            ]
            await pilot.press("ctrl+t", "up", "e")  # edit "one": the answer would be replaced
            await until(
                pilot, lambda: preview_messages(app) == [("user", "one")], "preview of the edit"
            )


async def test_a_code_fence_label_with_markup_is_copied_and_named_literally() -> None:
    directory = short_dir()
    async with daemon(directory, tokens=("```[/]\ncode\n```\n",)):
        app = app_for(directory)
        async with app.run_test(size=(140, 42), notifications=True) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "fence")
            await answered(pilot, app)
            await pilot.press("ctrl+t", "1")  # "[/]" as markup would crash the toast
            await pilot.pause()
            assert app.clipboard == "code"
            messages = [notification.message for notification in app._notifications]
            assert any(m.startswith("Copied [/] code block 1") for m in messages), messages


async def test_a_copy_leaves_out_control_characters_and_says_so() -> None:
    directory = short_dir()
    async with daemon(directory, tokens=("ok\x1b[201~rm -rf ~\n\tend",)):
        app = app_for(directory)
        async with app.run_test(size=(140, 42), notifications=True) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "paste me")
            await answered(pilot, app)
            await pilot.press("f9")
            await pilot.pause()
            assert app.clipboard == "ok[201~rm -rf ~\n\tend"  # no ESC: paste stays a paste
            messages = [notification.message for notification in app._notifications]
            assert any("1 control character left out" in m for m in messages), messages


async def test_copy_the_answer_and_a_code_block() -> None:
    directory = short_dir()
    async with daemon(directory, tokens=("Run:\n\n```sh\nls -la\n```\n",)):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "how?")
            await answered(pilot, app)
            await pilot.press("f9")
            await pilot.pause()
            assert app.clipboard == "Run:\n\n```sh\nls -la\n```\n"
            await pilot.press("ctrl+t", "1")
            await pilot.pause()
            assert app.clipboard == "ls -la"
            notices = [n.message for n in app._notifications]
            assert any("Copied sh code block 1 of turn #2" in n for n in notices)


async def test_restart_leaves_a_marker_and_the_next_answer_works() -> None:
    directory = short_dir()
    async with daemon(directory) as d:
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "before")
            await answered(pilot, app)
            await d.restart()
            await until(
                pilot,
                lambda: (
                    any(t.role == "marker" for t in chat(app).conversation.turns)
                    and app.inference_ready
                ),
                "a restart marker and ready again",
            )
            await send(pilot, "after")
            await until(pilot, lambda: d.completed_requests == 2, "an answer after the restart")
            markers = [t.content for t in chat(app).conversation.turns if t.role == "marker"]
            assert any("restarting" in m for m in markers)


async def test_without_admin_the_app_falls_back_to_the_inference_socket() -> None:
    directory = short_dir()
    async with daemon(directory):
        resolution = resolve_endpoints(socket=directory / "infer.sock", env={})
        resolution = replace(resolution, admin=None)
        app = InferdApp(AppConfig(resolution=resolution))
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready via Pattern A")
            assert app.daemon_state.kind == "admin_unavailable"
            await send(pilot, "hi")
            await answered(pilot, app)
            assert chat(app).conversation.turns[-1].state is TurnState.COMPLETE


async def test_a_0_8_daemon_answers_with_thinking_and_the_status_names_the_wire() -> None:
    directory = short_dir()
    async with daemon(directory, era="0.8", backend="demo", demo_tokens_per_s=50_000.0) as d:
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready on the v2 wire")
            assert app.client.wire == "v2"
            assert app.client.address == str(directory / "inferd.sock")
            await until(
                pilot,
                lambda: chat(app).status_bar.summary_text.endswith("or later · v2"),
                "the status names the releases and the wire",
            )
            assert chat(app).session.client is app.client
            assert chat(app).sidebar.preview.startswith("LP frame: ")
            await send(pilot, "hi")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert turn.state is TurnState.COMPLETE and turn.content
            assert (d.completed_requests, turn.backend) == (1, "demo")


async def test_a_stated_daemon_release_narrows_what_the_app_takes_it_for() -> None:
    """daemon_release reaches the app as it reaches the headless commands: the status
    names that release, not the range the admin socket allows."""
    directory = short_dir()
    async with daemon(directory, era="0.8"):
        app = app_for(directory, daemon_release="0.8")
        async with app.run_test(size=(140, 42)) as pilot:
            await until(
                pilot,
                lambda: chat(app).status_bar.summary_text.endswith("inferd 0.8 · v2"),
                "the status names the stated release",
            )
            assert app.client.profile.eras.exact
            # Leave once the sidebar has mounted its 0.8 fields: a Select still mounting
            # while the app shuts down fails inside Textual (no SelectOverlay).
            sidebar = chat(app).sidebar
            await until(
                pilot,
                lambda: sidebar.features is not None and sidebar.features.is_mounted,
                "the 0.8 fields mounted",
            )


async def test_demo_plays_0_8_names_what_to_try_and_answers_on_the_v2_wire() -> None:
    from inferd_tui.cli import build_parser
    from inferd_tui.runtime import runtime_from_args

    with runtime_from_args(build_parser().parse_args(["--demo"]), env={}) as runtime:
        assert runtime.demo is not None
        demo = replace(runtime.demo, boot="instant", demo_tokens_per_s=50_000.0)
        app = InferdApp(AppConfig(resolution=runtime.resolution, demo=demo))
        async with app.run_test(size=(140, 42)) as pilot:
            hints = "\n".join(chat(app).transcript.empty_state)
            assert "playing inferd 0.8" in hints and "Thinking" in hints
            await until(pilot, lambda: app.inference_ready, "the demo is ready")
            await until(
                pilot,
                lambda: chat(app).status_bar.summary_text.endswith("· v2"),
                "the status names the wire",
            )
            await send(pilot, "Why is the sky blue?")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert (turn.state, turn.backend) == (TurnState.COMPLETE, "demo")
            assert turn.content


async def test_a_daemon_replaced_by_another_release_is_spoken_to_on_its_wire() -> None:
    directory = short_dir()
    app = app_for(directory)
    async with app.run_test(size=(140, 42)) as pilot:
        async with daemon(directory):
            await until(pilot, lambda: app.inference_ready, "ready on v1")
            assert app.client.wire == "v1"
            await send(pilot, "hello")
            await answered(pilot, app)
        await until(pilot, lambda: not app.inference_ready, "the old daemon is gone")
        async with daemon(directory, era="0.8", backend="demo", demo_tokens_per_s=50_000.0):
            await until(pilot, lambda: app.client.wire == "v2", "the wire re-chosen")
            await until(pilot, lambda: app.inference_ready, "ready on v2")
            assert chat(app).session.client is app.client
            await send(pilot, "and now?")
            await until(pilot, lambda: len(chat(app).conversation.turns) >= 4, "sent")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert (turn.state, turn.backend) == (TurnState.COMPLETE, "demo")


async def test_a_field_the_daemon_cannot_take_is_said_and_the_prompt_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inferd_tui.request_options import RequestOptions
    from inferd_tui.session import UNSUPPORTED

    directory = short_dir()
    async with daemon(directory) as d:  # a 0.3 daemon: protocol v1, no thinking switch
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            monkeypatch.setattr(chat(app), "sidebar_options", lambda: RequestOptions(thinking=True))
            await send(pilot, "think first")
            await answered(pilot, app)
            turn = chat(app).conversation.turns[-1]
            assert (turn.state, turn.error_code) == (TurnState.ERROR, UNSUPPORTED)
            assert d.requests_seen == 0
            assert chat(app).prompt.text == "think first"  # back in the box, to fix and resend
            assert any("Not sent:" in str(n.message) for n in app._notifications)


async def test_wire_v1_forced_on_a_0_4_daemon_is_an_error_not_a_crash() -> None:
    directory = short_dir()
    async with daemon(directory, era="0.4") as d:
        app = app_for(directory, wire="v1")
        async with app.run_test(size=(140, 42)) as pilot:
            await until(
                pilot,
                lambda: (
                    app.daemon_state.inference_error is not None
                    and "removed protocol v1" in app.daemon_state.inference_error
                ),
                "the refusal shown",
            )
            # The toast is a message the app handles after the state change: wait for it.
            await until(
                pilot,
                lambda: any("removed protocol v1" in str(n.message) for n in app._notifications),
                "the refusal notified",
            )
            assert chat(app).status_bar.summary_text.startswith("✖ --wire v1 was asked for")
            await send(pilot, "hi")
            await pilot.pause()
            assert d.requests_seen == 0
            assert chat(app).conversation.turns[0].state is TurnState.QUEUED


async def test_hostile_error_text_never_reaches_the_terminal_raw() -> None:
    directory = short_dir()
    hostile = "\x1b]52;c;cHduZWQ=\x07[bold]boom[/bold]\x1b[2J"
    async with daemon(directory, error_before_stream=("backend_unavailable", hostile)):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "x")
            await answered(pilot, app)
            view = chat(app).transcript
            rendered = "".join(
                segment.text for y in range(view.size.height) for segment in view.render_line(y)
            )
            assert "\x1b" not in rendered and "\x07" not in rendered
            assert "[bold]boom[/bold]" in rendered


async def test_invalid_sampling_field_blocks_sending_and_keeps_the_prompt() -> None:
    directory = short_dir()
    async with daemon(directory) as d:
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            sidebar = chat(app).sidebar
            await until(pilot, lambda: sidebar.ready, "the sidebar's fields")
            field = sidebar.query_one("#sampling-top-k")
            field.value = "-3"  # type: ignore[attr-defined]
            await pilot.pause()
            assert chat(app).sidebar.preview == INVALID_FIELDS_PREVIEW  # no guessed line
            await send(pilot, "keep me")
            assert d.requests_seen == 0
            assert chat(app).prompt.text == "keep me"
            field.value = "7"  # type: ignore[attr-defined]
            await until(pilot, lambda: '"top_k":7' in chat(app).sidebar.preview, "a real line")


async def test_answers_are_saved_as_they_happen(tmp_path: Path) -> None:
    directory = short_dir()
    store = Store.open(tmp_path / "db.sqlite3")
    async with daemon(directory):
        app = app_for(directory, store=store)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "persist me")
            await answered(pilot, app)
    conversations = store.list_conversations()
    assert [c.title for c in conversations] == ["persist me"]
    turns = store.turns(conversations[0].id)
    assert [(t.role, t.content, t.state) for t in turns] == [
        ("user", "persist me", "complete"),
        ("assistant", "alpha beta gamma", "complete"),
    ]
    assert turns[1].completion_tokens == 3
    store.close()


async def test_a_new_conversation_keeps_the_settings_its_first_prompt_went_out_with(
    tmp_path: Path,
) -> None:
    directory = short_dir()
    store = Store.open(tmp_path / "db.sqlite3")
    async with daemon(directory):
        app = app_for(directory, store=store)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await pilot.press("ctrl+n")
            sidebar = chat(app).sidebar
            sidebar.query_one("#sampling-temperature").value = "0.3"  # type: ignore[attr-defined]
            sidebar.set_grammar('root ::= "alpha beta gamma"')
            await pilot.pause()
            await send(pilot, "first")
            await answered(pilot, app)
    (record,) = store.list_conversations()
    assert record.params == {"temperature": 0.3}
    assert record.grammar == 'root ::= "alpha beta gamma"'
    store.close()


async def test_deleting_the_open_conversation_starts_a_new_one_that_is_saved(
    tmp_path: Path,
) -> None:
    directory = short_dir()
    store = Store.open(tmp_path / "db.sqlite3")
    async with daemon(directory):
        app = app_for(directory, store=store)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "doomed")
            await answered(pilot, app)
            await pilot.press("ctrl+l")
            await pilot.pause()
            store.delete_conversation(store.list_conversations()[0].id)  # as the list's d, y
            await pilot.press("escape")
            await pilot.pause()
            assert chat(app).conversation.turns == []
            await send(pilot, "kept")
            await answered(pilot, app)
    assert [c.title for c in store.list_conversations()] == ["kept"]
    store.close()


@asynccontextmanager
async def mid_answer(store: Store) -> AsyncIterator[tuple[InferdApp, Pilot[None]]]:
    """The app, saving to ``store``, with a long answer streaming.

    The answer lasts 30 s, far longer than any test using it: Pilot's key presses wait for
    the app to be idle, which a stream keeps from happening, so a few keys can take seconds.
    """
    directory = short_dir()
    async with daemon(directory, tokens=tuple(f"t{i} " for i in range(600)), token_delay_s=0.05):
        app = app_for(directory, store=store)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "long")
            await until(pilot, lambda: "t2" in chat(app).conversation.turns[-1].content, "text")
            yield app, pilot


async def test_leaving_a_conversation_mid_answer_asks_first(tmp_path: Path) -> None:
    from inferd_tui.ui.screens.dialogs import ConfirmDialog

    store = Store.open(tmp_path / "db.sqlite3")
    async with mid_answer(store) as (app, pilot):
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")  # no: the answer goes on
        await pilot.pause()
        assert chat(app)._live is not None
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: chat(app).conversation.turns == [], "a new conversation")
        assert chat(app)._live is None
    (record,) = store.list_conversations()
    assert [t.state for t in store.turns(record.id)] == ["complete", "cancelled"]
    store.close()


async def test_deleting_the_open_conversation_mid_answer_asks_nothing(tmp_path: Path) -> None:
    from inferd_tui.ui.screens.conversations import ConversationsScreen

    store = Store.open(tmp_path / "db.sqlite3")
    async with mid_answer(store) as (app, pilot):
        await pilot.press("ctrl+l")
        await pilot.pause()
        store.delete_conversation(store.list_conversations()[0].id)
        await pilot.press("escape")
        await until(pilot, lambda: chat(app).conversation.turns == [], "a new conversation")
        assert not isinstance(app.screen, ConversationsScreen)
        assert isinstance(app.screen, ChatScreen)  # no question about a deleted answer
        assert chat(app)._live is None
    store.close()


async def test_small_terminal_collapses_the_panels_and_f2_f3_bring_them_back() -> None:
    app = app_for(short_dir())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat(app)
        assert screen.has_class("-hide-sidebar") and screen.has_class("-hide-admin")
        await pilot.press("f2")
        assert not screen.has_class("-hide-sidebar")
        await pilot.press("f3")
        assert not screen.has_class("-hide-admin")


def test_key_names_in_messages_follow_the_keymap() -> None:
    from inferd_tui.ui.bindings import key_display

    class FakeApp:
        _keymap: ClassVar[dict[str, str]] = {"regenerate": "ctrl+r,f6"}

    assert key_display(FakeApp(), "regenerate") == "Ctrl+R"  # type: ignore[arg-type]
    assert key_display(FakeApp(), "system-prompt") == "F4"  # type: ignore[arg-type]


async def test_keymap_moves_send_and_newline() -> None:
    directory = short_dir()
    async with daemon(directory) as d:
        app = app_for(directory, keymap={"send": "ctrl+s", "newline": "ctrl+o"})
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            chat(app).prompt.focus()
            await pilot.press("a", "enter", "b", "ctrl+o", "c")  # Enter is a plain newline now
            assert chat(app).prompt.text == "a\nb\nc"
            assert d.requests_seen == 0
            await pilot.press("ctrl+s")
            await answered(pilot, app)
            assert chat(app).conversation.turns[0].content == "a\nb\nc"


async def test_keymap_from_config_rebinds_by_id() -> None:
    directory = short_dir()
    async with daemon(directory) as d:
        app = app_for(directory, keymap={"regenerate": "f12"})
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "q")
            await answered(pilot, app)
            await pilot.press("f12")
            await until(pilot, lambda: d.completed_requests == 2, "regenerated via f12")


async def test_help_lists_every_binding_and_the_palette_has_every_action() -> None:
    app = app_for(short_dir())
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.press("f1")
        from textual.widgets import DataTable

        from inferd_tui.ui.bindings import all_binding_ids
        from inferd_tui.ui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        shown = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert shown - {""} == all_binding_ids()  # "": keys without a binding (1–9)
        keys = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert "^j / alt+⏎" in keys  # shown as the footer shows keys, not raw names
        await pilot.press("escape")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for needed in (
            "Cancel generation",
            "Regenerate last answer",
            "Grammar workbench",
            "Conversations",
            "Copy answer",
            "Toggle admin events",
        ):
            assert needed in titles


async def test_constrained_answers_get_a_match_badge() -> None:
    directory = short_dir()
    async with daemon(directory, tokens=("maybe",)):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            chat(app).sidebar.load(SamplingParams(), 'root ::= "yes" | "no"')
            await send(pilot, "answer yes or no")
            await until(
                pilot,
                lambda: chat(app).conversation.turns[-1].grammar_match is not None,
                "the grammar check",
            )
            turn = chat(app).conversation.turns[-1]
            assert (turn.grammar_match, turn.grammar_match_offset) == (False, 0)
            await pilot.pause()
            view = chat(app).transcript
            shown = "".join(s.text for y in range(view.size.height) for s in view.render_line(y))
            assert "✗ leaves the grammar" in shown  # (the offset may wrap to the next line)


async def test_demo_backend_answers_from_the_grammar_and_matches_it() -> None:
    directory = short_dir()
    async with daemon(directory, backend="demo", demo_tokens_per_s=1000.0):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            chat(app).sidebar.load(SamplingParams(), 'root ::= "yes" | "no"')
            await send(pilot, "answer yes or no")
            await until(
                pilot,
                lambda: chat(app).conversation.turns[-1].grammar_match is not None,
                "the grammar check",
            )
            turn = chat(app).conversation.turns[-1]
            assert turn.content in {"yes", "no"}
            assert turn.grammar_match is True


async def test_a_store_that_fails_mid_session_says_so_once_and_keeps_going(
    tmp_path: Path,
) -> None:
    directory = short_dir()
    store = Store.open(tmp_path / "db.sqlite3")
    async with daemon(directory):
        app = app_for(directory, store=store)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "first")
            await answered(pilot, app)
            store._conn.execute("PRAGMA max_page_count = 1")  # the disk is now "full"
            chat(app).prompt.set_prompt("x" * 20000)  # more than one page can hold
            await pilot.press("enter")
            await answered(pilot, app)
            await send(pilot, "third")
            await answered(pilot, app)
            assert store.degraded is not None
            warnings = [n.message for n in app._notifications if n.message.startswith("Not saving")]
            assert len(warnings) == 1
            assert "not saving" in chat(app).status_bar.extra_text
            assert [t.content for t in chat(app).conversation.turns][-2:] == [
                "third",
                "alpha beta gamma",
            ]


async def test_no_color_renders_without_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.filter import Monochrome

    monkeypatch.setenv("NO_COLOR", "1")
    directory = short_dir()
    answer = "# Title\n\n- a\n\n```python\nprint(1)\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    async with daemon(directory, tokens=(answer,)):
        app = app_for(directory)
        async with app.run_test(size=(140, 42)) as pilot:
            assert any(isinstance(f, Monochrome) for f in app._filters)
            await until(pilot, lambda: app.inference_ready, "ready")
            await send(pilot, "render everything")
            await answered(pilot, app)
            await pilot.pause()
            svg = app.export_screenshot()
            assert "print" in svg and "Title" in svg


async def test_opening_a_large_conversation_settles_the_collector_once_it_is_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inferd_tui.ui import collector
    from inferd_tui.ui.screens.chat_reports import SETTLE_MIN_TURNS

    settled: list[int] = []
    monkeypatch.setattr(collector, "settle", lambda: settled.append(len(screen.transcript.turns)))
    store = Store.memory()
    large = store.create_conversation("large")
    for number in range(SETTLE_MIN_TURNS):
        store.add_turn(large.id, "user" if number % 2 == 0 else "assistant", f"turn {number}")
    small, other = store.create_conversation("small"), store.create_conversation("other")
    store.add_turn(small.id, "user", "hello")
    store.add_turn(other.id, "user", "hi")
    app = app_for(short_dir(), autostart=False, store=store)
    async with app.run_test(size=(140, 42)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: screen.sidebar.ready, "the sidebar's fields")
        screen.load_conversation(large.id)
        await until(pilot, lambda: settled == [SETTLE_MIN_TURNS], "a settle after the draw")
        screen.load_conversation(small.id)  # leaving a settled one: what it left is collected
        await until(pilot, lambda: settled == [SETTLE_MIN_TURNS, 1], "a settle on leaving")
        screen.load_conversation(other.id)  # small to small is not worth a full collection
        await pilot.pause()
        await pilot.pause()
    assert settled == [SETTLE_MIN_TURNS, 1]


async def test_the_panels_fill_in_even_if_textual_never_reports_its_first_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import inferd_tui.ui.app as app_module

    monkeypatch.setattr(app_module.InferdApp, "on_ready", lambda self: None)
    monkeypatch.setattr(app_module, "FIRST_FRAME_FALLBACK_S", 0.05)
    app = app_for(short_dir(), autostart=False)
    async with app.run_test(size=(140, 42)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: screen.sidebar.ready and screen.admin_panel.ready, "panels")
        assert app.first_frame_shown
