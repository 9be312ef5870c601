"""Ctrl+L: every saved conversation — open, rename, delete, full-text search, export, import.

Dismisses with the id of the conversation to open, or None. When it was opened from a
search hit, :attr:`ConversationsScreen.opened_turn_position` says which turn matched, so
the caller can scroll there.

Titles, snippets, paths and error messages are user or file data: they are shown as
``rich.text.Text`` built from sanitized plain text, never as markup.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from inferd_tui.files import describe_os_error, write_text_atomically
from inferd_tui.store import (
    ConversationRecord,
    HighlightedText,
    ImportFormatError,
    SearchHit,
    Store,
    StoreError,
)
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for
from inferd_tui.ui.screens.dialogs import (
    ConfirmDialog,
    ExportChoice,
    ExportDialog,
    TextInputDialog,
    expand_path,
    plain,
)
from inferd_tui.ui.widgets.key_footer import KeyFooter

#: The list shows this many of the most recently updated conversations; search finds all.
LIST_LIMIT = 500
#: Search results shown at most.
SEARCH_LIMIT = 100
#: A file bigger than this is not read for import.
IMPORT_MAX_BYTES = 64 * 1024 * 1024
#: How the matching words of a search hit are drawn (a Rich style, not markup).
HIGHLIGHT_STYLE = "bold black on yellow"
UPDATED_WIDTH = 12
BOX_MAX_WIDTH = 160


def slug(title: str, max_chars: int = 40) -> str:
    """A file-name-safe version of a title: lowercase ASCII words joined by dashes."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    text = "-".join(words)[:max_chars].strip("-")
    return text or "conversation"


def default_export_stem(record: ConversationRecord) -> str:
    """``~/inferd-<id>-<slug>`` (the dialog adds .md or .json)."""
    return f"~/inferd-{record.id}-{slug(record.title)}"


def highlighted(snippet: HighlightedText, style: str = HIGHLIGHT_STYLE) -> Text:
    """A search snippet with its spans styled; each piece is sanitized on its own.

    Sanitizing piece by piece keeps the spans right even where a control character is
    replaced by a longer visible form.
    """
    text = Text(no_wrap=False)
    source = snippet.text
    cursor = 0
    for start, end in sorted(snippet.spans):
        start, end = max(start, cursor), min(end, len(source))
        if start >= end:
            continue
        text.append(sanitize(source[cursor:start], keep_newlines=False))
        text.append(sanitize(source[start:end], keep_newlines=False), style=style)
        cursor = end
    text.append(sanitize(source[cursor:], keep_newlines=False))
    return text


def when(moment: datetime, now: datetime | None = None) -> str:
    """A short local time: "14:05" today, "Mar 02 14:05" this year, else "2023-03-02"."""
    local = moment.astimezone()
    now = (now or datetime.now()).astimezone()
    if local.date() == now.date():
        return local.strftime("%H:%M")
    if local.year == now.year:
        return local.strftime("%b %d %H:%M")
    return local.strftime("%Y-%m-%d")


