"""The JSON-schema editor (live diagnostics, marks, problem list, examples) and the grammar
workbench's schema mode (validate, test a document, example instances, load/save .json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.notifications import SeverityLevel
from textual.widgets import Input, OptionList, Select, TextArea

from inferd_tui.schema_examples import get_schema_example, load_schema_examples
from inferd_tui.structured import answer_problem
from inferd_tui.ui.screens.grammar_screen import GrammarScreen
from inferd_tui.ui.widgets.schema_editor import JsonEditor, SchemaEditor, json_tokens

pytestmark = pytest.mark.anyio

BROKEN_SYNTAX = '{\n  "type": "object",\n  "properties": {\n    "a": {"type": "string"}\n  \n'
BAD_TYPE = '{\n  "type": "object",\n  "properties": {\n    "age": {"type": "integr"}\n  }\n}'


class EditorApp(App[None]):
    def __init__(self, source: str = "") -> None:
        super().__init__()
        self.source = source
        self.checked: list[JsonEditor.Checked] = []

    def compose(self) -> ComposeResult:
        yield SchemaEditor(self.source, show_examples=True, id="editor")

    def on_json_editor_checked(self, message: JsonEditor.Checked) -> None:
        self.checked.append(message)

    @property
    def editor(self) -> SchemaEditor:
        return self.query_one(SchemaEditor)


def test_json_tokens_tell_keys_from_strings() -> None:
    text = '{"a": "b", "n": -1.5e3, "t": true, "open": "unterminated'
    kinds = [(text[start:end], kind) for start, end, kind in json_tokens(text)]
    assert kinds == [
        ('"a"', "key"),
        ('"b"', "string"),
        ('"n"', "key"),
        ("-1.5e3", "number"),
        ('"t"', "key"),
        ("true", "keyword"),
        ('"open"', "key"),
        ('"unterminated', "string"),
    ]


async def test_a_syntax_error_is_reported_at_line_and_column_as_you_type() -> None:
    app = EditorApp()
    async with app.run_test(size=(90, 30)) as pilot:
        editor = app.editor
        editor.text_area.focus()
        await pilot.press(*'{"type": ')
        assert editor.check_pending  # debounced: nothing checked mid-word
        editor.flush_check()
        await pilot.pause()
        assert editor.summary == "✗ 1 problem"
        (problem,) = editor.result.diagnostics
        assert (problem.line, problem.column) == (1, 10)
        assert "Expecting value" in problem.message
        listed = app.query_one(".json-problems", OptionList)
        assert listed.display and listed.option_count == 1
        assert app.checked[-1].result == editor.result


async def test_a_meta_schema_problem_names_its_path_and_is_marked() -> None:
    app = EditorApp(BAD_TYPE)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        editor = app.editor
        (problem,) = editor.result.diagnostics
        assert problem.path == "$.properties.age.type"
        assert (problem.line, problem.column) == (4, 21)
        assert editor.text_area.marked_spans == {3: [(20, 28, "error")]}
        prompt = app.query_one(".json-problems", OptionList).get_option_at_index(0).prompt
        assert str(prompt).startswith("4:21 $.properties.age.type ")


async def test_choosing_a_problem_moves_the_cursor_there() -> None:
    app = EditorApp(BAD_TYPE)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        problems = app.query_one(".json-problems", OptionList)
        problems.focus()
        problems.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        assert app.editor.text_area.cursor_location == (3, 20)
        assert app.editor.text_area.has_focus


async def test_f8_visits_problems() -> None:
    app = EditorApp(BROKEN_SYNTAX)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        app.editor.text_area.focus()
        await pilot.press("f8")
        (problem,) = app.editor.result.diagnostics
        assert app.editor.text_area.cursor_location == (problem.line - 1, problem.column - 1)


async def test_a_valid_schema_is_summarised() -> None:
    source = get_schema_example("object-required").source
    app = EditorApp(source)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        assert app.editor.summary == ("✓ valid JSON schema (object, 3 properties, 2 required)")
        assert app.editor.schema == json.loads(source)
        assert not app.query_one(".json-problems", OptionList).display


async def test_blank_means_no_schema_and_true_is_refused() -> None:
    app = EditorApp("")
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        assert app.editor.summary == "No schema: answers are free text."
        assert app.editor.schema is None and app.editor.result.ok
        app.editor.set_source("true")
        assert app.editor.summary == "✗ 1 problem"
        assert "not true or false" in app.editor.result.diagnostics[0].message


async def test_the_example_picker_loads_an_example_undoably() -> None:
    app = EditorApp('{"type": "string"}')
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        picker = app.query_one(".json-examples", Select)
        assert [name for name, _ in picker._options[1:]] == [  # type: ignore[attr-defined]
            example.name for example in load_schema_examples()
        ]
        picker.value = "enum"
        await pilot.pause()
        assert app.editor.source == get_schema_example("enum").source
        assert picker.is_blank()
        app.editor.text_area.focus()
        await pilot.press("ctrl+z")
        assert app.editor.source == '{"type": "string"}'


async def test_undoing_a_longer_replacement_with_the_cursor_below_is_safe() -> None:
    """Textual 8.2.8 re-measures before restoring the cursor on undo; the editors park it."""
    from inferd_tui.ui.widgets.grammar_editor import GrammarEditor

    class GrammarApp(App[None]):
        def compose(self) -> ComposeResult:
            yield GrammarEditor('root ::= "x"')

    app = GrammarApp()
    async with app.run_test(size=(90, 30)) as pilot:
        editor = app.query_one(GrammarEditor)
        long = "\n".join(f'r{i} ::= "x"' for i in range(40))
        editor.set_source(long, undoable=True)
        editor.text_area.focus()
        editor.text_area.move_cursor((39, 3))
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert editor.source == 'root ::= "x"'
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert editor.source == long


async def test_hostile_text_in_problems_is_not_markup() -> None:
    app = EditorApp('{"type": "[bold]x[/bold]\\u001b[31m"}')
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        prompt = app.query_one(".json-problems", OptionList).get_option_at_index(0).prompt
        assert "[bold]x[/bold]" in str(prompt)
        assert "\x1b" not in str(prompt)


# --- the workbench's schema mode ------------------------------------------------------------


class WorkbenchApp(App[None]):
    def __init__(self, schema: str = "", *, mode: str = "schema") -> None:
        super().__init__()
        self.schema = schema
        self.mode = mode
        self.results: list[str | None] = []
        self.used: list[str] = []
        self.errors: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(
            GrammarScreen(
                'root ::= "yes"',
                schema=self.schema,
                on_schema=self.used.append,
                mode=self.mode,  # type: ignore[arg-type]
            ),
            self.results.append,
        )

    @property
    def workbench(self) -> GrammarScreen:
        assert isinstance(self.screen, GrammarScreen)
        return self.screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        if severity == "error":
            self.errors.append(message)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)


async def ready(pilot: Any) -> GrammarScreen:
    await pilot.pause()
    await pilot.pause()
    screen: GrammarScreen = pilot.app.workbench
    return screen


async def test_schema_mode_validates_and_shows_instances() -> None:
    source = get_schema_example("object-required").source
    app = WorkbenchApp(source)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await ready(pilot)
        assert screen.mode == "schema"
        assert screen.schema_editor.summary.startswith("✓ valid JSON schema (object")
        schema = json.loads(source)
        assert screen.instances
        for instance in screen.instances:
            assert answer_problem(schema, json.dumps(instance)) is None
        assert screen.instances_text.startswith("1 │ {")
        first = list(screen.instances)
        await pilot.press("f5")
        await pilot.pause()
        assert screen.instances and screen.instances != first


async def test_schema_mode_tests_a_document() -> None:
    app = WorkbenchApp(get_schema_example("object-required").source)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await ready(pilot)
        test = screen.query_one("#schema-test-text", TextArea)
        test.text = '{"name": "Ada", "email": "ada@example.com"}'
        await pilot.pause()
        assert screen.schema_test_text == "✓ valid: the document matches the schema."
        test.text = '{"name": "Ada", "email": "ada@example.com", "age": -1}'
        await pilot.pause()
        assert screen.schema_test_text.startswith("✗ $.age: -1 is less than the minimum of 0")
        test.text = '{"name": '
        await pilot.pause()
        assert screen.schema_test_text.startswith("✗ not JSON: ")
        screen.schema_editor.set_source('{"type": "nope"}')
        await pilot.pause()
        assert screen.schema_test_text == "Fix the schema's problems first."
        assert screen.instances == []


async def test_schema_examples_replace_the_list_and_load() -> None:
    app = WorkbenchApp("")
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await ready(pilot)
        examples = screen.query_one("#grammar-examples", OptionList)
        ids = [examples.get_option_at_index(i).id for i in range(examples.option_count)]
        assert ids == [example.name for example in load_schema_examples()]
        examples.focus()
        examples.highlighted = ids.index("nested")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.schema_source == get_schema_example("nested").source


async def test_ctrl_t_switches_modes_and_each_keeps_its_text() -> None:
    app = WorkbenchApp('{"type": "string"}', mode="gbnf")
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await ready(pilot)
        assert screen.mode == "gbnf"
        assert not screen.query("#schema-pane")  # built on first use
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen.mode == "schema"
        assert screen.schema_editor.text_area.has_focus
        assert not screen.editor.display
        assert screen.schema_source == '{"type": "string"}'
        await pilot.click("#grammar-mode-button")
        await pilot.pause()
        assert screen.mode == "gbnf"
        assert screen.editor.display and screen.source == 'root ::= "yes"'
        examples = screen.query_one("#grammar-examples", OptionList)
        assert examples.get_option_at_index(0).id != load_schema_examples()[0].name


async def test_use_schema_hands_it_over_and_leaves_the_grammar() -> None:
    app = WorkbenchApp('{"type": "string"}')
    async with app.run_test(size=(120, 50)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert app.used == ['{"type": "string"}']
        assert app.results == [None]


async def test_schema_files_load_and_save(tmp_path: Path) -> None:
    source = get_schema_example("enum").source
    stored = tmp_path / "in.json"
    stored.write_text(source, encoding="utf-8")
    app = WorkbenchApp("")
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await ready(pilot)
        path = screen.query_one("#grammar-path-input", Input)
        assert path.placeholder == "path/to/schema.json"
        path.value = str(stored)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert screen.schema_source == source
        screen.schema_editor.set_source('{"type": "integer"}')
        target = tmp_path / "out.json"
        path.value = str(target)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == '{"type": "integer"}\n'
        path.value = str(tmp_path / "missing" / "x.json")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.errors and "The schema is still here" in app.errors[-1]
        assert screen.source == 'root ::= "yes"'  # the grammar was never touched


async def test_the_tools_picker_loads_example_tools() -> None:
    from textual.app import App

    from inferd_tui.schema_examples import load_tool_examples
    from inferd_tui.ui.widgets.schema_editor import ToolsEditor

    class ToolsApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ToolsEditor("", show_examples=True)

    app = ToolsApp()
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        editor = app.query_one(ToolsEditor)
        picker = app.query_one(".json-examples", Select)
        picker.value = "weather"
        await pilot.pause()
        assert editor.source == load_tool_examples()["weather"]
        await pilot.pause(0.2)
        assert editor.tools is not None
        assert [tool.name for tool in editor.tools] == ["get_weather"]
