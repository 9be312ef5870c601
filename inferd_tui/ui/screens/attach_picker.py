"""Choosing a file to attach: a directory tree showing only what can be attached.

Starts in the working directory; directories stay navigable (hidden ones are left out),
files are shown only when their suffix is one of the image or audio suffixes inferd-tui
attaches — the content still decides when the file is decoded. Enter on a file chooses it;
a path can also be typed (Tab to the input). Esc closes without choosing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Static

from inferd_tui.client.attachments import AUDIO_SUFFIXES, IMAGE_SUFFIXES
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for
from inferd_tui.ui.screens.dialogs import expand_path

ATTACHABLE_SUFFIXES = IMAGE_SUFFIXES | AUDIO_SUFFIXES


class AttachableTree(DirectoryTree):
    """Directories (not hidden) and files with an attachable suffix."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        shown: list[Path] = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or path.suffix.lower() in ATTACHABLE_SUFFIXES:
                    shown.append(path)
            except OSError:
                continue  # a broken link or a directory we may not look in
        return shown


class AttachFilePicker(ModalScreen[Path | None]):
    """Pick an image or audio file; dismisses with its path, or None."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("attach-picker")

    DEFAULT_CSS = """
    AttachFilePicker { align: center middle; }
    AttachFilePicker > Vertical {
        width: 80%; max-width: 100; height: 80%; border: round $primary; padding: 0 1;
        background: $surface;
    }
    AttachFilePicker AttachableTree { height: 1fr; }
    AttachFilePicker #attach-error { color: $error; height: auto; }
    """

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self.start = (start or Path.cwd()).absolute()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Attach an image or audio file"), classes="dialog-title")
            yield Static(
                Text(sanitize(str(self.start), keep_newlines=False), style="dim"), id="attach-cwd"
            )
            yield AttachableTree(self.start, id="attach-tree")
            yield Input(placeholder="…or type a path and press Enter", id="attach-path")
            yield Static("", id="attach-error")
            yield Static(
                Text("Enter attaches · Tab to type a path · Esc cancels"), classes="dialog-hint"
            )

    def on_mount(self) -> None:
        self.query_one(AttachableTree).focus()

    @on(DirectoryTree.FileSelected)
    def _on_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(event.path)

    @on(Input.Submitted, "#attach-path")
    def _on_path(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            return
        path = expand_path(event.value)
        if not path.is_file():
            self.query_one("#attach-error", Static).update(
                Text(sanitize(f"{path} is not a file", keep_newlines=False))
            )
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
