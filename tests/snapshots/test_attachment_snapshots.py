"""Snapshots of attachments: the chips above the prompt, and a sent image in the transcript.

Thumbnails are drawn in half-blocks (``INFERD_TUI_GRAPHICS=halfcell``), so the SVGs do not
depend on the terminal the tests run in. The pictures are made here: a colour gradient.
"""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image
from textual.pilot import Pilot

from inferd_tui.attaching import PendingAttachment
from inferd_tui.conversation import AttachmentRef, Conversation
from inferd_tui.proto.capability import BackendCapabilities, DaemonProfile
from inferd_tui.proto.eras import EraRange
from inferd_tui.ui.thumbnails import thumbnail_from_rgb

from .scenes import add_exchange, boot_to_ready, conversation_screen, make_app, settle, show

SIZE = (140, 42)
V08 = DaemonProfile(
    "v2",
    EraRange.exactly("0.8"),
    (BackendCapabilities(vision=True, audio=True, audio_sample_rate=16_000),),
)
NO_VISION = DaemonProfile(
    "v2", EraRange.exactly("0.8"), (BackendCapabilities(vision=False, audio=True),)
)


def use_profile(screen: Any, profile: DaemonProfile) -> None:
    """As the app does when it learns the daemon: the session's client speaks its wire,
    and the screen shows what it takes (sidebar fields, chips, preview)."""
    screen.session.client.profile = profile
    screen._show_profile()
    screen._update_preview()


@pytest.fixture(autouse=True)
def halfcell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERD_TUI_GRAPHICS", "halfcell")


def gradient(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (x * 255 // (width - 1), y * 255 // (height - 1), 160)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image.tobytes()


PHOTO = PendingAttachment(
    kind="image",
    name="harbour [b]at[/b] dusk.jpg",
    data=gradient(64, 48),
    width=64,
    height=48,
    original_width=4000,
    original_height=3000,
    sha256="a" * 64,
)
MEMO = PendingAttachment(
    kind="audio",
    name="memo.wav",
    data=b"\0" * 4 * 16_000 * 3,
    sample_rate=16_000,
    duration_s=3.0,
    sha256="b" * 64,
)


def test_chips_above_the_prompt(snap_compare: Any) -> None:
    """Two chips above the prompt: a half-block thumbnail (a red-green-blue gradient) with
    "harbour [b]at[/b] dusk.jpg" shown literally (not bold), "4,000×3,000 → 64×48" and
    "9,216 bytes"; then "♪ memo.wav", "0:03.0 · 16,000 Hz", "192,000 bytes". The sidebar, laid out
    for inferd 0.8, is scrolled to its request preview: the LP frame's length and prefix,
    then "+ BLOB img-1: 9,216 bytes" and "+ BLOB aud-1: 192,000 bytes"."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        screen = conversation_screen(app)  # type: ignore[arg-type]
        use_profile(screen, V08)
        bar = screen.attachment_bar
        bar.add(PHOTO, thumbnail_from_rgb(PHOTO.data, PHOTO.width, PHOTO.height))
        bar.add(MEMO)
        screen.prompt.set_prompt("What is in the picture, and what does the memo say?")
        await pilot.pause()
        screen._update_preview()
        await pilot.pause()
        screen.sidebar.scroll_end(animate=False)  # down to the request preview
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_a_chip_the_daemon_cannot_take_is_marked(snap_compare: Any) -> None:
    """After switching to a daemon whose backend has vision false, the image chip turns red
    and its last line says "✗ daemon: vision false"; the audio chip is unchanged; a
    notification gives the whole reason with the file name shown literally."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        screen = conversation_screen(app)  # type: ignore[arg-type]
        use_profile(screen, V08)
        bar = screen.attachment_bar
        bar.add(PHOTO, thumbnail_from_rgb(PHOTO.data, PHOTO.width, PHOTO.height))
        bar.add(MEMO)
        use_profile(screen, NO_VISION)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_sent_image_and_audio_in_the_transcript(snap_compare: Any) -> None:
    """The user's turn "What is in the picture?" is followed by "▣ harbour [b]at[/b] dusk.jpg ·
    4,000×3,000 → 64×48 · 9,216 bytes" with a 16 × 6-cell half-block thumbnail of the
    gradient (blue top left, pink top right, green bottom left) under it, then "♪ memo.wav · 0:03.0 · 16,000 Hz · 192,000 bytes"; the answer follows."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        boot_to_ready(app)  # type: ignore[arg-type]
        screen = conversation_screen(app)  # type: ignore[arg-type]
        use_profile(screen, V08)
        conversation = Conversation()
        add_exchange(
            conversation,
            "What is in the picture?",
            "A harbour at dusk: boats, a lighthouse, and a gradient sky.",
        )
        refs: list[AttachmentRef] = [PHOTO.to_ref(PHOTO.sha256), MEMO.to_ref(MEMO.sha256)]
        conversation.turns[0].attachments = refs
        screen.thumbnails[PHOTO.sha256] = thumbnail_from_rgb(PHOTO.data, PHOTO.width, PHOTO.height)
        await show(app, conversation)  # type: ignore[arg-type]
        screen.provide_thumbnails()
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
