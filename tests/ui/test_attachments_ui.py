"""Attaching files in the app: picker, pasted paths, chips, refusals, and what a send keeps.

No daemon is needed to attach: the screen is told the daemon's profile, as the app does
when it learns it. Every wait is on the app's own state, never a sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import soundfile
from PIL import Image
from textual import events
from textual.pilot import Pilot
from ui_harness import until

from inferd_tui.attaching import attachment_loader
from inferd_tui.client import resolve_endpoints
from inferd_tui.conversation import Conversation
from inferd_tui.proto.capability import BackendCapabilities, DaemonProfile
from inferd_tui.proto.eras import EraRange
from inferd_tui.request_options import RequestOptions
from inferd_tui.store import Store
from inferd_tui.ui.app import AppConfig, InferdApp
from inferd_tui.ui.screens.attach_picker import AttachableTree, AttachFilePicker
from inferd_tui.ui.screens.chat import ChatScreen
from inferd_tui.ui.screens.chat_attachments import path_in_prompt
from inferd_tui.ui.screens.dialogs import ConfirmDialog
from inferd_tui.ui.widgets.attachment_bar import AttachmentChip

pytestmark = pytest.mark.anyio

V08 = DaemonProfile(
    "v2",
    EraRange.exactly("0.8"),
    (BackendCapabilities(vision=True, audio=True, audio_sample_rate=16_000),),
)
NO_VISION = DaemonProfile(
    "v2", EraRange.exactly("0.8"), (BackendCapabilities(vision=False, audio=True),)
)


def app_for(tmp_path: Path, store: Store | None = None) -> InferdApp:
    resolution = resolve_endpoints(
        socket=tmp_path / "infer.sock", admin=tmp_path / "admin.sock", env={}
    )
    config = AppConfig(resolution=resolution, autostart=False, store=store or Store.memory())
    return InferdApp(config)


def chat(app: InferdApp) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def use_profile(screen: ChatScreen, profile: DaemonProfile) -> None:
    """What the app does when it learns the daemon: a client for its wire, then the
    screen shows what that daemon takes (the sidebar's fields, the chips)."""
    screen.session.client.profile = profile  # type: ignore[attr-defined]
    screen._show_profile()


async def settled(pilot: Pilot[None]) -> None:
    """Every attach worker has finished (refused or added a chip)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def messages(app: InferdApp) -> list[str]:
    return [notification.message for notification in app._notifications]


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo [b]x.png"
    pixels = np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels, mode="RGB").save(path)
    return path


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "memo.wav"
    soundfile.write(path, np.zeros(8_000, dtype=np.float32), 8_000)
    return path


async def test_attach_from_the_picker_shows_a_chip_and_send_keeps_the_bytes(
    tmp_path: Path, photo: Path, clip: Path
) -> None:
    store = Store.open(tmp_path / "data" / "db.sqlite3")
    app = app_for(tmp_path, store)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        await pilot.press("alt+a")
        await until(pilot, lambda: isinstance(app.screen, AttachFilePicker), "the picker")
        await pilot.press("tab")
        await pilot.press(*str(photo))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen), "back in the chat")
        await settled(pilot)
        screen.attach_path(clip)
        await settled(pilot)
        items = screen.attachment_bar.items
        assert [item.name for item in items] == [photo.name, "memo.wav"]
        assert items[0].data == Image.open(photo).convert("RGB").tobytes()
        assert (items[1].sample_rate, items[1].wire_bytes) == (16_000, 64_000)
        preview = screen.session.next_request_line(
            RequestOptions(), "x", attachments=screen.pending_attachment_refs()
        ).splitlines()
        assert preview[-2:] == ["+ BLOB img-1: 3,600 bytes", "+ BLOB aud-1: 64,000 bytes"]
        # The name is shown literally: markup in a file name is never interpreted.
        label = screen.attachment_bar.chips[0].query_one(".chip-label")
        assert "[b]x" in str(label.render())

        screen.prompt.focus()
        await pilot.press(*"what is this?")
        await pilot.press("enter")
        await pilot.pause()
        user = next(turn for turn in screen.conversation.turns if turn.role == "user")
        assert [ref.name for ref in user.attachments] == [photo.name, "memo.wav"]
        assert screen.attachment_bar.items == []
        assert screen.conversation.store_id is not None
        uses = store.attachment_uses(screen.conversation.store_id)
        assert sorted(sha for sha, _ in uses) == sorted(ref.sha256 for ref in user.attachments)
        # What a regenerate or reopen sends: the same bytes, read back from the store.
        request = screen.conversation.to_chat_request(
            RequestOptions(), load_attachment=attachment_loader(store)
        )
        assert request.attachments[0].data == items[0].data
        assert request.attachments[1].data == items[1].data
    store.close()


async def test_reopened_store_sends_the_same_bytes(tmp_path: Path, photo: Path) -> None:
    path = tmp_path / "data" / "db.sqlite3"
    with Store.open(path) as store:
        conversation = store.create_conversation("x")
        rgb = Image.open(photo).convert("RGB").tobytes()
        sha = store.put_attachment(conversation.id, rgb)
    with Store.open(path) as again:
        talk = Conversation()
        turn = talk.add_user("what is this?")
        from inferd_tui.conversation import AttachmentRef

        turn.attachments = [AttachmentRef("image", photo.name, sha, len(rgb), 40, 30, 40, 30)]
        request = talk.to_chat_request(RequestOptions(), load_attachment=attachment_loader(again))
        assert request.attachments[0].data == rgb


async def test_remove_with_delete_on_a_chip_and_the_last_with_a_key(
    tmp_path: Path, photo: Path, clip: Path
) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        screen.attach_path(photo)
        screen.attach_path(clip)
        await settled(pilot)
        assert len(screen.attachment_bar.items) == 2
        screen.attachment_bar.chips[0].focus()
        await pilot.press("delete")
        await pilot.pause()
        assert [item.name for item in screen.attachment_bar.items] == ["memo.wav"]
        screen.prompt.focus()
        await pilot.press("alt+d")
        await pilot.pause()
        assert screen.attachment_bar.items == []
        assert not screen.attachment_bar.display


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40), "truncated or corrupt"),
        (lambda p: p.write_text("just text"), "not an image"),
    ],
)
async def test_a_file_that_cannot_be_decoded_is_refused_and_the_prompt_stays(
    tmp_path: Path, photo: Path, make: Callable[[Path], object], reason: str
) -> None:
    bad = tmp_path / "bad.png"
    make(bad)
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        screen.attach_path(photo)
        await settled(pilot)
        screen.prompt.set_prompt("keep me")
        screen.attach_path(bad)
        await settled(pilot)
        assert [item.name for item in screen.attachment_bar.items] == [photo.name]
        assert screen.prompt.text == "keep me"
        assert any(reason in message and "\n" not in message for message in messages(app))


async def test_a_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("L", (20_000, 20_000)).save(bomb)
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        screen.attach_path(bomb)
        await settled(pilot)
        assert screen.attachment_bar.items == []
        assert any("pixel" in message for message in messages(app))


async def test_a_daemon_without_vision_refuses_an_image_when_attached(
    tmp_path: Path, photo: Path, clip: Path
) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, NO_VISION)
        screen.attach_path(photo)
        screen.attach_path(clip)
        await settled(pilot)
        assert [item.name for item in screen.attachment_bar.items] == ["memo.wav"]
        assert any("vision false" in message for message in messages(app))


async def test_reconnecting_to_a_daemon_that_cannot_take_them_marks_the_chips(
    tmp_path: Path, photo: Path
) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        screen.attach_path(photo)
        await settled(pilot)
        use_profile(screen, NO_VISION)
        await pilot.pause()
        chip = screen.attachment_bar.query_one(AttachmentChip)
        assert chip.has_class("-refused")
        assert "vision false" in str(chip.query_one(".chip-label").render())
        screen.prompt.set_prompt("describe it")
        screen.prompt.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.conversation.turns == []  # nothing was sent
        assert screen.prompt.text == "describe it"
        use_profile(screen, V08)
        await pilot.pause()
        assert not chip.has_class("-refused")


async def test_a_v1_daemon_refuses_attachments(tmp_path: Path, photo: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, DaemonProfile("v1", EraRange.exactly("0.1")))
        screen.attach_path(photo)
        await settled(pilot)
        assert screen.attachment_bar.items == []
        assert any("protocol v1" in message for message in messages(app))


async def test_a_pasted_path_offers_to_attach_instead_of_sending(
    tmp_path: Path, photo: Path
) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        screen.prompt.focus()
        quoted = "'" + str(photo) + "'"
        # A terminal's bracketed paste of a dragged file reaches the app, which forwards it
        # to the focused prompt (posted to the prompt itself, it would bubble back up to the
        # app and be forwarded again: pasted twice).
        app.post_message(events.Paste(quoted))
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the offer")
        await pilot.press("y")
        await settled(pilot)
        assert [item.name for item in screen.attachment_bar.items] == [photo.name]
        assert screen.prompt.text == ""
        # Typed and sent: the same offer; "Send as text" sends the path as typed.
        screen.prompt.set_prompt(str(photo))
        screen.prompt.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the offer again")
        await pilot.press("n")
        await pilot.pause()
        assert screen.conversation.turns[0].content == str(photo)


def test_paths_as_terminals_paste_them(tmp_path: Path) -> None:
    target = tmp_path / "my photo.png"
    target.write_bytes(b"x")
    assert path_in_prompt(f"  {target}  ") == target
    assert path_in_prompt(f'"{target}"') == target
    assert path_in_prompt(str(target).replace(" ", "\\ ")) == target
    assert path_in_prompt(target.as_uri()) == target
    assert path_in_prompt("my photo.png", cwd=tmp_path) == target
    assert path_in_prompt(f"look at {target}") is None
    assert path_in_prompt(f"{target}\nwhat is it?") is None
    assert path_in_prompt(str(tmp_path)) is None


def test_the_picker_shows_directories_and_attachable_files_only(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.PNG", "b.wav", "c.txt", "d.flac", "e.py"):
        (tmp_path / name).write_bytes(b"x")
    # Unbound: a DirectoryTree made outside an app starts watching its path.
    shown = sorted(
        path.name for path in AttachableTree.filter_paths(cast(Any, None), tmp_path.iterdir())
    )
    assert shown == ["a.PNG", "b.wav", "d.flac", "sub"]


async def test_a_withdrawn_or_edited_prompt_gets_its_attachments_back(
    tmp_path: Path, photo: Path
) -> None:
    from inferd_tui.ui.widgets.transcript import TranscriptView

    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        screen.attach_path(photo)
        await settled(pilot)
        sent = screen.attachment_bar.items[0]
        screen.prompt.set_prompt("what is this?")
        screen.prompt.focus()
        await pilot.press("enter")  # no daemon: the prompt is queued
        await pilot.pause()
        assert screen.attachment_bar.items == []
        assert screen.session.queued is not None
        await pilot.press("escape")  # withdrawn: text and attachment come back
        await settled(pilot)
        assert screen.prompt.text == "what is this?"
        (again,) = screen.attachment_bar.items
        assert (again.sha256, again.data, again.name) == (sent.sha256, sent.data, sent.name)
        # Editing a sent turn brings its attachments back as chips too.
        screen.prompt.focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        await settled(pilot)
        screen.prompt.set_prompt("")
        screen.attachment_bar.clear()
        turn = screen.conversation.add_user("an earlier prompt")
        turn.attachments = [sent.to_ref(sent.sha256)]
        screen.transcript.post_message(TranscriptView.EditRequested(turn))
        await settled(pilot)
        assert screen.prompt.text == "an earlier prompt"
        assert [item.data for item in screen.attachment_bar.items] == [sent.data]


# --- end to end against the stand-in at 0.8 (demo backend) ------------------------------


async def test_an_image_is_answered_about_kept_and_resent_after_reopening(
    tmp_path: Path, photo: Path, clip: Path
) -> None:
    """Attach an image and a clip, send: the demo backend answers from the bytes it got
    (size and mean colour, duration). Reopen the conversation from the store: the turn
    still has them, with a thumbnail, and a regenerate sends exactly the same bytes."""
    import shutil
    import tempfile

    from inferd_tui.conversation import TurnState
    from inferd_tui.mock_daemon import MockConfig, MockDaemon

    directory = Path(tempfile.mkdtemp(prefix="t-", dir="/tmp"))  # AF_UNIX paths are short
    try:
        config = MockConfig(
            socket_path=directory / "inferd.sock",
            admin_path=directory / "admin.sock",
            era="0.8",
            backend="demo",
            demo_tokens_per_s=50_000.0,
        )
        store = Store.open(tmp_path / "data" / "db.sqlite3")
        rgb = Image.open(photo).convert("RGB").tobytes()
        async with MockDaemon.start(config) as daemon:
            resolution = resolve_endpoints(
                socket=directory / "infer.sock", admin=directory / "admin.sock", env={}
            )
            app = InferdApp(AppConfig(resolution=resolution, store=store))
            async with app.run_test(size=(140, 42), notifications=True) as pilot:
                await until(pilot, lambda: app.inference_ready, "ready on the v2 wire")
                screen = chat(app)
                await until(
                    pilot,
                    lambda: (
                        screen.daemon_profile is not None and screen.daemon_profile.wire == "v2"
                    ),
                    "the chips know the daemon",
                )
                screen.attach_path(photo)
                screen.attach_path(clip)
                # Not settled(): the app's admin watcher is a worker that never completes.
                await until(
                    pilot,
                    lambda: len(screen.attachment_bar.items) == 2 or bool(messages(app)),
                    "both chips",
                )
                assert len(screen.attachment_bar.items) == 2, messages(app)
                screen.prompt.set_prompt("what is in these?")
                screen.prompt.focus()
                await pilot.press("enter")

                def answered() -> bool:
                    turns = screen.conversation.turns
                    return (
                        len(turns) == 2
                        and turns[-1].state is not TurnState.STREAMING
                        and screen.session.live is None
                    )

                await until(pilot, answered, "the answer")
                answer = screen.conversation.turns[-1]
                assert answer.state is TurnState.COMPLETE, answer.error_message
                assert "40×30 pixels (3,600 bytes of RGB arrived)" in answer.content
                first = daemon.last_v2_request
                assert first is not None
                assert first.attachments[0].data == rgb
                sent_audio = first.attachments[1].data
                conversation_id = screen.conversation.store_id
                assert conversation_id is not None

                # Reopen from the store: the refs come back, the bytes come from the store.
                screen.session.new_conversation()
                screen.thumbnails.clear()  # as after a restart: only the store has them
                screen.transcript._thumbnails.clear()
                screen.session.open(conversation_id)
                user = screen.conversation.turns[0]
                assert [ref.name for ref in user.attachments] == [photo.name, "memo.wav"]
                await until(
                    pilot,
                    lambda: screen.transcript.has_thumbnail(user.attachments[0].sha256),
                    "the thumbnail, made from the stored bytes",
                )
                await pilot.press("f5")
                await until(pilot, answered, "the regenerated answer")
                again = daemon.last_v2_request
                assert again is not first
                assert again.attachments[0].data == rgb
                assert again.attachments[1].data == sent_audio
        store.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def test_alt_a_from_a_real_terminal_opens_the_picker_over_the_focused_prompt(
    tmp_path: Path,
) -> None:
    """A terminal's ESC a arrives as alt+a *with* the character "a": the prompt would type
    it unless the binding goes first (found under tmux; Pilot's press sends no character)."""
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = chat(app)
        use_profile(screen, V08)
        screen.prompt.focus()
        await pilot.pause()
        app.post_message(events.Key("alt+a", "a"))
        await until(pilot, lambda: isinstance(app.screen, AttachFilePicker), "the picker")
        assert screen.prompt.text == ""
