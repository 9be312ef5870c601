"""Presets: named bundles of sampling parameters, grammar and system prompt.

Save the current setup under a name, apply one (a confirmation shows exactly what would
change), delete one. Dismisses with the :class:`Preset` to apply, or None; applying it is
the caller's job (the preset replaces the whole bundle: a field it leaves unset goes back to
the daemon's default).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from inferd_tui.store import Preset, Store, StoreError, preset_diff
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for
from inferd_tui.ui.screens.dialogs import ConfirmDialog, TextInputDialog, plain
from inferd_tui.ui.widgets.key_footer import KeyFooter

NAME_MAX_CHARS = 40
SUMMARY_MAX_CHARS = 60


@dataclass(frozen=True)
class PresetDraft:
    """The setup in use now: wire sampling fields, grammar text and system prompt.

    Satisfies the store's ``HasSamplingSetup`` protocol, so it can be diffed with a preset.
    """

    params: dict[str, Any] = field(default_factory=dict)
    grammar: str = ""
    system_prompt: str = ""


def _short(text: str, limit: int) -> str:
    text = sanitize(" ".join(text.split()), keep_newlines=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_params(params: dict[str, Any]) -> str:
    if not params:
        return "daemon defaults"
    return ", ".join(f"{name} {json.dumps(value)}" for name, value in params.items())


def describe_grammar(grammar: str) -> str:
    if not grammar.strip():
        return "—"
    lines = grammar.count("\n") + 1
    return f"{lines} line{'s' if lines != 1 else ''}"


class PresetsScreen(ModalScreen[Preset | None]):
    """List presets; save the current setup, apply or delete one."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("presets")

    DEFAULT_CSS = """
    PresetsScreen { align: center middle; }
    PresetsScreen #presets-box {
        width: 95%; max-width: 150; height: 1fr; max-height: 40;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PresetsScreen #presets-note {
        height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    PresetsScreen #preset-table { height: 1fr; }
    PresetsScreen #preset-diff {
        height: auto; max-height: 9; border-top: hkey $panel-lighten-2;
    }
    """

    def __init__(self, store: Store, current: PresetDraft) -> None:
        super().__init__()
        self.store = store
        self.current = current
        self._presets: list[Preset] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="presets-box") as box:
            box.border_title = "Presets"
            yield Static(id="presets-note")
            yield DataTable(id="preset-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="preset-diff")
        yield KeyFooter()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#preset-table", DataTable)

    def on_mount(self) -> None:
        table = self.table
        table.add_column("Name", key="name")
        table.add_column("Sampling", key="sampling")
        table.add_column("Grammar", key="grammar")
        table.add_column("System prompt", key="system")
        self.reload()
        table.focus()

    def reload(self, select: str | None = None) -> None:
        previous = self.table.cursor_row
        try:
            self._presets = self.store.presets()
        except (StoreError, sqlite3.Error) as exc:
            self._error("Can't read presets", str(exc))
            self._presets = []
        table = self.table
        table.clear()
        for preset in self._presets:
            table.add_row(
                Text(_short(preset.name, NAME_MAX_CHARS), style="bold"),
                Text(_short(describe_params(preset.params), SUMMARY_MAX_CHARS)),
                Text(describe_grammar(preset.grammar)),
                Text(_short(preset.system_prompt, SUMMARY_MAX_CHARS) or "—"),
                key=preset.name,
            )
        if self._presets:
            row = previous
            if select is not None:
                row = next((i for i, p in enumerate(self._presets) if p.name == select), row)
            table.move_cursor(row=max(0, min(row, len(self._presets) - 1)), animate=False)
        note = self.query_one("#presets-note", Static)
        if self._presets:
            count = len(self._presets)
            note.update(
                Text(
                    f"{count} preset{'s' if count != 1 else ''} · Enter applies (shows what"
                    " changes first) · s saves the current setup · d deletes"
                )
            )
        else:
            note.update(
                Text(
                    "No presets yet. s saves the current sampling parameters, grammar and"
                    " system prompt under a name."
                )
            )
        self._update_diff()

    def _highlighted(self) -> Preset | None:
        row = self.table.cursor_row
        if not self._presets or not 0 <= row < len(self._presets):
            return None
        return self._presets[row]

    @on(DataTable.RowHighlighted, "#preset-table")
    def _on_row_highlighted(self) -> None:
        self._update_diff()

    def _update_diff(self) -> None:
        panel = self.query_one("#preset-diff", Static)
        preset = self._highlighted()
        if preset is None:
            panel.update("")
            panel.display = False
            return
        panel.display = True
        panel.update(self._diff_text(preset))

    def _diff_text(self, preset: Preset) -> Text:
        changes = preset_diff(self.current, preset)
        if not changes:
            return Text("Applying it changes nothing: the current setup already matches.")
        text = Text("Applying it changes:", style="bold")
        for line in changes:
            text.append("\n  ")
            text.append_text(plain(line, one_line=True))
        return text

    # --- apply ------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#preset-table")
    def _on_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        preset = self._highlighted()
        if preset is None:
            return
        changes = preset_diff(self.current, preset)
        lines = changes or ["Nothing changes: the current setup already matches."]

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(preset)

        self.app.push_screen(
            ConfirmDialog(f"Apply preset “{preset.name}”?", lines, confirm_label="Apply"), done
        )

    # --- save -------------------------------------------------------------------------

    def action_save(self) -> None:
        highlighted = self._highlighted()

        def named(name: str | None) -> None:
            if name is None or not name.strip():
                return
            name = name.strip()
            existing = next((p for p in self._presets if p.name == name), None)
            if existing is None:
                self._save(name)
                return
            changes = preset_diff(existing, self.current)

            def replace(confirmed: bool | None) -> None:
                if confirmed:
                    self._save(name)

            self.app.push_screen(
                ConfirmDialog(
                    f"Replace preset “{name}” with the current setup?",
                    changes or ["It already holds exactly the current setup."],
                    confirm_label="Replace",
                ),
                replace,
            )

        self.app.push_screen(
            TextInputDialog(
                "Save the current sampling parameters, grammar and system prompt as",
                highlighted.name if highlighted is not None else "",
                placeholder="preset name",
            ),
            named,
        )

    def _save(self, name: str) -> None:
        try:
            self.store.save_preset(
                name, self.current.params, self.current.grammar, self.current.system_prompt
            )
        except (StoreError, sqlite3.Error, ValueError) as exc:
            self._error("Save failed", str(exc))
            return
        self.reload(select=name)
        self.notify(
            sanitize(f"Saved preset “{name}”.", keep_newlines=False), timeout=3, markup=False
        )

    # --- delete -----------------------------------------------------------------------

    def action_delete(self) -> None:
        preset = self._highlighted()
        if preset is None:
            return

        def done(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                self.store.delete_preset(preset.name)
            except (StoreError, sqlite3.Error) as exc:
                self._error("Delete failed", str(exc))
                return
            self.reload()
            self.notify(
                sanitize(f"Deleted preset “{preset.name}”.", keep_newlines=False),
                timeout=3,
                markup=False,
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Delete preset “{preset.name}”?",
                [
                    f"Sampling: {describe_params(preset.params)}",
                    f"Grammar: {describe_grammar(preset.grammar)}",
                ],
                confirm_label="Delete",
                danger=True,
            ),
            done,
        )

    def action_close(self) -> None:
        self.dismiss(None)

    def _error(self, title: str, message: str) -> None:
        self.notify(
            sanitize(message, keep_newlines=False),
            title=title,
            severity="error",
            timeout=10,
            markup=False,
        )
