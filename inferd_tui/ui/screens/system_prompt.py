"""F4: edit the system prompt sent at the head of every request."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from inferd_tui.ui.bindings import bindings_for


class SystemPromptScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("system-prompt")

    DEFAULT_CSS = """
    SystemPromptScreen { align: center middle; }
    SystemPromptScreen > Vertical {
        width: 90; max-width: 95%; height: 20; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SystemPromptScreen TextArea { height: 1fr; }
    SystemPromptScreen Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text(
                    "System prompt — sent first in every request of this conversation. "
                    "Ctrl+S saves, Esc cancels; empty sends none."
                )
            )
            yield TextArea(self._current, id="system-text", soft_wrap=True)
            with Horizontal():
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()
