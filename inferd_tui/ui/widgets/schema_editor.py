"""JSON editors with live diagnostics: the JSON-schema editor and the tools editor.

Both work like the GBNF editor (:mod:`inferd_tui.ui.widgets.grammar_editor`): once typing
has stopped for ``CHECK_DELAY`` seconds the text is checked (pure checks in
:mod:`inferd_tui.structured`: JSON syntax at line:column, the meta-schema through the
``jsonschema`` library), each problem's span is marked in the text and listed below as
``line:col path message``; Enter or a click on an entry moves the cursor there, F8 and
Shift+F8 visit them in turn, and a one-line summary says where things stand.

Highlighting: Textual's tree-sitter JSON highlighting when tree-sitter is installed; without
it (the default install: tree-sitter is a heavy optional dependency) a small regex tokenizer
colours keys, strings, numbers and keywords through the same ``get_line`` hook the GBNF
editor uses. This module is imported only when a daemon takes schemas or tools, or the
workbench switches to schema mode, so start-up does not pay for it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from inferd_tui.proto.chat import ToolSpec
from inferd_tui.structured import (
    SchemaDiagnostic,
    check_schema_text,
    check_tools_text,
    describe_schema,
)
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for
from inferd_tui.ui.widgets.grammar_editor import CHECK_DELAY, MAX_LISTED, GrammarTextArea

#: JSON tokens: a string (possibly unterminated while typing), a number, a keyword.
_JSON_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\\n]|\\.)*"?)
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<keyword>\b(?:true|false|null)\b)
    """,
    re.VERBOSE,
)
_KEY_FOLLOWS = re.compile(r"\s*:")


@functools.cache
def tree_sitter_json() -> bool:
    """True when Textual can highlight JSON itself (tree-sitter and its JSON grammar)."""
    try:
        from textual._tree_sitter import TREE_SITTER, get_language
    except ImportError:  # pragma: no cover - a private module of Textual moved
        return False
    return bool(TREE_SITTER) and get_language("json") is not None


