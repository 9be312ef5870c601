"""F1 / ?: every key, what it does, where it works, and its id (for keymap overrides)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from inferd_tui.ui.bindings import all_bindings

TIPS = """\
Enter sends · Ctrl+J or Alt+Enter insert a newline (terminals send the same byte for Enter
and Shift+Enter) · ↑/↓ on the first/last line recall earlier prompts · Esc stops an answer
(the partial text stays, marked cancelled), withdraws a queued prompt, or leaves an edit.
In the transcript (Ctrl+T): ↑/↓ select a turn, y copies it, 1–9 copy that code block,
e edits one of your turns and resends from there, End follows new text again.
Ctrl+P opens the command palette (every action is there, and the themes).
Override any key in config.toml: [keymap] send = "ctrl+s"  (the id column below)."""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help-close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 100; max-width: 95%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #tips { height: auto; margin-bottom: 1; color: $text-muted; }
    HelpScreen DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Keys", style="bold"))
            yield Static(Text(TIPS), id="tips")
            yield DataTable(zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Keys", "Action", "Where", "Id")
        keymap = self.app._keymap if hasattr(self.app, "_keymap") else {}
        for info in all_bindings():
            keys = keymap.get(info.binding_id, info.keys)
            table.add_row(keys, info.description, info.where, info.binding_id)
        table.focus()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
