"""The GBNF grammar editor: highlighting, live diagnostics, the error marked, a problem list.

There is no tree-sitter grammar for GBNF, so highlighting comes from
``inferd_tui.grammar.tokenize`` through ``TextArea.get_line`` (the hook Textual documents
for styling lines). Diagnostics run ``check`` (pure, a few milliseconds) once typing has
stopped for ``CHECK_DELAY`` seconds, mark each problem's span in the text and list it below
as ``line:col level message``; Enter or a click on an entry moves the cursor there.

An empty (or blank) grammar means "unconstrained" and is shown as such.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.color import Color
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.widgets.text_area import Edit, Selection

from inferd_tui.grammar import CheckResult, Diagnostic, check, tokenize
from inferd_tui.request_options import is_unconstrained
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for

#: Quiet time before a check; with the check's own few ms this stays under 150 ms.
CHECK_DELAY = 0.1

#: The theme's syntax-style names tried for each token kind (first found wins), and a
#: fallback for themes that define none of them.
_KIND_STYLES: dict[str, tuple[tuple[str, ...], Style]] = {
    "rule-name": (("function", "method"), Style(color="blue", bold=True)),
    "reference": (("variable", "type", "parameter"), Style(color="cyan")),
    "operator": (("operator", "keyword.operator"), Style(color="magenta")),
    "repeat": (("repeat", "keyword"), Style(color="magenta", bold=True)),
    "string": (("string",), Style(color="green")),
    "class": (("regex.operator", "number", "string"), Style(color="yellow")),
    "escape": (("constant.builtin", "boolean", "keyword"), Style(color="bright_yellow")),
    "token": (("tag", "constant.builtin"), Style(color="bright_magenta")),
    "comment": (("comment",), Style(color="bright_black", italic=True)),
    "error": ((), Style(color="red", underline=True)),
}

#: The problem list shows at most this many entries (every problem is still marked).
MAX_LISTED = 100

_EMPTY_RESULT = CheckResult(None, [])


class Markable(Protocol):
    """What the editor needs of a diagnostic to mark it (GBNF and JSON-schema ones)."""

    @property
    def offset(self) -> int: ...
    @property
    def end_offset(self) -> int: ...
    @property
    def level(self) -> str: ...


def summarize(result: CheckResult, source: str) -> str:
    """One line: unconstrained, valid, or how many errors and warnings."""
    if is_unconstrained(source):
        return "No grammar: answers are unconstrained."
    errors, warnings = len(result.errors), len(result.warnings)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' * (errors != 1)}")
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    if errors:
        return f"✗ {', '.join(parts)}: llama.cpp would reject this grammar."
    rules = len(result.grammar.definitions()) if result.grammar is not None else 0
    valid = f"✓ valid ({rules} rule{'s' * (rules != 1)})"
    return f"{valid}, {', '.join(parts)}." if parts else f"{valid}."


class GrammarTextArea(TextArea):
    """A TextArea that highlights GBNF tokens and marks diagnostic spans.

    Subclasses highlight another language by overriding :meth:`tokens` and
    ``KIND_STYLES`` (the JSON editors do).
    """

    #: Token kind → (the theme's syntax-style names tried in order, a fallback style).
    KIND_STYLES: ClassVar[dict[str, tuple[tuple[str, ...], Style]]] = _KIND_STYLES

    def __init__(self, text: str = "", **kwargs: object) -> None:
        kwargs.setdefault("language", None)
        super().__init__(text, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]
        self._line_tokens: list[list[tuple[int, int, str]]] | None = None
        self._marks: dict[int, list[tuple[int, int, str]]] = {}
        self._mark_styles: dict[str, Style] = {}
        self._kind_styles: dict[str, Style] = {}

    # -- undo -----------------------------------------------------------------------------

    # Textual 8.2.8 re-measures the text (and scrolls to the cursor) after undoing an edit
    # but before it restores the cursor: undoing a replacement that made the text longer
    # (loading an example) with the cursor below the old end raises ValueError. With the
    # cursor parked at the start first, the re-measure is safe; the undo then puts the
    # cursor where it belongs.
    def _undo_batch(self, edits: Sequence[Edit]) -> None:
        self.selection = Selection.cursor((0, 0))
        super()._undo_batch(edits)

    def _redo_batch(self, edits: Sequence[Edit]) -> None:
        self.selection = Selection.cursor((0, 0))
        super()._redo_batch(edits)

    # -- highlighting ---------------------------------------------------------------------

    def _build_highlight_map(self) -> None:
        # Called by TextArea after every edit and document change; it also clears the line
        # cache. There is no tree-sitter query here, so only our own token map goes stale.
        super()._build_highlight_map()
        self._line_tokens = None

    def _watch_theme(self, theme: str) -> None:
        super()._watch_theme(theme)
        self._kind_styles = {}
        self._mark_styles = {}

    def _app_theme_changed(self) -> None:
        super()._app_theme_changed()
        self._kind_styles = {}
        self._mark_styles = {}
        self._line_cache.clear()

    def _line_starts(self) -> list[int]:
        newline = len(self.document.newline)
        starts = [0]
        for line in self.document.lines[:-1]:
            starts.append(starts[-1] + len(line) + newline)
        return starts

    def location_of(self, offset: int, starts: list[int] | None = None) -> tuple[int, int]:
        """The (row, column) of an offset into ``self.text``, clamped to the document."""
        if starts is None:
            starts = self._line_starts()
        offset = max(0, offset)
        row = bisect.bisect_right(starts, offset) - 1
        line = self.document.lines[row]
        return row, min(offset - starts[row], len(line))

    def _tokens_for(self, line_index: int) -> list[tuple[int, int, str]]:
        if self._line_tokens is None:
            lines = self.document.lines
            starts = self._line_starts()
            per_line: list[list[tuple[int, int, str]]] = [[] for _ in lines]
            for start, end, kind in self.tokens(self.text):
                row = bisect.bisect_right(starts, start) - 1
                # Tokens never cross a line break today; split them anyway, defensively.
                while row < len(lines) and start < end:
                    line_end = starts[row] + len(lines[row])
                    stop = min(end, line_end)
                    if stop > start:
                        per_line[row].append((start - starts[row], stop - starts[row], kind))
                    row += 1
                    if row < len(lines):
                        start = max(start, starts[row])
            self._line_tokens = per_line
        if 0 <= line_index < len(self._line_tokens):
            return self._line_tokens[line_index]
        return []

    def tokens(self, text: str) -> Iterable[tuple[int, int, str]]:
        """(start, end, kind) of each highlighted token of ``text``."""
        return ((token.start, token.end, token.kind) for token in tokenize(text))

    def _kind_style(self, kind: str) -> Style | None:
        if not self._kind_styles:
            theme = self._theme
            styles = theme.syntax_styles if theme else {}
            for name, (candidates, fallback) in self.KIND_STYLES.items():
                found = next((styles[c] for c in candidates if c in styles), fallback)
                self._kind_styles[name] = found
        return self._kind_styles.get(kind)

    def _mark_style(self, level: str) -> Style:
        style = self._mark_styles.get(level)
        if style is None:
            app_theme = self.app.current_theme
            if level == "error":
                tone = app_theme.error or "red"
            elif level == "warning":
                tone = app_theme.warning or "yellow"
            else:
                tone = app_theme.accent or "blue"
            base = Color.parse(app_theme.surface or ("#1e1e1e" if app_theme.dark else "#ffffff"))
            background = base.blend(Color.parse(tone), 0.45)
            style = Style(underline=True, bold=level == "error", bgcolor=background.rich_color)
            self._mark_styles[level] = style
        return style

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        for start, end, kind in self._tokens_for(line_index):
            style = self._kind_style(kind)
            if style is not None:
                line.stylize(style, start, end)
        marks = self._marks.get(line_index)
        if marks:
            length = len(line)
            for start, end, level in marks:
                if start >= length:
                    # A problem at the end of a line (e.g. a missing closer): mark one cell.
                    line.append(" ")
                    length += 1
                line.stylize(self._mark_style(level), start, max(end, start + 1))
        return line

    # -- diagnostics ----------------------------------------------------------------------

    def set_marks(self, diagnostics: Sequence[Markable]) -> None:
        """Mark each diagnostic's span; offsets refer to the text that was checked."""
        marks: dict[int, list[tuple[int, int, str]]] = {}
        starts = self._line_starts()
        for diagnostic in diagnostics:
            start_row, start_col = self.location_of(diagnostic.offset, starts)
            end = max(diagnostic.end_offset, diagnostic.offset)
            end_row, end_col = self.location_of(end, starts)
            for row in range(start_row, end_row + 1):
                first = start_col if row == start_row else 0
                last = end_col if row == end_row else len(self.document.lines[row])
                marks.setdefault(row, []).append((first, last, diagnostic.level))
        # Errors are stylized last, so they win where spans overlap.
        for row_marks in marks.values():
            row_marks.sort(key=lambda mark: mark[2] == "error")
        self._marks = marks
        self._line_cache.clear()
        self.refresh()

    @property
    def marked_spans(self) -> dict[int, list[tuple[int, int, str]]]:
        """Row → [(start column, end column, level)] currently marked (for tests)."""
        return {row: list(spans) for row, spans in self._marks.items()}