def json_tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) for each key, string, number and keyword of ``text`` (JSON or
    JSON being typed: an unterminated string ends at the line's end)."""
    for match in _JSON_TOKEN.finditer(text):
        kind = match.lastgroup or "string"
        if kind == "string" and _KEY_FOLLOWS.match(text, match.end()):
            kind = "key"
        yield match.start(), match.end(), kind


class JsonTextArea(GrammarTextArea):
    """A TextArea for JSON that marks diagnostic spans (and highlights JSON)."""

    KIND_STYLES: ClassVar[dict[str, tuple[tuple[str, ...], Style]]] = {
        "key": (("json.label", "property", "tag"), Style(color="blue", bold=True)),
        "string": (("string",), Style(color="green")),
        "number": (("number",), Style(color="yellow")),
        "keyword": (("boolean", "constant.builtin", "keyword"), Style(color="magenta")),
    }

    def __init__(self, text: str = "", **kwargs: object) -> None:
        kwargs["language"] = "json" if tree_sitter_json() else None
        super().__init__(text, **kwargs)

    def tokens(self, text: str) -> Iterable[tuple[int, int, str]]:
        # With tree-sitter, Textual highlights; our tokens would only paint over it.
        return () if tree_sitter_json() else json_tokens(text)


@dataclass(frozen=True)
class JsonCheck:
    """One check of an editor's text: the value it stands for (None while invalid or
    blank), its problems, and the summary line."""

    value: Any
    diagnostics: tuple[SchemaDiagnostic, ...]
    summary: str
    blank: bool = False

    @property
    def ok(self) -> bool:
        return not self.diagnostics


class JsonEditor(Vertical):
    """A JSON editor with live diagnostics; subclasses say how the text is checked."""

    DEFAULT_CSS = """
    JsonEditor { height: auto; }
    JsonEditor > JsonTextArea { height: 10; min-height: 4; }
    JsonEditor > JsonTextArea.-textual-compact { height: 8; background: $boost; }
    JsonEditor > .json-status { height: auto; padding: 0 1; color: $text-muted; }
    JsonEditor > .json-status.-errors { color: $text-error; }
    JsonEditor > .json-status.-valid { color: $text-success; }
    JsonEditor > .json-problems { height: auto; max-height: 8; }
    JsonEditor > .json-examples { width: 1fr; margin: 0 0 0 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("json-editor")

    #: Shown as the text area's placeholder.
    PLACEHOLDER = "Empty: not sent. Type JSON."

    @dataclass
    class Checked(Message):
        """Posted after each check, with the text that was checked."""

        editor: JsonEditor
        result: JsonCheck
        source: str

        @property
        def control(self) -> JsonEditor:
            return self.editor

    def __init__(
        self,
        source: str = "",
        *,
        show_line_numbers: bool = True,
        compact: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text_area = JsonTextArea(
            source,
            classes="json-text",
            show_line_numbers=show_line_numbers,
            compact=compact,
            placeholder=self.PLACEHOLDER,
        )
        self._compact = compact
        self._result = JsonCheck(None, (), "", blank=True)
        self._checked_source: str | None = None
        self._timer: Timer | None = None
        # ``is_mounted`` only turns true after on_mount; the children exist from its start.
        self._ready = False

    def compose(self) -> ComposeResult:
        yield from self.compose_before()
        yield self._text_area
        yield Static(classes="json-status", markup=False)
        yield OptionList(classes="json-problems", compact=self._compact)

    def compose_before(self) -> ComposeResult:
        """Widgets above the text (none here)."""
        yield from ()

    def on_mount(self) -> None:
        self._ready = True
        self.query_one(".json-problems", OptionList).display = False
        self.watch(self.app, "theme", self._follow_app_theme)
        self.flush_check()

    def _follow_app_theme(self) -> None:
        self._text_area.theme = "css" if self.app.current_theme.dark else "github_light"

    # -- what subclasses say ------------------------------------------------------------

    def check(self, source: str) -> JsonCheck:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- public API -----------------------------------------------------------------------

    @property
    def text_area(self) -> JsonTextArea:
        return self._text_area

    @property
    def source(self) -> str:
        return self._text_area.text

    @property
    def result(self) -> JsonCheck:
        """The last check's result (run one now with :meth:`flush_check`)."""
        return self._result

    @property
    def summary(self) -> str:
        return self._result.summary

    @property
    def check_pending(self) -> bool:
        return self._timer is not None

    def set_source(self, text: str, *, undoable: bool = False) -> None:
        """Replace the text and check it at once (``undoable``: Ctrl+Z brings it back)."""
        area = self._text_area
        if undoable and self._ready:
            area.replace(text, area.document.start, area.document.end)
        else:
            area.load_text(text)
        if self._ready:
            self.flush_check()

    def goto(self, line: int, column: int) -> None:
        """Move the cursor to a 1-based line and column (clamped) and focus the text."""
        area = self._text_area
        lines = area.document.lines
        row = min(max(line, 1), len(lines)) - 1
        col = min(max(column, 1) - 1, len(lines[row]))
        area.move_cursor((row, col), center=True)
        area.focus()

    def flush_check(self) -> JsonCheck:
        """Run a pending (or a fresh) check now, post ``Checked`` and return the result."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        return self._run_check()

    def current(self) -> JsonCheck:
        """The check of the text as it is now (checked afresh if it changed since)."""
        if self._text_area.text != self._checked_source:
            return self.check(self._text_area.text)
        return self._result

    # -- checking -------------------------------------------------------------------------

    @on(TextArea.Changed, ".json-text")
    def _schedule_check(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.reset()
        else:
            self._timer = self.set_timer(CHECK_DELAY, self._on_timer, name="json-check")

    def _on_timer(self) -> None:
        self._timer = None
        if self._text_area.text != self._checked_source:
            self._run_check()

    def _run_check(self) -> JsonCheck:
        source = self._text_area.text
        result = self.check(source)
        self._result = result
        self._checked_source = source
        if self._ready:
            self._show(result)
        self.post_message(self.Checked(self, result, source))
        return result

    def _show(self, result: JsonCheck) -> None:
        self._text_area.set_marks(result.diagnostics)
        status = self.query_one(".json-status", Static)
        status.update(Text(result.summary))
        status.set_class(not result.ok, "-errors")
        status.set_class(result.ok and not result.blank, "-valid")
        problems = self.query_one(".json-problems", OptionList)
        problems.clear_options()
        shown = result.diagnostics[:MAX_LISTED]
        problems.add_options(Option(diagnostic_text(d), id=str(i)) for i, d in enumerate(shown))
        problems.display = bool(result.diagnostics)

    # -- navigation -----------------------------------------------------------------------

    @on(OptionList.OptionSelected, ".json-problems")
    def _jump_to_problem(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        diagnostics = self._result.diagnostics
        if event.option.id is not None and int(event.option.id) < len(diagnostics):
            diagnostic = diagnostics[int(event.option.id)]
            self.goto(diagnostic.line, diagnostic.column)

    def _step_problem(self, forward: bool) -> None:
        diagnostics = self._result.diagnostics
        if not diagnostics:
            self.notify("No problems here.", timeout=2)
            return
        row, col = self._text_area.cursor_location
        here = (row + 1, col + 1)
        positions = sorted({(d.line, d.column) for d in diagnostics})
        if forward:
            target = next((p for p in positions if p > here), positions[0])
        else:
            target = next((p for p in reversed(positions) if p < here), positions[-1])
        self.goto(*target)

    def action_next_problem(self) -> None:
        self._step_problem(forward=True)

    def action_previous_problem(self) -> None:
        self._step_problem(forward=False)


def _problems(count: int) -> str:
    return f"✗ {count} problem{'s' * (count != 1)}"


class SchemaEditor(JsonEditor):
    """The JSON-schema editor: ``value`` of a check is the schema (a dict) when valid.

    With ``show_examples`` a picker above the text loads one of the example schemas
    (undoable, like any edit).
    """

    PLACEHOLDER = 'Empty: free text. Type a JSON schema, e.g. {"type": "object"}'

    def __init__(self, source: str = "", *, show_examples: bool = False, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self._show_examples = show_examples

    def compose_before(self) -> ComposeResult:
        if self._show_examples:
            from inferd_tui.schema_examples import load_schema_examples

            yield Select(
                [(example.name, example.name) for example in load_schema_examples()],
                prompt="Load an example schema…",
                allow_blank=True,
                compact=True,
                classes="json-examples",
                tooltip="Replace the schema with an example (Ctrl+Z in the editor undoes it).",
            )

    def check(self, source: str) -> JsonCheck:
        if not source.strip():
            return JsonCheck(None, (), "No schema: answers are free text.", blank=True)
        result = check_schema_text(source)
        if result.diagnostics:
            return JsonCheck(None, result.diagnostics, _problems(len(result.diagnostics)))
        if not isinstance(result.schema, dict):
            # jsonschema accepts true/false schemas; response_format carries an object.
            problem = SchemaDiagnostic(
                "the daemon takes a schema object here, not true or false",
                "$",
                1,
                1,
                0,
                len(source),
            )
            return JsonCheck(None, (problem,), _problems(1))
        return JsonCheck(
            result.schema, (), f"✓ valid JSON schema ({describe_schema(result.schema)})"
        )

    @property
    def schema(self) -> dict[str, Any] | None:
        """The schema as typed now, when it is valid; None when blank or invalid."""
        value = self.current().value
        return value if isinstance(value, dict) else None

    @on(Select.Changed, ".json-examples")
    def _example_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if not isinstance(event.value, str):
            return
        from inferd_tui.schema_examples import get_schema_example

        example = get_schema_example(event.value)
        with self.prevent(Select.Changed):
            event.select.clear()
        self.set_source(example.source, undoable=True)
        self.notify(
            f"Loaded the example {example.name!r} (Ctrl+Z in the editor brings back your text).",
            timeout=3,
            markup=False,
        )


class ToolsEditor(JsonEditor):
    """The tools editor: ``value`` of a check is a tuple of ``ToolSpec`` when valid."""

    PLACEHOLDER = 'Empty: no tools. [{"name", "description", "input_schema"}, …]'

    def __init__(self, source: str = "", *, show_examples: bool = False, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self._show_examples = show_examples

    def compose_before(self) -> ComposeResult:
        if self._show_examples:
            from inferd_tui.schema_examples import load_tool_examples

            yield Select(
                [(name, name) for name in load_tool_examples()],
                prompt="Load example tools…",
                allow_blank=True,
                compact=True,
                classes="json-examples",
                tooltip="Replace the tools with an example (Ctrl+Z in the editor undoes it).",
            )

    @on(Select.Changed, ".json-examples")
    def _example_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if not isinstance(event.value, str):
            return
        from inferd_tui.schema_examples import load_tool_examples

        with self.prevent(Select.Changed):
            event.select.clear()
        self.set_source(load_tool_examples()[event.value], undoable=True)
        self.notify(
            f"Loaded the example tools {event.value!r} (Ctrl+Z in the editor brings back "
            "your text).",
            timeout=3,
            markup=False,
        )

    def check(self, source: str) -> JsonCheck:
        if not source.strip():
            return JsonCheck((), (), "No tools.", blank=True)
        result = check_tools_text(source)
        if result.tools is None:
            return JsonCheck(None, result.diagnostics, _problems(len(result.diagnostics)))
        names = ", ".join(sanitize(tool.name, keep_newlines=False) for tool in result.tools)
        count = len(result.tools)
        if not count:
            return JsonCheck((), (), "✓ an empty array: no tools are sent.")
        return JsonCheck(result.tools, (), f"✓ {count} tool{'s' * (count != 1)}: {names}")

    @property
    def tools(self) -> tuple[ToolSpec, ...] | None:
        """The tools as typed now; ``()`` when blank, None while invalid."""
        value = self.current().value
        return value if isinstance(value, tuple) else None


def diagnostic_text(diagnostic: SchemaDiagnostic) -> Text:
    """``line:col path message``, never interpreted as markup."""
    text = Text(no_wrap=False)
    text.append(f"{diagnostic.line}:{diagnostic.column} ")
    if diagnostic.path != "$":
        text.append(sanitize(diagnostic.path, keep_newlines=False), style="bold")
        text.append(" ")
    text.append(sanitize(diagnostic.message, keep_newlines=False), style="red")
    return text
