"""The grammar workbench: examples, load/save ``.gbnf`` files, samples, and "test a string".

Pushed by the app with the current grammar; dismisses with the edited grammar ("Use
grammar", Ctrl+G) or None (Esc: discard). File errors are reported with ``notify`` and never
touch the editor's contents. Samples and file contents are untrusted text: they are shown as
``rich.text.Text`` built from sanitized strings, never as markup.

A second mode (Ctrl+T, or the mode button) works on a JSON schema instead: the schema editor
with live diagnostics, the example schemas, load/save ``.json``, example instances
(generated as the stand-in daemon does) and "test a JSON document" against the schema. Its
"Use schema" hands the schema to ``on_schema`` (the sidebar's) and dismisses with None, so
the grammar is left as it was. The schema parts are built the first time the mode is
entered.
"""

from __future__ import annotations

import errno
import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from inferd_tui.files import describe_os_error, write_text_atomically
from inferd_tui.grammar import (
    CheckResult,
    Example,
    GrammarError,
    LineIndex,
    Matcher,
    MatchResult,
    TokenGrammarError,
    load_examples,
    sample,
)
from inferd_tui.request_options import is_unconstrained
from inferd_tui.text_safety import sanitize
from inferd_tui.ui.bindings import bindings_for
from inferd_tui.ui.widgets.grammar_editor import GrammarEditor
from inferd_tui.ui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from inferd_tui.ui.widgets.schema_editor import JsonEditor, SchemaEditor

WorkbenchMode = Literal["gbnf", "schema"]
#: How many example instances schema mode shows.
INSTANCE_COUNT = 3
#: Strings the example instances use, besides the property names (F5 picks others).
INSTANCE_WORDS = (
    "Ada Lovelace",
    "Grace Hopper",
    "Dublin",
    "a short note",
    "Katherine Johnson",
    "blue",
    "Alan Turing",
    "tea",
)

#: How many samples the preview shows, and how long each may be.
SAMPLE_COUNT = 5
SAMPLE_MAX_LENGTH = 200
#: A grammar file larger than this is refused (grammars are a few KB).
MAX_GRAMMAR_FILE_BYTES = 1024 * 1024
#: At most this many expected items are listed when a test string fails.
SHOWN_EXPECTED = 8


def read_grammar_file(path: Path, *, what: str = "grammar") -> str:
    """The text of a grammar (or schema: ``what``) file; raises OSError or ValueError with
    a usable reason."""
    size = path.stat().st_size
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if size > MAX_GRAMMAR_FILE_BYTES:
        raise ValueError(
            f"it is {size:,} bytes; {what}s larger than {MAX_GRAMMAR_FILE_BYTES:,} are refused"
        )
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not UTF-8 text (byte {exc.start})") from None


def visible(text: str) -> str:
    """One line of untrusted text with controls, tabs and newlines shown as single cells."""
    return sanitize(text, keep_newlines=False).replace("\t", "⇥")


def render_samples(samples: list[str]) -> Text:
    text = Text(no_wrap=False, overflow="fold")
    for number, value in enumerate(samples, 1):
        if number > 1:
            text.append("\n")
        text.append(f"{number} │ ", style="dim")
        if value:
            text.append(visible(value))
        else:
            text.append("(the empty string)", style="italic dim")
    return text


def render_match(result: MatchResult, tested: str) -> Text:
    """✓ match, or ✗ with the failing line:column, the text around it, a caret and what
    was expected there."""
    if result.ok:
        return Text("✓ match: the grammar admits this string.", style="bold green")
    offset = result.offset if result.offset is not None else 0
    line = result.line or 1
    column = result.column or 1
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("✗ no match", style="bold red")
    text.append(f" at {line}:{column} (offset {offset})\n")
    line_text = LineIndex(tested).line_text(line)
    cut = max(0, column - 1 - 40)
    prefix = "…" if cut else ""
    before = prefix + visible(line_text[cut : column - 1])
    after = visible(line_text[column - 1 : column - 1 + 30])
    text.append("  " + before)
    if after:
        text.append(after[0], style="reverse")
        text.append(after[1:])
    text.append("\n  " + " " * cell_len(before) + "^", style="bold red")
    expected = [visible(item) for item in result.expected[:SHOWN_EXPECTED]]
    more = len(result.expected) - len(expected)
    if not expected:
        wanted = "nothing: no string in the grammar continues here"
    elif len(expected) == 1:
        wanted = expected[0]
    else:
        wanted = ", ".join(expected[:-1]) + " or " + expected[-1]
    if more:
        wanted += f" (and {more} more)"
    text.append(f"\n  expected {wanted}")
    return text


