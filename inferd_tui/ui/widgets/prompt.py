"""The prompt box: multi-line, Enter sends, Ctrl+J / Alt+Enter insert a newline.

Terminals send the same byte for Enter and Shift+Enter, so the newline keys are ones
that reach the app in common terminals (Ctrl+J is a plain line feed; Alt+Enter is ESC CR,
which :mod:`inferd_tui.ui.terminal_input` teaches Textual's parser to report).
Up on the first line and Down on the last line walk through earlier prompts; the draft
being typed is kept and comes back when you walk past the newest prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import TextArea

from inferd_tui.ui.bindings import bindings_for

#: Actions run in key order by ``_on_key`` (see there) instead of as bindings.
KEY_ORDER_ACTIONS = ("submit", "newline")


class PromptInput(TextArea):
    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 12;
        border: round $primary 60%;
        padding: 0 1;
    }
    PromptInput:focus { border: round $primary; }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("prompt")

    @dataclass
    class Submitted(Message):
        prompt: PromptInput
        text: str

    @dataclass
    class Pasted(Message):
        """Text was pasted (the screen offers to attach a pasted file path)."""

        prompt: PromptInput
        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder="Ask something…  (Enter sends · Ctrl+J newline · ↑ earlier prompts)",
        )
        self.prompt_history: list[str] = []
        self._history_index: int | None = None  # None: editing the draft
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        # Send and newline run here, in key order, rather than as bindings, which would run
        # before this widget has inserted the characters typed just before them. The keys
        # are the bindings' own, after the user's keymap.
        action = self._bound_action(event.key)
        if action in KEY_ORDER_ACTIONS:
            event.prevent_default()
            event.stop()
            if action == "submit":
                self.action_submit()
            else:
                self.action_newline()
            return
        await super()._on_key(event)

    def _on_paste(self, event: events.Paste) -> None:
        # Textual also runs TextArea's own handler (it dispatches to each class in the
        # MRO), which inserts the text; the message is handled after that.
        self.post_message(self.Pasted(self, event.text))

    def _bound_action(self, key: str) -> str | None:
        bindings = self._bindings.copy()
        if self.app._keymap:
            bindings.apply_keymap(self.app._keymap)
        for binding in bindings.key_to_bindings.get(key, ()):
            return binding.action
        return None

    def action_submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history (consecutive duplicates collapse)."""
        if text.strip() and (not self.prompt_history or self.prompt_history[-1] != text):
            self.prompt_history.append(text)
        self._history_index = None

    def set_prompt(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)
        self._history_index = None

    def action_history_previous(self) -> None:
        if self.cursor_location[0] > 0 or not self.prompt_history:
            self.action_cursor_up()
            return
        if self._history_index is None:
            self._draft = self.text
            self._history_index = len(self.prompt_history) - 1
        elif self._history_index > 0:
            self._history_index -= 1
        else:
            return
        self._show(self.prompt_history[self._history_index])

    def action_history_next(self) -> None:
        last_row = self.document.line_count - 1
        if self.cursor_location[0] < last_row or self._history_index is None:
            self.action_cursor_down()
            return
        if self._history_index < len(self.prompt_history) - 1:
            self._history_index += 1
            self._show(self.prompt_history[self._history_index])
        else:
            self._history_index = None
            self._show(self._draft)

    def _show(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)
