"""The attachments waiting to go with the next prompt: one chip each, above the prompt.

A chip shows the file name, the pixel size (and the size after scaling) or the duration
and sample rate, the bytes that go on the wire, and a thumbnail for images. Focus a chip
and press Delete (or Backspace) to remove it; the chat screen also removes the last one
with a key. When the daemon changes (:meth:`AttachmentBar.set_profile`), a chip the new
daemon cannot take is marked with the reason before anything is sent.

Names come from the user's files: always plain ``Text``, never markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.containers import Horizontal, HorizontalScroll
from textual.message import Message
from textual.widgets import Static

from inferd_tui.attaching import PendingAttachment, chip_problem
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from inferd_tui.proto.capability import DaemonProfile


#: The widest a chip's text gets, in cells (long names end in "…").
LABEL_CELLS = 38

_CAPABILITY_FALSE = re.compile(r"capabilities: (\w+) false")
_TAKES_RATE = re.compile(r"takes ([\d,]+ Hz)")


def short_reason(problem: str) -> str:
    """A refusal in a few words, for a chip: "daemon has vision false", "needs protocol v2"."""
    if match := _CAPABILITY_FALSE.search(problem):
        return f"daemon: {match.group(1)} false"
    if "protocol v1" in problem:
        return "daemon speaks protocol v1 only"
    if match := _TAKES_RATE.search(problem):
        return f"backend takes {match.group(1)}"
    return sanitize(problem, keep_newlines=False)


class AttachmentChip(Horizontal, can_focus=True):
    """One pending attachment. Delete or Backspace removes it."""

    DEFAULT_CSS = """
    AttachmentChip {
        width: auto; max-width: 48; height: 4; margin-right: 1; padding: 0 1 0 0;
        background: $boost;
    }
    AttachmentChip:focus { background: $accent 30%; }
    AttachmentChip.-refused { background: $error 20%; }
    AttachmentChip .chip-thumb { width: 8; height: 4; }
    AttachmentChip .chip-icon { width: 8; height: 4; content-align: center middle; }
    AttachmentChip .chip-label { width: auto; max-width: 38; height: 4; padding-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("attachment-chip")

    @dataclass
    class RemoveRequested(Message):
        chip: AttachmentChip

    def __init__(self, item: PendingAttachment, thumbnail: Any = None) -> None:
        super().__init__()
        self.item = item
        self.thumbnail = thumbnail
        self.problem: str | None = None

    def compose(self) -> ComposeResult:
        if self.item.kind == "image" and self.thumbnail is not None:
            from inferd_tui.ui.thumbnails import image_widget

            yield image_widget(self.thumbnail, classes="chip-thumb")
        else:
            yield Static(Text("♪" if self.item.kind == "audio" else "▣"), classes="chip-icon")
        yield Static(self._describe(), classes="chip-label")

    def _describe(self) -> Text:
        item = self.item
        lines = [
            Text(sanitize(item.name, keep_newlines=False), style="bold"),
            Text(item.measure()),
            Text(f"{item.wire_bytes:,} bytes", style="dim"),
        ]
        if self.problem:
            # The short reason fits the chip; the whole sentence is its tooltip and was
            # said in a notification.
            lines.append(Text("✗ " + short_reason(self.problem), style="bold red"))
        for line in lines:
            line.truncate(LABEL_CELLS, overflow="ellipsis")
        return Text("\n").join(lines)

    def set_problem(self, problem: str | None) -> None:
        if problem == self.problem:
            return
        self.problem = problem
        self.set_class(problem is not None, "-refused")
        self.tooltip = problem
        if self.is_mounted:
            self.query_one(".chip-label", Static).update(self._describe())

    def action_remove(self) -> None:
        self.post_message(self.RemoveRequested(self))


class AttachmentBar(HorizontalScroll):
    """The pending attachments, in the order they will be sent; hidden when empty."""

    DEFAULT_CSS = """
    AttachmentBar { height: auto; max-height: 5; display: none; scrollbar-size-horizontal: 1; }
    AttachmentBar.-has-items { display: block; }
    """

    @dataclass
    class Changed(Message):
        """Attachments were added or removed (the screen updates the preview)."""

        bar: AttachmentBar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profile: DaemonProfile | None = None

    @property
    def chips(self) -> list[AttachmentChip]:
        return list(self.query(AttachmentChip))

    @property
    def items(self) -> list[PendingAttachment]:
        return [chip.item for chip in self.chips]

    @property
    def problems(self) -> list[str]:
        """Why some chips cannot go to the connected daemon (empty: all can)."""
        return [
            f"{chip.item.name}: {chip.problem}" for chip in self.chips if chip.problem is not None
        ]

    def add(self, item: PendingAttachment, thumbnail: Any = None) -> AttachmentChip:
        chip = AttachmentChip(item, thumbnail)
        chip.set_problem(chip_problem(item, self.profile))
        self.mount(chip)
        self.add_class("-has-items")
        self.post_message(self.Changed(self))
        return chip

    def remove_chip(self, chip: AttachmentChip) -> None:
        chips = self.chips
        if chip not in chips:
            return
        index = chips.index(chip)
        was_focused = chip.has_focus
        chip.remove()
        rest = [other for other in chips if other is not chip]
        self.set_class(bool(rest), "-has-items")
        if was_focused and rest:
            rest[min(index, len(rest) - 1)].focus()
        self.post_message(self.Changed(self))

    def remove_last(self) -> PendingAttachment | None:
        chips = self.chips
        if not chips:
            return None
        self.remove_chip(chips[-1])
        return chips[-1].item

    def clear(self) -> None:
        for chip in self.chips:
            chip.remove()
        self.remove_class("-has-items")
        self.post_message(self.Changed(self))

    def set_profile(self, profile: DaemonProfile | None) -> None:
        """The daemon changed (reconnect, another era): mark what it cannot take."""
        self.profile = profile
        for chip in self.chips:
            chip.set_problem(chip_problem(chip.item, profile))

    def on_attachment_chip_remove_requested(self, event: AttachmentChip.RemoveRequested) -> None:
        event.stop()
        self.remove_chip(event.chip)
