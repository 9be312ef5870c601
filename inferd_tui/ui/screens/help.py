"""F1 / ?: every key, what it does, where it works, and its id (for keymap overrides)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from inferd_tui.ui.bindings import all_bindings, bindings_for

TIPS = """\
• Enter sends. Ctrl+J or Alt+Enter add a newline (terminals send the same byte for Enter \
and Shift+Enter). ↑/↓ on the first/last line recall earlier prompts.
• Esc stops an answer (the partial text stays, marked cancelled), withdraws a queued \
prompt, or leaves an edit.
• In the transcript (Ctrl+T): ↑/↓ select a turn, y copies it, 1–9 copy that code block, \
e edits one of your turns and resends from there, z (or F10 anywhere) folds or unfolds an \
answer's thinking, End follows new text again.
• When an answer stops to call a tool, Ctrl+F asks you for the tool's result and sends it \
paired with the call, so the model carries on from it.
• Ctrl+P opens the command palette: every action is there, and the themes.
• Override any key in config.toml, by the id in the third column: [keymap] send = "ctrl+s"
"""

#: Keys handled outside a binding (so they have no id and cannot be remapped).
UNBOUND_KEYS = (("1 … 9", "Copy that code block", "transcript (Ctrl+T)"),)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("help")

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 100; max-width: 95%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #tips-scroll { height: auto; max-height: 40%; margin-bottom: 1; }
    HelpScreen #tips { color: $text-muted; }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-hint { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Keys", style="bold"))
            with VerticalScroll(id="tips-scroll", can_focus=False):
                yield Static(Text(TIPS), id="tips")
            yield DataTable(zebra_stripes=True, cursor_type="row")
            yield Static(Text("Esc closes · ↑/↓ and PgUp/PgDn scroll the list"), id="help-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Id before Where: on a narrow terminal the keymap id matters more than the owner.
        table.add_columns("Keys", "Action", "Id", "Where")
        keymap = self.app._keymap if hasattr(self.app, "_keymap") else {}
        for info in all_bindings():
            keys = keymap.get(info.binding_id, info.keys)
            table.add_row(self._display(keys), info.description, info.binding_id, info.where)
        for keys, description, where in UNBOUND_KEYS:
            table.add_row(keys, description, "", where)
        table.focus()

    def _display(self, keys: str) -> str:
        """`ctrl+j,alt+enter` as the footer shows keys: `^j / alt+⏎`."""
        return " / ".join(
            self.app.get_key_display(Binding(key.strip(), "")) for key in keys.split(",")
        )

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
