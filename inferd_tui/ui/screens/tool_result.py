"""Ctrl+F: play the tool by hand — type (or paste) the result of one tool call.

The dialog names the call it answers (which of the answer's calls, the tool, the call id)
and shows the start of its input, so the person playing the tool knows what was asked.
Ctrl+S sends, as in the app's other text dialogs (Enter is a newline: results are often
JSON over several lines); Esc cancels. It is dismissed with a :class:`ToolAnswered` (the
call's id and the text typed), or with ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from inferd_tui.conversation import ToolCallRecord
from inferd_tui.text_safety import clip, sanitize
from inferd_tui.ui.bindings import bindings_for, key_display
from inferd_tui.ui.widgets.transcript import tool_input_text

#: Lines of the call's input shown above the answer box (the transcript shows the rest).
INPUT_PREVIEW_LINES = 6


@dataclass(frozen=True)
class ToolAnswered:
    """The result typed for the tool call ``tool_call_id``."""

    tool_call_id: str
    text: str


class ToolResultScreen(ModalScreen[ToolAnswered | None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("tool-result")

    DEFAULT_CSS = """
    ToolResultScreen { align: center middle; }
    ToolResultScreen > Vertical {
        width: 90; max-width: 95%; height: 24; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ToolResultScreen #tool-input { color: $text-muted; height: auto; max-height: 8; }
    ToolResultScreen TextArea { height: 1fr; }
    ToolResultScreen Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, call: ToolCallRecord, position: int, count: int, *, text: str = "") -> None:
        super().__init__()
        self.call = call
        self._position = position
        self._count = count
        self._text = text  # typed before, when the dialog opens again

    def compose(self) -> ComposeResult:
        # Untrusted: the name, id and input come from the model, so Text, never markup.
        name = sanitize(clip(self.call.name, 120)[0], keep_newlines=False)
        call_id = sanitize(clip(self.call.tool_call_id, 120)[0], keep_newlines=False)
        which = f"call {self._position} of {self._count}: " if self._count > 1 else ""
        title = Text(f"Result of tool {which}", style="bold")
        title.append(name, style="bold")
        title.append(f" ({call_id})")
        pretty, _ = tool_input_text(self.call.input)
        lines = pretty.split("\n")
        preview = "\n".join(lines[:INPUT_PREVIEW_LINES])
        if len(lines) > INPUT_PREVIEW_LINES:
            preview += "\n…"
        send = key_display(self.app, "tool-result-send")
        with Vertical():
            yield Static(title, id="tool-title")
            yield Static(Text(preview), id="tool-input")
            yield Static(
                Text(
                    f"Type or paste what the tool returns; it is sent paired with this call "
                    f"and the model carries on. {send} sends, Esc cancels."
                )
            )
            yield TextArea(self._text, id="tool-result-text", soft_wrap=True)
            with Horizontal():
                yield Button("Send", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        text_area = self.query_one(TextArea)
        text_area.move_cursor(text_area.document.end)  # after what was typed before
        text_area.focus()

    def action_send(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.app.bell()
            self.notify("Type the tool's result first (Esc cancels).", timeout=3)
            return
        self.dismiss(ToolAnswered(self.call.tool_call_id, text))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.action_send()
        else:
            self.action_cancel()