class GrammarEditor(Vertical):
    """A GBNF editor with live diagnostics; posts ``GrammarEditor.Checked`` after each check."""

    DEFAULT_CSS = """
    GrammarEditor { height: auto; }
    GrammarEditor > GrammarTextArea { height: 10; min-height: 4; }
    GrammarEditor > GrammarTextArea.-textual-compact { height: 8; background: $boost; }
    GrammarEditor > #grammar-status { height: auto; padding: 0 1; color: $text-muted; }
    GrammarEditor > #grammar-status.-errors { color: $text-error; }
    GrammarEditor > #grammar-status.-valid { color: $text-success; }
    GrammarEditor > #grammar-problems { height: auto; max-height: 8; }
    GrammarEditor > #grammar-clear { width: auto; min-width: 0; margin: 0 0 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("grammar-editor")

    @dataclass
    class Checked(Message):
        """Posted after each check, with the text that was checked."""

        editor: GrammarEditor
        result: CheckResult
        source: str

        @property
        def control(self) -> GrammarEditor:
            return self.editor

    def __init__(
        self,
        source: str = "",
        *,
        show_line_numbers: bool = True,
        show_clear: bool = True,
        compact: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text_area = GrammarTextArea(
            source,
            id="grammar-text",
            show_line_numbers=show_line_numbers,
            compact=compact,
            placeholder='Empty: unconstrained. Type GBNF, e.g. root ::= "yes" | "no"',
        )
        self._show_clear = show_clear
        self._compact = compact
        self._result: CheckResult = _EMPTY_RESULT
        self._checked_source: str | None = None
        self._timer: Timer | None = None
        # ``is_mounted`` only turns true after on_mount; the children exist from its start.
        self._ready = False

    def compose(self) -> ComposeResult:
        yield self._text_area
        yield Static(id="grammar-status", markup=False)
        yield OptionList(id="grammar-problems", compact=self._compact)
        if self._show_clear:
            yield Button(
                "Clear grammar",
                id="grammar-clear",
                compact=self._compact,
                tooltip="Empty the grammar (answers become unconstrained); Ctrl+Z undoes it.",
            )

    def on_mount(self) -> None:
        self._ready = True
        self.query_one("#grammar-problems", OptionList).display = False
        self.watch(self.app, "theme", self._follow_app_theme)
        self.flush_check()

    def _follow_app_theme(self) -> None:
        self._text_area.theme = "css" if self.app.current_theme.dark else "github_light"

    # -- public API -----------------------------------------------------------------------

    @property
    def text_area(self) -> GrammarTextArea:
        return self._text_area

    @property
    def source(self) -> str:
        """The grammar as typed (the TextArea's text)."""
        return self._text_area.text

    @property
    def result(self) -> CheckResult:
        """The last check's result (no diagnostics for an empty grammar)."""
        return self._result

    def set_source(self, text: str, *, undoable: bool = False) -> None:
        """Replace the grammar and check it at once.

        With ``undoable`` the replacement is an ordinary edit, so Ctrl+Z brings the old text
        back; otherwise the edit history starts afresh.
        """
        area = self._text_area
        if undoable and self._ready:
            area.replace(text, area.document.start, area.document.end)
        else:
            area.load_text(text)
        if self._ready:
            self.flush_check()

    def clear(self) -> None:
        """Empty the grammar (undoable)."""
        self.set_source("", undoable=True)

    def goto(self, line: int, column: int) -> None:
        """Move the cursor to a 1-based line and column (clamped) and focus the text."""
        area = self._text_area
        lines = area.document.lines
        row = min(max(line, 1), len(lines)) - 1
        col = min(max(column, 1) - 1, len(lines[row]))
        area.move_cursor((row, col), center=True)
        area.focus()

    def flush_check(self) -> CheckResult:
        """Run a pending (or a fresh) check now, post ``Checked`` and return the result."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        return self._run_check()

    @property
    def check_pending(self) -> bool:
        return self._timer is not None

    # -- checking -------------------------------------------------------------------------

    @on(TextArea.Changed, "#grammar-text")
    def _schedule_check(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.reset()
        else:
            self._timer = self.set_timer(CHECK_DELAY, self._on_timer, name="grammar-check")

    def _on_timer(self) -> None:
        self._timer = None
        if self._text_area.text != self._checked_source:
            self._run_check()

    def _run_check(self) -> CheckResult:
        source = self._text_area.text
        result = _EMPTY_RESULT if is_unconstrained(source) else check(source)
        self._result = result
        self._checked_source = source
        self._show(result, source)
        self.post_message(self.Checked(self, result, source))
        return result

    def _show(self, result: CheckResult, source: str) -> None:
        self._text_area.set_marks(result.diagnostics)
        status = self.query_one("#grammar-status", Static)
        status.update(Text(summarize(result, source)))
        status.set_class(bool(result.errors), "-errors")
        status.set_class(result.ok and not is_unconstrained(source), "-valid")
        problems = self.query_one("#grammar-problems", OptionList)
        problems.clear_options()
        shown = result.diagnostics[:MAX_LISTED]
        problems.add_options(Option(_diagnostic_text(d), id=str(i)) for i, d in enumerate(shown))
        hidden = len(result.diagnostics) - len(shown)
        if hidden:
            more = Text(f"… {hidden} more (fix the ones above first; F8 visits every one)")
            problems.add_option(Option(more, disabled=True))
        problems.display = bool(result.diagnostics)

    # -- navigation -----------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#grammar-problems")
    def _jump_to_problem(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        diagnostics = self._result.diagnostics
        if event.option.id is not None and int(event.option.id) < len(diagnostics):
            diagnostic = diagnostics[int(event.option.id)]
            self.goto(diagnostic.line, diagnostic.column)

    @on(Button.Pressed, "#grammar-clear")
    def _clear_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.clear()
        self._text_area.focus()

    def _step_problem(self, forward: bool) -> None:
        diagnostics = self._result.diagnostics
        if not diagnostics:
            self.notify("No problems in this grammar.", timeout=2)
            return
        row, col = self._text_area.cursor_location
        here = (row + 1, col + 1)
        positions = [(d.line, d.column) for d in diagnostics]
        if forward:
            target = next((p for p in positions if p > here), positions[0])
        else:
            target = next((p for p in reversed(positions) if p < here), positions[-1])
        self.goto(*target)

    def action_next_problem(self) -> None:
        self._step_problem(forward=True)

    def action_previous_problem(self) -> None:
        self._step_problem(forward=False)


def _diagnostic_text(diagnostic: Diagnostic) -> Text:
    """``line:col level message`` (and the hint, dimmed), never interpreted as markup."""
    level_style = {"error": "bold red", "warning": "yellow"}.get(diagnostic.level, "cyan")
    text = Text(no_wrap=False)
    text.append(f"{diagnostic.line}:{diagnostic.column} ")
    text.append(diagnostic.level, style=level_style)
    text.append(" " + sanitize(diagnostic.message, keep_newlines=False))
    if diagnostic.hint:
        text.append("\n  hint: " + sanitize(diagnostic.hint, keep_newlines=False), style="dim")
    return text