class GrammarScreen(ModalScreen[str | None]):
    """Edit a grammar with examples, files, samples and a test box; returns the grammar."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("grammar-workbench")

    DEFAULT_CSS = """
    GrammarScreen { align: center middle; }
    GrammarScreen > #grammar-dialog {
        width: 100%; max-width: 140; height: 1fr;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    GrammarScreen #grammar-title { text-style: bold; height: 1; }
    GrammarScreen #grammar-body { height: 1fr; }
    GrammarScreen #grammar-left { width: 34; height: 1fr; margin-right: 1; }
    GrammarScreen #grammar-examples { height: 1fr; }
    GrammarScreen #grammar-right { width: 1fr; height: 1fr; }
    GrammarScreen .grammar-heading { text-style: bold; margin-top: 1; height: 1; width: auto; }
    GrammarScreen .grammar-row { height: auto; margin-top: 1; }
    GrammarScreen .grammar-row > .grammar-heading { margin: 0 1 0 0; }
    GrammarScreen #grammar-path-input { margin-top: 0; }
    GrammarScreen .grammar-row > Button { margin-right: 1; }
    GrammarScreen #grammar-editor > GrammarTextArea {
        height: 12; border: tall $border-blurred;
    }
    GrammarScreen #grammar-editor > GrammarTextArea:focus { border: tall $border; }
    GrammarScreen #grammar-samples { height: auto; background: $boost; padding: 0 1; }
    GrammarScreen #grammar-test-text { height: 5; }
    GrammarScreen #grammar-test-result { height: auto; padding: 0 1; }
    GrammarScreen #grammar-buttons { height: 1; align-horizontal: right; }
    GrammarScreen #grammar-buttons Button { margin-left: 2; }
    GrammarScreen #schema-pane { height: auto; }
    GrammarScreen #schema-editor > JsonTextArea { height: 12; border: tall $border-blurred; }
    GrammarScreen #schema-editor > JsonTextArea:focus { border: tall $border; }
    GrammarScreen #schema-instances { height: auto; background: $boost; padding: 0 1; }
    GrammarScreen #schema-test-text { height: 5; }
    GrammarScreen #schema-test-result { height: auto; padding: 0 1; }
    """

    def __init__(
        self,
        grammar: str = "",
        *,
        path: str = "",
        schema: str = "",
        on_schema: Callable[[str], None] | None = None,
        mode: WorkbenchMode = "gbnf",
    ) -> None:
        super().__init__()
        self._initial = grammar
        self._initial_path = path
        self._initial_schema = schema
        self._on_schema = on_schema
        self._start_mode: WorkbenchMode = mode
        self._mode: WorkbenchMode = "gbnf"
        #: The path typed in each mode, so switching modes does not mix .gbnf and .json.
        self._paths: dict[WorkbenchMode, str] = {"gbnf": path, "schema": ""}
        self._schema_files: Path | None = None
        self._instances: list[Any] = []
        self._seed = 0
        self._result: CheckResult | None = None
        self._matcher: Matcher | None = None
        self._matcher_problem = ""
        self._discard_armed = False
        self._samples: list[str] = []
        #: The file this grammar came from or was saved to: saving there again needs no
        #: confirmation, saving over any other existing file does.
        self._own_file: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="grammar-dialog"):
            yield Static("Grammar workbench", id="grammar-title")
            with Horizontal(id="grammar-body"):
                with Vertical(id="grammar-left"):
                    yield Static("Examples (F2)", classes="grammar-heading")
                    yield OptionList(
                        *(self._example_option(example) for example in load_examples()),
                        id="grammar-examples",
                    )
                    yield Static("File (F3)", classes="grammar-heading")
                    yield Input(
                        self._initial_path,
                        placeholder="path/to/grammar.gbnf",
                        id="grammar-path-input",
                        compact=True,
                    )
                    with Horizontal(classes="grammar-row"):
                        yield Button("Load ^O", id="grammar-load-button", compact=True)
                        yield Button("Save ^S", id="grammar-save-button", compact=True)
                with VerticalScroll(id="grammar-right"):
                    yield GrammarEditor(self._initial, id="grammar-editor", compact=True)
                    with Horizontal(classes="grammar-row"):
                        yield Static(
                            f"Samples ({SAMPLE_COUNT} strings it admits)",
                            classes="grammar-heading",
                        )
                        yield Button("New samples F5", id="grammar-regenerate-button", compact=True)
                    yield Static(Text(""), id="grammar-samples")
                    yield Static("Test a string (F4)", classes="grammar-heading")
                    yield TextArea(
                        "",
                        id="grammar-test-text",
                        soft_wrap=True,
                        tab_behavior="focus",
                        placeholder="Type or paste text to check against the grammar",
                    )
                    yield Static(Text(""), id="grammar-test-result")
            with Horizontal(id="grammar-buttons"):
                yield Button("JSON schema ^T", id="grammar-mode-button", compact=True)
                yield Button(
                    "Use grammar ^G", id="grammar-apply-button", variant="primary", compact=True
                )
                yield Button("Discard Esc", id="grammar-cancel-button", compact=True)
        yield KeyFooter()

    @staticmethod
    def _example_option(example: Example) -> Option:
        prompt = Text(example.name, style="bold")
        if example.description:
            prompt.append("\n" + sanitize(example.description, keep_newlines=False), style="dim")
        return Option(prompt, id=example.name)

    def on_mount(self) -> None:
        # Samples and the test box follow the editor's first Checked message.
        self.editor.text_area.focus()
        if self._start_mode == "schema":
            self.set_mode("schema")

    # -- parts ----------------------------------------------------------------------------

    @property
    def editor(self) -> GrammarEditor:
        return self.query_one("#grammar-editor", GrammarEditor)

    @property
    def source(self) -> str:
        return self.editor.source

    @property
    def samples(self) -> list[str]:
        """The strings the sample preview shows (empty when it shows a message)."""
        return list(self._samples)

    @property
    def samples_text(self) -> str:
        rendered = self.query_one("#grammar-samples", Static).render()
        return rendered.plain if isinstance(rendered, Text) else str(rendered)

    @property
    def test_result_text(self) -> str:
        rendered = self.query_one("#grammar-test-result", Static).render()
        return rendered.plain if isinstance(rendered, Text) else str(rendered)

    # -- checking, samples and matching ---------------------------------------------------

    @on(GrammarEditor.Checked, "#grammar-editor")
    def _checked(self, event: GrammarEditor.Checked) -> None:
        self._discard_armed = False
        self._use_result(event.result)

    def _use_result(self, result: CheckResult | None) -> None:
        self._result = result
        self._matcher = None
        self._matcher_problem = ""
        source = self.source
        if result is not None and result.ok and result.grammar is not None:
            try:
                self._matcher = Matcher(result.grammar)
            except TokenGrammarError:
                self._matcher_problem = (
                    "This grammar uses model tokens (<…>), which need the model's "
                    "vocabulary: it cannot be matched here."
                )
            except GrammarError as exc:
                self._matcher_problem = exc.message
        elif is_unconstrained(source):
            self._matcher_problem = "No grammar: every string is allowed."
        else:
            self._matcher_problem = "Fix the grammar's errors to test strings against it."
        self._refresh_samples()
        self._refresh_test()

    def _refresh_samples(self) -> None:
        target = self.query_one("#grammar-samples", Static)
        result = self._result
        self._samples = []
        if is_unconstrained(self.source):
            target.update(Text("No grammar: the model may write anything.", style="italic"))
            return
        if result is None or not result.ok or result.grammar is None:
            target.update(Text("Fix the grammar's errors to see samples.", style="italic"))
            return
        try:
            samples = sample(
                result.grammar, SAMPLE_COUNT, seed=self._seed, max_length=SAMPLE_MAX_LENGTH
            )
        except TokenGrammarError:
            target.update(
                Text(
                    "This grammar uses model tokens (<…>): samples need the model's vocabulary.",
                    style="italic",
                )
            )
            return
        except GrammarError as exc:
            target.update(Text(sanitize(exc.message, keep_newlines=False), style="italic"))
            return
        self._samples = samples
        target.update(render_samples(samples))

    @on(TextArea.Changed, "#grammar-test-text")
    def _test_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._refresh_test()

    def _refresh_test(self) -> None:
        target = self.query_one("#grammar-test-result", Static)
        tested = self.query_one("#grammar-test-text", TextArea).text
        if self._matcher is None:
            target.update(Text(self._matcher_problem, style="italic"))
            return
        if not tested:
            target.update(
                Text("Type a string above to see whether the grammar admits it.", style="dim")
            )
            return
        target.update(render_match(self._matcher.match(tested), tested))

    # -- examples -------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#grammar-examples")
    def _example_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self._mode == "schema":
            self._schema_example_selected(event.option.id)
            return
        example = next((e for e in load_examples() if e.name == event.option.id), None)
        if example is None:
            return
        self.editor.set_source(example.source, undoable=True)
        self.notify(
            f"Loaded the example {example.name!r} (Ctrl+Z in the editor brings back your text).",
            timeout=3,
            markup=False,
        )

    # -- files ----------------------------------------------------------------------------

    def _path(self) -> Path | None:
        raw = self.query_one("#grammar-path-input", Input).value.strip()
        if not raw:
            self.notify("Type a file path first.", severity="warning", timeout=3)
            self.action_focus_path()
            return None
        return Path(raw).expanduser()

    def action_load(self) -> None:
        path = self._path()
        if path is None:
            return
        shown = sanitize(str(path), keep_newlines=False)
        try:
            text = read_grammar_file(path, what=self._what())
        except OSError as exc:
            self._file_error(f"Could not load {shown}: {describe_os_error(exc)}.")
            return
        except ValueError as exc:
            self._file_error(f"Could not load {shown}: {exc}.")
            return
        if self._mode == "schema":
            self.schema_editor.set_source(text, undoable=True)
            self._schema_files = path.absolute()
        else:
            self.editor.set_source(text, undoable=True)
            self._own_file = path.absolute()
        lines = text.count("\n") + (not text.endswith("\n") and bool(text))
        self.notify(f"Loaded {shown} ({lines} line{'s' * (lines != 1)}).", timeout=3, markup=False)

    def action_save(self) -> None:
        path = self._path()
        if path is None:
            return
        own = self._schema_files if self._mode == "schema" else self._own_file
        if path.absolute() != own and path.is_file():
            from inferd_tui.ui.screens.dialogs import ConfirmDialog

            def answered(overwrite: bool | None) -> None:
                if overwrite:
                    self._write(path)

            self.app.push_screen(
                ConfirmDialog(
                    "Overwrite the existing file?",
                    [str(path), f"Its current contents are replaced by this {self._what()}."],
                    confirm_label="Overwrite",
                    danger=True,
                ),
                answered,
            )
            return
        self._write(path)

    def _write(self, path: Path) -> None:
        shown = sanitize(str(path), keep_newlines=False)
        schema_mode = self._mode == "schema"
        text = self.schema_source if schema_mode else self.source
        if text and not text.endswith(("\n", "\r")):
            text += "\n"
        try:
            write_text_atomically(path, text)
        except OSError as exc:
            self._file_error(
                f"Could not save {shown}: {describe_os_error(exc)}. "
                f"The {self._what()} is still here."
            )
            return
        if schema_mode:
            self._schema_files = path.absolute()
        else:
            self._own_file = path.absolute()
        self.notify(f"Saved {shown}.", timeout=3, markup=False)

    def _file_error(self, message: str) -> None:
        self.notify(message, severity="error", timeout=8, markup=False)

    # -- actions --------------------------------------------------------------------------

    def action_regenerate(self) -> None:
        self._seed = random.randrange(2**32)
        if self._mode == "schema":
            self._refresh_instances()
        else:
            self._refresh_samples()

    # set_focus, not Widget.focus (deferred): a key typed right after lands in the field.
    def action_focus_examples(self) -> None:
        self.set_focus(self.query_one("#grammar-examples", OptionList))

    def action_focus_path(self) -> None:
        self.set_focus(self.query_one("#grammar-path-input", Input))

    def action_focus_test(self) -> None:
        test_id = "#schema-test-text" if self._mode == "schema" else "#grammar-test-text"
        self.set_focus(self.query_one(test_id, TextArea))

    def action_apply(self) -> None:
        if self._mode == "gbnf":
            self.dismiss(self.source)
            return
        if self._on_schema is None:
            self.notify(
                "Nothing here takes a schema: switch to GBNF (Ctrl+T) to use a grammar.",
                severity="warning",
                timeout=4,
            )
            return
        self._on_schema(self.schema_source)
        self.dismiss(None)

    def action_cancel(self) -> None:
        edited = self.source != self._initial or (
            self._schema_ready() and self.schema_source != self._initial_schema
        )
        if edited and not self._discard_armed:
            self._discard_armed = True
            use = "the grammar" if self._mode == "gbnf" else "the schema"
            self.notify(
                f"Esc again discards your edits; Ctrl+G uses {use}.",
                severity="warning",
                timeout=4,
            )
            return
        self.dismiss(None)

    def action_toggle_mode(self) -> None:
        self.set_mode("schema" if self._mode == "gbnf" else "gbnf")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        actions = {
            "grammar-load-button": self.action_load,
            "grammar-save-button": self.action_save,
            "grammar-regenerate-button": self.action_regenerate,
            "grammar-apply-button": self.action_apply,
            "grammar-cancel-button": self.action_cancel,
            "grammar-mode-button": self.action_toggle_mode,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    # -- schema mode ----------------------------------------------------------------------

    @property
    def mode(self) -> WorkbenchMode:
        return self._mode

    def _what(self) -> str:
        return "schema" if self._mode == "schema" else "grammar"

    def _schema_ready(self) -> bool:
        return bool(self.query("#schema-pane"))

    @property
    def schema_editor(self) -> SchemaEditor:
        from inferd_tui.ui.widgets.schema_editor import SchemaEditor

        return self.query_one("#schema-editor", SchemaEditor)

    @property
    def schema_source(self) -> str:
        """The schema as typed (the initial one until schema mode was first entered)."""
        return self.schema_editor.source if self._schema_ready() else self._initial_schema

    @property
    def instances(self) -> list[Any]:
        """The example instances shown (empty when a message is shown instead)."""
        return list(self._instances)

    @property
    def instances_text(self) -> str:
        rendered = self.query_one("#schema-instances", Static).render()
        return rendered.plain if isinstance(rendered, Text) else str(rendered)

    @property
    def schema_test_text(self) -> str:
        rendered = self.query_one("#schema-test-result", Static).render()
        return rendered.plain if isinstance(rendered, Text) else str(rendered)

    def set_mode(self, mode: WorkbenchMode) -> None:
        """Work on the GBNF grammar or the JSON schema; each keeps its text and path."""
        if mode == self._mode:
            return
        path_input = self.query_one("#grammar-path-input", Input)
        self._paths[self._mode] = path_input.value
        self._mode = mode
        schema = mode == "schema"
        if schema and not self._schema_ready():
            self._build_schema_pane()
        gbnf_parts = self.query_one("#grammar-right").children
        for widget in gbnf_parts:
            widget.display = (widget.id == "schema-pane") == schema
        path_input.value = self._paths[mode]
        path_input.placeholder = "path/to/schema.json" if schema else "path/to/grammar.gbnf"
        examples = self.query_one("#grammar-examples", OptionList)
        examples.clear_options()
        if schema:
            from inferd_tui.schema_examples import load_schema_examples

            examples.add_options(
                self._example_option(example)  # type: ignore[arg-type]
                for example in load_schema_examples()
            )
        else:
            examples.add_options(self._example_option(example) for example in load_examples())
        title = "Grammar workbench · JSON schema" if schema else "Grammar workbench"
        self.query_one("#grammar-title", Static).update(title)
        self.query_one("#grammar-mode-button", Button).label = (
            "GBNF ^T" if schema else "JSON schema ^T"
        )
        self.query_one("#grammar-apply-button", Button).label = (
            "Use schema ^G" if schema else "Use grammar ^G"
        )
        if schema:
            # The pane's children are composed on the next refresh after it is mounted.
            self.call_after_refresh(lambda: self.set_focus(self.schema_editor.text_area))
        else:
            self.set_focus(self.editor.text_area)

    def _build_schema_pane(self) -> None:
        # Imported here: a workbench that never enters schema mode never loads it.
        from inferd_tui.ui.widgets.schema_editor import JsonTextArea, SchemaEditor

        pane = Vertical(
            SchemaEditor(self._initial_schema, id="schema-editor", compact=True),
            Horizontal(
                Static(
                    f"Example instances ({INSTANCE_COUNT} documents it admits)",
                    classes="grammar-heading",
                ),
                Button("New instances F5", id="schema-regenerate-button", compact=True),
                classes="grammar-row",
            ),
            Static(Text(""), id="schema-instances"),
            Static("Test a JSON document (F4)", classes="grammar-heading"),
            JsonTextArea(
                "",
                id="schema-test-text",
                soft_wrap=True,
                placeholder="Type or paste a JSON document to check against the schema",
            ),
            Static(Text(""), id="schema-test-result"),
            id="schema-pane",
        )
        self.query_one("#grammar-right").mount(pane)

    def _schema_example_selected(self, name: str | None) -> None:
        from inferd_tui.schema_examples import load_schema_examples

        example = next((e for e in load_schema_examples() if e.name == name), None)
        if example is None:
            return
        self.schema_editor.set_source(example.source, undoable=True)
        self.notify(
            f"Loaded the example schema {example.name!r} (Ctrl+Z in the editor brings back "
            "your text).",
            timeout=3,
            markup=False,
        )

    def on_json_editor_checked(self, event: JsonEditor.Checked) -> None:
        if event.editor.id != "schema-editor":
            return
        event.stop()
        self._discard_armed = False
        self._refresh_instances()
        self._refresh_schema_test()

    @on(TextArea.Changed, "#schema-test-text")
    def _schema_test_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._refresh_schema_test()

    @on(Button.Pressed, "#schema-regenerate-button")
    def _regenerate_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_regenerate()

    def _schema_state(self) -> tuple[dict[str, Any] | None, str]:
        """The valid schema, or None and why there is none."""
        if not self._schema_ready():
            return None, ""
        result = self.schema_editor.current()
        if result.blank:
            return None, "No schema: the model may write anything."
        if not result.ok or not isinstance(result.value, dict):
            return None, "Fix the schema's problems first."
        return result.value, ""

    def _refresh_instances(self) -> None:
        if not self._schema_ready():
            return
        target = self.query_one("#schema-instances", Static)
        self._instances = []
        schema, why = self._schema_state()
        if schema is None:
            target.update(Text(why, style="italic"))
            return
        from inferd_tui.mock_daemon.schema_instance import UnsupportedSchema, instance_for
        from inferd_tui.structured import answer_problem

        picker = random.Random(self._seed)
        instances: list[Any] = []
        notes: list[str | None] = []
        try:
            for number in range(INSTANCE_COUNT):
                # The first instance names strings after their property, as the stand-in
                # daemon does; the others (and every one after F5) use sample words.
                word = None if number == 0 and self._seed == 0 else picker.choice(INSTANCE_WORDS)
                instance = instance_for(schema, text_for=_words(word))
                if instance in instances:
                    continue
                instances.append(instance)
                notes.append(answer_problem(schema, json.dumps(instance)))
        except (UnsupportedSchema, RecursionError, ValueError) as exc:
            target.update(Text(f"No example: {visible(str(exc))}", style="italic"))
            return
        self._instances = instances
        text = Text(no_wrap=False, overflow="fold")
        for number, (instance, note) in enumerate(zip(instances, notes, strict=True), 1):
            if number > 1:
                text.append("\n")
            text.append(f"{number} │ ", style="dim")
            text.append(visible(json.dumps(instance, ensure_ascii=False)))
            if note is not None:
                # The generator knows common keywords only; say so rather than mislead.
                text.append(f"  ✗ {visible(note)}", style="red")
        target.update(text)

    def _refresh_schema_test(self) -> None:
        if not self._schema_ready():
            return
        target = self.query_one("#schema-test-result", Static)
        tested = self.query_one("#schema-test-text", TextArea).text
        schema, why = self._schema_state()
        if schema is None:
            target.update(Text(why or "No schema.", style="italic"))
            return
        if not tested.strip():
            target.update(
                Text("Type a JSON document above to check it against the schema.", style="dim")
            )
            return
        from inferd_tui.structured import answer_problem

        problem = answer_problem(schema, tested)
        if problem is None:
            target.update(Text("✓ valid: the document matches the schema.", style="bold green"))
            return
        text = Text(no_wrap=False, overflow="fold")
        text.append("✗ ", style="bold red")
        text.append(visible(problem))
        target.update(text)


def _words(word: str | None) -> Callable[[str], str | None]:
    """A ``text_for`` for the instance generator: ``word`` for every string (None: the
    generator's own choice, the property's name)."""
    return lambda name: word