class ConversationsScreen(ModalScreen[int | None]):
    """The conversation list and full-text search over every turn."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("conversations")

    DEFAULT_CSS = """
    ConversationsScreen { align: center middle; }
    ConversationsScreen #conversations-box {
        width: 95%; max-width: 160; height: 1fr; max-height: 60;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ConversationsScreen #not-saving {
        display: none; height: 1; background: $warning 25%; color: $text;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    ConversationsScreen #not-saving.visible { display: block; }
    ConversationsScreen #list-note {
        height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ConversationsScreen #conversation-table { height: 1fr; }
    ConversationsScreen #search-hits { height: 1fr; display: none; }
    ConversationsScreen.-searching #search-hits { display: block; }
    ConversationsScreen.-searching #conversation-table { display: none; }
    ConversationsScreen #conversation-detail {
        height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        #: Set when a search hit was opened: the position of the turn that matched.
        self.opened_turn_position: int | None = None
        self._records: list[ConversationRecord] = []
        self._hits: list[SearchHit] = []
        self._more_than_limit = False
        self._columns_for = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations-box") as box:
            box.border_title = "Conversations"
            yield Static(id="not-saving")
            yield Input(
                placeholder="Search every conversation (/) — words, last one as a prefix",
                id="conversation-search",
            )
            yield Static(id="list-note")
            yield DataTable(id="conversation-table", cursor_type="row", zebra_stripes=True)
            yield OptionList(id="search-hits")
            yield Static(id="conversation-detail")
        yield KeyFooter()

    # --- widgets ----------------------------------------------------------------------

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#conversation-table", DataTable)

    @property
    def hit_list(self) -> OptionList:
        return self.query_one("#search-hits", OptionList)

    @property
    def search_input(self) -> Input:
        return self.query_one("#conversation-search", Input)

    @property
    def searching(self) -> bool:
        return self.has_class("-searching")

    def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def on_resize(self) -> None:
        if self._title_width() != self._columns_for:
            self.reload()

    def _box_width(self) -> int:
        """Cells inside the box (its border and padding taken off)."""
        return min(self.app.size.width * 95 // 100, BOX_MAX_WIDTH) - 4

    def _title_width(self) -> int:
        """The Title column's width: what the box leaves after the Updated column."""
        # Two columns with one cell of padding each side, and the vertical scrollbar.
        return max(16, self._box_width() - UPDATED_WIDTH - 4 - 2)

    # --- listing ----------------------------------------------------------------------

    def reload(self, select_id: int | None = None) -> None:
        """Re-read the list, keeping the cursor on ``select_id`` (or where it was)."""
        previous_row = self.table.cursor_row
        try:
            records = self.store.list_conversations(limit=LIST_LIMIT + 1)
        except (StoreError, sqlite3.Error) as exc:
            self._error("Can't read conversations", str(exc))
            records = []
        self._more_than_limit = len(records) > LIST_LIMIT
        self._records = records[:LIST_LIMIT]
        table = self.table
        title_width = self._title_width()
        if title_width != self._columns_for:
            table.clear(columns=True)
            table.add_column("Title", width=title_width, key="title")
            table.add_column("Updated", width=UPDATED_WIDTH, key="updated")
            self._columns_for = title_width
        else:
            table.clear()
        for record in self._records:
            table.add_row(*self._cells(record), key=str(record.id))
        if self._records:
            row = previous_row
            if select_id is not None:
                row = next(
                    (i for i, record in enumerate(self._records) if record.id == select_id), row
                )
            table.move_cursor(row=max(0, min(row, len(self._records) - 1)), animate=False)
        self._update_not_saving()
        self._update_note()
        self._update_detail()
        if self.searching:
            self._run_search(self.search_input.value)

    def _cells(self, record: ConversationRecord) -> tuple[Text, Text]:
        title = Text(sanitize(record.title, keep_newlines=False), no_wrap=True)
        title.truncate(self._columns_for, overflow="ellipsis")
        return title, Text(when(record.updated_at), style="dim")

    def _update_not_saving(self) -> None:
        note = self.query_one("#not-saving", Static)
        reason = self.store.degraded
        if reason is not None:
            note.update(plain(f"not saving: {reason.title} — {reason.detail}", one_line=True))
        elif self.store.path is None:
            note.update(Text("not saving: this session keeps everything in memory (--no-save)"))
        note.set_class(reason is not None or self.store.path is None, "visible")

    def _update_note(self) -> None:
        note = self.query_one("#list-note", Static)
        if self.searching:
            query = self.search_input.value.strip()
            count = len(self._hits)
            if count == 0:
                message = f"No turn matches {query!r}. Esc clears the search."
            else:
                more = f" (the best {SEARCH_LIMIT})" if count >= SEARCH_LIMIT else ""
                message = f"{count} matching turn{'s' if count != 1 else ''}{more}"
                message += " · ↑/↓ choose · Enter opens at that turn · Esc clears"
            note.update(plain(message, one_line=True))
            return
        count = len(self._records)
        if count == 0:
            message = "No saved conversations yet. Your chats appear here; i imports a JSON export."
        elif self._more_than_limit:
            message = f"The {LIST_LIMIT} most recently updated conversations; / searches them all."
        else:
            message = f"{count} conversation{'s' if count != 1 else ''}, most recent first."
        note.update(Text(message))

    def _update_detail(self) -> None:
        detail = self.query_one("#conversation-detail", Static)
        record = self._highlighted_record()
        if record is None:
            detail.update("")
            return
        parts = [f"#{record.id}"]
        try:
            count = len(self.store.turns(record.id))
            parts.append(f"{count} turn{'s' if count != 1 else ''}")
        except (StoreError, sqlite3.Error):
            pass
        parts.append(f"created {record.created_at.astimezone():%Y-%m-%d %H:%M}")
        if record.params:
            parts.append(", ".join(f"{name} {value}" for name, value in record.params.items()))
        if record.grammar:
            parts.append("grammar")
        if record.system_prompt:
            parts.append("system prompt")
        detail.update(plain(" · ".join(parts), one_line=True))

    @on(DataTable.RowHighlighted, "#conversation-table")
    def _on_row_highlighted(self) -> None:
        self._update_detail()

    @on(OptionList.OptionHighlighted, "#search-hits")
    def _on_hit_highlighted(self) -> None:
        self._update_detail()

    # --- which conversation -----------------------------------------------------------

    def _highlighted_hit(self) -> SearchHit | None:
        index = self.hit_list.highlighted
        if index is None or not 0 <= index < len(self._hits):
            return None
        return self._hits[index]

    def _highlighted_record(self) -> ConversationRecord | None:
        if self.searching:
            hit = self._highlighted_hit()
            if hit is None:
                return None
            record = next((r for r in self._records if r.id == hit.conversation_id), None)
            if record is not None:
                return record
            try:
                return self.store.get_conversation(hit.conversation_id)
            except (StoreError, sqlite3.Error):
                return None
        row = self.table.cursor_row
        if not self._records or not 0 <= row < len(self._records):
            return None
        return self._records[row]

    # --- search -----------------------------------------------------------------------

    def action_search(self) -> None:
        # Focus at once (not deferred like Widget.focus), so keys typed right after the
        # slash land in the search box.
        self.set_focus(self.search_input)

    @on(Input.Changed, "#conversation-search")
    def _on_search_changed(self, event: Input.Changed) -> None:
        self._run_search(event.value)

    def _run_search(self, query: str) -> None:
        if not query.strip():
            self._hits = []
            self.hit_list.clear_options()
            self.remove_class("-searching")
            self._update_note()
            self._update_detail()
            return
        try:
            hits = self.store.search(query, limit=SEARCH_LIMIT)
        except (StoreError, sqlite3.Error) as exc:
            self._error("Search failed", str(exc))
            hits = []
        self._hits = hits
        hit_list = self.hit_list
        hit_list.clear_options()
        hit_list.add_options(Option(self._hit_prompt(hit)) for hit in hits)
        if hits:
            hit_list.highlighted = 0
        self.add_class("-searching")
        self._update_note()
        self._update_detail()

    def _hit_prompt(self, hit: SearchHit) -> Text:
        where = f"  {hit.role} · turn {hit.position + 1}"
        # The title line stays one line: cut the title to what the list leaves beside `where`.
        # The hit list's border, padding and scrollbar take 6 cells.
        room = max(10, self._box_width() - 6 - len(where))
        prompt = Text(sanitize(hit.conversation_title, keep_newlines=False), style="bold")
        prompt.truncate(room, overflow="ellipsis")
        prompt.append(where, style="dim")
        prompt.append("\n  ")
        prompt.append_text(highlighted(hit.snippet))
        return prompt

    @on(Input.Submitted, "#conversation-search")
    def _on_search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_open()

    @on(OptionList.OptionSelected, "#search-hits")
    def _on_hit_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    @on(DataTable.RowSelected, "#conversation-table")
    def _on_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_cursor_up(self) -> None:
        if self.searching:
            self.hit_list.action_cursor_up()
        else:
            self.table.action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.searching:
            self.hit_list.action_cursor_down()
        else:
            self.table.action_cursor_down()

    # --- open and close ---------------------------------------------------------------

    def action_open(self) -> None:
        if self.searching:
            hit = self._highlighted_hit()
            if hit is not None:
                self.opened_turn_position = hit.position
                self.dismiss(hit.conversation_id)
            return
        record = self._highlighted_record()
        if record is not None:
            self.opened_turn_position = None
            self.dismiss(record.id)

    def action_close(self) -> None:
        if self.search_input.value:
            self.search_input.value = ""
            self._run_search("")
            self.table.focus()
            return
        self.dismiss(None)

    # --- rename -----------------------------------------------------------------------

    def action_rename(self) -> None:
        record = self._highlighted_record()
        if record is None:
            return

        def done(title: str | None) -> None:
            if title is None or not title.strip() or title.strip() == record.title:
                return
            try:
                self.store.rename_conversation(record.id, title.strip())
            except (StoreError, sqlite3.Error) as exc:
                self._error("Rename failed", str(exc))
                return
            self.reload(select_id=record.id)
            self._info(f"Renamed to “{title.strip()}”.")

        self.app.push_screen(
            TextInputDialog("Rename conversation", record.title, placeholder="title"), done
        )

    # --- delete -----------------------------------------------------------------------

    def action_delete(self) -> None:
        record = self._highlighted_record()
        if record is None:
            return
        try:
            count = len(self.store.turns(record.id))
        except (StoreError, sqlite3.Error):
            count = None
        lines = [
            f"{count} turn{'s' if count != 1 else ''}, last updated {when(record.updated_at)}."
            if count is not None
            else f"Last updated {when(record.updated_at)}.",
            "This cannot be undone (export it first with x if you may want it back).",
        ]

        def done(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                self.store.delete_conversation(record.id)
            except (StoreError, sqlite3.Error) as exc:
                self._error("Delete failed", str(exc))
                return
            self.reload()
            self._info(f"Deleted “{record.title}”.")
            if self.searching:
                self.hit_list.focus()
            else:
                self.table.focus()

        self.app.push_screen(
            ConfirmDialog(f"Delete “{record.title}”?", lines, confirm_label="Delete", danger=True),
            done,
        )

    # --- export -----------------------------------------------------------------------

    def action_export(self) -> None:
        record = self._highlighted_record()
        if record is not None:
            self._ask_export(record)

    def _ask_export(
        self,
        record: ConversationRecord,
        again: ExportChoice | None = None,
        error: str | None = None,
    ) -> None:
        """The export dialog; after a failure (``again``) with the same path and the reason."""

        def chosen(choice: ExportChoice | None) -> None:
            if choice is None:
                return
            if choice.path.exists() and not choice.path.is_dir():

                def overwrite(confirmed: bool | None) -> None:
                    if confirmed:
                        self._export(record, choice)
                    else:  # back to the dialog to pick another name
                        self._ask_export(record, choice)

                self.app.push_screen(
                    ConfirmDialog(
                        "Overwrite the existing file?",
                        [str(choice.path)],
                        confirm_label="Overwrite",
                        danger=True,
                    ),
                    overwrite,
                )
                return
            self._export(record, choice)

        dialog = ExportDialog(
            f"Export “{record.title}”",
            default_export_stem(record),
            again.format if again else "markdown",
            path_text=str(again.path) if again else None,
            error=error,
            with_attachments=again.with_attachments if again else False,
        )
        self.app.push_screen(dialog, chosen)

    def _export(self, record: ConversationRecord, choice: ExportChoice) -> None:
        try:
            if choice.format == "json":
                content = self.store.export_json(
                    record.id, with_attachments=choice.with_attachments
                )
            else:
                content = self.store.export_markdown(record.id)
        except (StoreError, sqlite3.Error) as exc:
            self._error("Export failed", str(exc))
            return
        try:
            write_text_atomically(choice.path, content)
        except OSError as exc:
            reason = f"Couldn't write {choice.path}: {describe_os_error(exc)}"
            self._ask_export(record, choice, reason)  # the path typed stays to be fixed
            return
        what = "JSON" if choice.format == "json" else "Markdown"
        self._info(f"Exported “{record.title}” as {what} to {choice.path}.")

    # --- import -----------------------------------------------------------------------

    def action_import(self) -> None:
        def chosen(path_text: str | None) -> None:
            if path_text is None or not path_text.strip():
                return
            self._import(expand_path(path_text))

        self.app.push_screen(
            TextInputDialog(
                "Import a conversation from JSON",
                "~/",
                hint="A file written by Export as JSON. Enter imports · Esc cancels",
                placeholder="path to a .json export",
            ),
            chosen,
        )

    def _import(self, path: Path) -> None:
        try:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
            if path.stat().st_size > IMPORT_MAX_BYTES:
                self._error(
                    "Import failed",
                    f"{path} is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MiB;"
                    " that is not a conversation export.",
                )
                return
            data = path.read_bytes()
        except OSError as exc:
            self._error("Import failed", f"Couldn't read {path}: {describe_os_error(exc)}")
            return
        try:
            text = data.decode("utf-8")
            new_id = self.store.import_json(text)
            record = self.store.get_conversation(new_id)
            count = len(self.store.turns(new_id))
        except UnicodeDecodeError:
            self._error("Import failed", f"{path} is not UTF-8 text, so not a JSON export.")
            return
        except ImportFormatError as exc:
            self._error("Import failed", f"{path} is not an inferd-tui JSON export: {exc}")
            return
        except (StoreError, sqlite3.Error) as exc:
            self._error("Import failed", str(exc))
            return
        if self.search_input.value:
            self.search_input.value = ""
            self._run_search("")
        self.reload(select_id=new_id)
        self.table.focus()
        self._info(f"Imported “{record.title}” ({count} turn{'s' if count != 1 else ''}).")

    # --- messages ---------------------------------------------------------------------

    def _error(self, title: str, message: str) -> None:
        self.notify(
            sanitize(message, keep_newlines=False),
            title=title,
            severity="error",
            timeout=10,
            markup=False,
        )

    def _info(self, message: str) -> None:
        self.notify(sanitize(message, keep_newlines=False), timeout=4, markup=False)
