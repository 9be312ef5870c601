"""Ctrl+R: find an earlier prompt by typing any words of it; Enter puts it back in the box.

Dismisses with the chosen prompt's text, or None. Prompts are untrusted text: shown as
``rich.text.Text`` built from sanitized plain text, never as markup.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from inferd_tui.store import Store, StoreError
from inferd_tui.text_safety import clip, sanitize
from inferd_tui.ui.bindings import bindings_for
from inferd_tui.ui.widgets.key_footer import KeyFooter

#: How many stored prompts are read when the screen opens (the store keeps about 1,000).
STORED_PROMPTS = 2000
#: Matches listed at most.
MATCH_LIMIT = 200
#: Characters of a prompt shown on its line in the list, and in the preview.
LINE_CHARS = 300
PREVIEW_CHARS = 4000
MATCH_STYLE = "bold black on yellow"


def merge_history(session: Sequence[str], stored: Iterable[str]) -> list[str]:
    """Distinct prompts, newest first: this session's (oldest first, as the prompt box keeps
    them) ahead of the stored ones (newest first, as the store returns them)."""
    seen: set[str] = set()
    merged: list[str] = []
    for text in (*reversed(session), *stored):
        if text.strip() and text not in seen:
            seen.add(text)
            merged.append(text)
    return merged


def matches(prompts: Iterable[str], query: str, limit: int = MATCH_LIMIT) -> list[str]:
    """Prompts containing every word of ``query`` (any case, any order), in input order."""
    terms = query.casefold().split()
    found: list[str] = []
    for text in prompts:
        folded = text.casefold()
        if all(term in folded for term in terms):
            found.append(text)
            if len(found) >= limit:
                break
    return found


def match_line(text: str, query: str, max_chars: int = LINE_CHARS) -> Text:
    """One line for the list: the prompt, newlines shown as ⏎, the query's words styled."""
    shown, left_out = clip(sanitize(text, keep_newlines=False), max_chars)
    line = Text(shown + ("…" if left_out else ""), no_wrap=True, overflow="ellipsis")
    folded = shown.casefold()
    for term in query.casefold().split():
        # casefold can change lengths (ß → ss); only highlight where positions line up.
        if len(folded) != len(shown):
            break
        start = folded.find(term)
        while start != -1:
            line.stylize(MATCH_STYLE, start, start + len(term))
            start = folded.find(term, start + len(term))
    return line


class HistorySearchScreen(ModalScreen[str | None]):
    """Filter the prompt history as you type; newest first."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("history-search")

    DEFAULT_CSS = """
    HistorySearchScreen { align: center middle; }
    HistorySearchScreen #history-box {
        width: 95%; max-width: 140; height: 1fr; max-height: 40;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HistorySearchScreen #history-note {
        height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    HistorySearchScreen #history-matches { height: 1fr; }
    HistorySearchScreen #history-preview {
        height: auto; max-height: 8; border-top: hkey $panel-lighten-2; color: $text-muted;
    }
    """

    def __init__(self, store: Store, history: list[str]) -> None:
        """``history`` is the prompt box's history, oldest first."""
        super().__init__()
        self.store = store
        self._session = list(history)
        self._prompts: list[str] = []
        self._matches: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box") as box:
            box.border_title = "Prompt history"
            yield Input(placeholder="Type any words of an earlier prompt", id="history-query")
            yield Static(id="history-note")
            yield OptionList(id="history-matches")
            yield Static(id="history-preview")
        yield KeyFooter()

    @property
    def query_input(self) -> Input:
        return self.query_one("#history-query", Input)

    @property
    def match_list(self) -> OptionList:
        return self.query_one("#history-matches", OptionList)

    def on_mount(self) -> None:
        try:
            stored = self.store.prompt_history(STORED_PROMPTS)
        except (StoreError, sqlite3.Error):
            stored = []
        self._prompts = merge_history(self._session, stored)
        self._filter("")
        self.query_input.focus()

    @on(Input.Changed, "#history-query")
    def _on_query_changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, query: str) -> None:
        self._matches = matches(self._prompts, query)
        match_list = self.match_list
        match_list.clear_options()
        match_list.add_options(Option(match_line(text, query)) for text in self._matches)
        if self._matches:
            match_list.highlighted = 0
        self._update_note(query)
        self._update_preview()

    def _update_note(self, query: str) -> None:
        note = self.query_one("#history-note", Static)
        if not self._prompts:
            message = "No prompts yet: the ones you send are kept here across runs."
        elif not self._matches:
            message = "No earlier prompt contains all of those words."
        else:
            count = len(self._matches)
            limit = f" (first {MATCH_LIMIT})" if count >= MATCH_LIMIT else ""
            scope = f"of {len(self._prompts)} " if query.strip() else ""
            plural = count != 1 or (scope and len(self._prompts) != 1)  # "1 of 10 prompts"
            message = (
                f"{count}{limit} {scope}prompt{'s' if plural else ''}, newest first"
                " · ↑/↓ choose · Enter uses it · Esc cancels"
            )
        note.update(Text(message))

    @on(OptionList.OptionHighlighted, "#history-matches")
    def _on_highlighted(self) -> None:
        self._update_preview()

    def _update_preview(self) -> None:
        preview = self.query_one("#history-preview", Static)
        text = self._highlighted()
        if text is None:
            preview.update("")
            preview.display = False
            return
        shown, left_out = clip(sanitize(text), PREVIEW_CHARS)
        body = Text(shown)
        if left_out:
            body.append(f"\n… {left_out:,} more characters", style="italic")
        preview.update(body)
        preview.display = "\n" in text or len(text) > LINE_CHARS

    def _highlighted(self) -> str | None:
        index = self.match_list.highlighted
        if index is None or not 0 <= index < len(self._matches):
            return None
        return self._matches[index]

    def action_cursor_up(self) -> None:
        self.match_list.action_cursor_up()

    def action_cursor_down(self) -> None:
        self.match_list.action_cursor_down()

    @on(Input.Submitted, "#history-query")
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose()

    @on(OptionList.OptionSelected, "#history-matches")
    def _on_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose()

    def action_choose(self) -> None:
        text = self._highlighted()
        if text is not None:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
