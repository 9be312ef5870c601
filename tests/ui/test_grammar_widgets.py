"""The grammar editor, the grammar workbench screen and the invalid-grammar confirmation.

No fixed sleeps: live checks are awaited through the editor's ``Checked`` message, or run at
once with ``GrammarEditor.flush_check()``.
"""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.notifications import SeverityLevel
from textual.widgets import Button, Input, OptionList, TextArea

from inferd_tui.grammar import check, get_example, match
from inferd_tui.ui.screens import grammar_screen
from inferd_tui.ui.screens.confirm_invalid_grammar import ConfirmInvalidGrammar
from inferd_tui.ui.screens.grammar_screen import GrammarScreen
from inferd_tui.ui.widgets.grammar_editor import GrammarEditor

pytestmark = pytest.mark.anyio


# --- the editor ------------------------------------------------------------------------------


class EditorApp(App[None]):
    def __init__(self, source: str = "") -> None:
        super().__init__()
        self.source = source
        self.checked: list[GrammarEditor.Checked] = []
        self.new_check = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield GrammarEditor(self.source, id="editor")

    def on_grammar_editor_checked(self, message: GrammarEditor.Checked) -> None:
        self.checked.append(message)
        self.new_check.set()

    @property
    def editor(self) -> GrammarEditor:
        return self.query_one(GrammarEditor)

    async def checked_source(self, source: str) -> GrammarEditor.Checked:
        """Wait for the Checked message of exactly this text (the debounce fires it)."""
        while True:
            for message in reversed(self.checked):
                if message.source == source:
                    return message
            self.new_check.clear()
            await asyncio.wait_for(self.new_check.wait(), timeout=5)


def problems_shown(app: App[Any]) -> list[str]:
    options = app.query_one("#grammar-problems", OptionList)
    return [
        str(options.get_option_at_index(i).prompt).split("\n")[0]
        for i in range(options.option_count)
    ]


async def test_live_diagnostics_appear_after_typing_stops() -> None:
    app = EditorApp()
    async with app.run_test(size=(80, 30)) as pilot:
        app.editor.text_area.focus()
        await pilot.press(*"root ::= foo")
        assert app.editor.check_pending  # debounced: nothing checked mid-typing
        message = await app.checked_source("root ::= foo")
        await pilot.pause()
        assert not message.result.ok
        assert not app.editor.check_pending
        assert problems_shown(app) == ["1:10 error undefined rule `foo`"]
        status = str(app.query_one("#grammar-status").render())
        assert "1 error" in status


async def test_the_error_span_is_marked_in_the_text() -> None:
    app = EditorApp('root ::= "a" foo\n')
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        area = app.editor.text_area
        assert area.marked_spans == {0: [(13, 16, "error")]}
        line = area.get_line(0)
        underlined = {
            i
            for span in line.spans
            if not isinstance(span.style, str) and span.style.underline
            for i in range(span.start, span.end)
        }
        assert {13, 14, 15} <= underlined
        assert 9 not in underlined  # the string is highlighted, not marked


async def test_a_problem_at_the_end_of_a_line_is_still_visible() -> None:
    app = EditorApp('root ::= ("a"')
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        area = app.editor.text_area
        assert area.marked_spans
        line = area.get_line(0)
        assert any(not isinstance(s.style, str) and s.style.underline for s in line.spans)


async def test_tokens_are_highlighted() -> None:
    app = EditorApp('root ::= "yes" [a-z]* # note')
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        line = app.editor.text_area.get_line(0)
        styled = {(span.start, span.end) for span in line.spans}
        assert (0, 4) in styled  # rule name
        assert (9, 14) in styled  # string
        assert (15, 20) in styled  # class
        assert (20, 21) in styled  # repeat
        assert (22, 28) in styled  # comment


async def test_selecting_a_diagnostic_moves_the_cursor_there() -> None:
    app = EditorApp('root ::= "a"\n\nx ::= y\n')
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        shown = problems_shown(app)
        assert "3:7 error undefined rule `y`" in shown
        options = app.query_one("#grammar-problems", OptionList)
        options.focus()
        options.highlighted = next(i for i, text in enumerate(shown) if text.startswith("3:7"))
        await pilot.press("enter")
        await pilot.pause()
        area = app.editor.text_area
        assert area.cursor_location == (2, 6)
        assert area.has_focus


async def test_next_problem_binding_cycles_through_diagnostics() -> None:
    app = EditorApp("root ::= a\nb ::= c\n")
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        area = app.editor.text_area
        area.focus()
        area.move_cursor((0, 0))
        await pilot.press("f8")
        assert area.cursor_location == (0, 9)
        await pilot.press("f8")
        assert area.cursor_location[0] == 1
        await pilot.press("shift+f8")
        assert area.cursor_location == (0, 9)


async def test_goto_clamps_to_the_document() -> None:
    app = EditorApp("root ::= x\n")
    async with app.run_test(size=(80, 30)):
        app.editor.goto(1, 6)
        assert app.editor.text_area.cursor_location == (0, 5)
        app.editor.goto(99, 99)
        assert app.editor.text_area.cursor_location == (1, 0)


async def test_an_empty_grammar_means_unconstrained() -> None:
    app = EditorApp("")
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        assert app.editor.result.diagnostics == []
        assert "unconstrained" in str(app.query_one("#grammar-status").render())
        assert not app.query_one("#grammar-problems").display


async def test_set_source_checks_at_once_and_undoable_replacement() -> None:
    app = EditorApp('root ::= "old"')
    async with app.run_test(size=(80, 30)) as pilot:
        app.editor.set_source('root ::= "new"', undoable=True)
        assert app.editor.result.ok
        await pilot.pause()
        assert app.checked[-1].source == 'root ::= "new"'
        app.editor.text_area.focus()
        await pilot.press("ctrl+z")
        assert app.editor.source == 'root ::= "old"'


async def test_clear_grammar_button() -> None:
    app = EditorApp('root ::= "x"')
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.click("#grammar-clear")
        await pilot.pause()
        assert app.editor.source == ""
        assert "unconstrained" in str(app.query_one("#grammar-status").render())


async def test_flush_check_runs_the_pending_check_now() -> None:
    app = EditorApp()
    async with app.run_test(size=(80, 30)) as pilot:
        app.editor.text_area.focus()
        await pilot.press(*'root ::= "ok"')
        result = app.editor.flush_check()
        assert result.ok
        assert app.editor.result is result


# --- the grammar screen ----------------------------------------------------------------------


class ScreenApp(App[None]):
    def __init__(self, grammar: str = "") -> None:
        super().__init__()
        self.grammar = grammar
        self.results: list[str | None] = []
        self.errors: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(GrammarScreen(self.grammar), self.results.append)

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


async def settle(pilot: Any, screen: GrammarScreen) -> None:
    screen.editor.flush_check()
    await pilot.pause()


async def test_loading_an_example_from_the_library() -> None:
    app = ScreenApp()
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        screen = app.workbench
        await pilot.press("f2")
        examples = screen.query_one("#grammar-examples", OptionList)
        assert examples.has_focus
        index = next(
            i
            for i in range(examples.option_count)
            if examples.get_option_at_index(i).id == "iso-date"
        )
        examples.highlighted = index
        await pilot.press("enter")
        await pilot.pause()
        assert screen.source == get_example("iso-date").source
        assert screen.editor.result.ok


async def test_sample_preview_shows_strings_the_grammar_matches() -> None:
    source = get_example("json-value").source
    app = ScreenApp(source)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot, app.workbench)
        screen = app.workbench
        first = screen.samples
        assert len(first) == 5
        assert all(match(source, value).ok for value in first)
        await pilot.press("f5")
        await pilot.pause()
        assert all(match(source, value).ok for value in screen.samples)
        assert screen.samples != first


async def test_samples_are_shown_literally() -> None:
    app = ScreenApp('root ::= "[bold]x[/bold]" | "\\x1b[31m"')
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot, app.workbench)
        screen = app.workbench
        shown = screen.samples_text
        assert "\x1b" not in shown
        for value in screen.samples:
            assert grammar_screen.visible(value) in shown
        assert "[bold]x[/bold]" in shown or "␛[31m" in shown


async def test_samples_for_an_invalid_grammar_say_why_not() -> None:
    app = ScreenApp("root ::= nope")
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot, app.workbench)
        assert app.workbench.samples == []
        assert "Fix the grammar" in app.workbench.samples_text


async def test_test_a_string_shows_match_or_where_it_failed() -> None:
    app = ScreenApp(get_example("yes-no").source)
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        await settle(pilot, screen)
        await pilot.press("f4")
        test_box = screen.query_one("#grammar-test-text", TextArea)
        assert test_box.has_focus
        await pilot.press("y", "e", "s")
        await pilot.pause()
        assert screen.test_result_text.startswith("✓ match")
        await pilot.press("backspace", "x")
        await pilot.pause()
        lines = screen.test_result_text.splitlines()
        assert lines[0] == "✗ no match at 1:3 (offset 2)"
        assert lines[1] == "  yex"
        assert lines[2] == "    ^"
        assert lines[3] == '  expected "s"'


async def test_the_test_box_follows_grammar_edits() -> None:
    app = ScreenApp('root ::= "a"')
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        screen.query_one("#grammar-test-text", TextArea).load_text("b")
        await settle(pilot, screen)
        assert screen.test_result_text.startswith("✗")
        screen.editor.set_source('root ::= "b"')
        await pilot.pause()
        assert screen.test_result_text.startswith("✓")


async def test_save_then_load_back(tmp_path: Path) -> None:
    source = get_example("csv-row").source
    target = tmp_path / "row.gbnf"
    app = ScreenApp(source)
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        screen.query_one("#grammar-path-input", Input).value = str(target)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == source
        screen.editor.set_source('root ::= "other"')
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert screen.source == source
        assert app.errors == []


async def test_saving_over_another_grammar_asks_first(tmp_path: Path) -> None:
    target = tmp_path / "keep.gbnf"
    target.write_text('root ::= "precious"\n', encoding="utf-8")
    app = ScreenApp('root ::= "new"')
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        screen.query_one("#grammar-path-input", Input).value = str(target)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == 'root ::= "precious"\n'
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == 'root ::= "new"\n'
        screen.editor.set_source('root ::= "newer"')  # our file now: saved without asking
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert target.read_text(encoding="utf-8") == 'root ::= "newer"\n'


async def test_saving_to_a_missing_folder_reports_and_keeps_the_text(tmp_path: Path) -> None:
    app = ScreenApp('root ::= "keep me"')
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        screen.query_one("#grammar-path-input", Input).value = str(tmp_path / "no" / "g.gbnf")
        await pilot.click("#grammar-save-button")
        await pilot.pause()
        assert len(app.errors) == 1
        assert "that folder does not exist" in app.errors[0]
        assert screen.source == 'root ::= "keep me"'


def file_names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_a_full_disk_leaves_the_old_file_and_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "g.gbnf"
    target.write_text('root ::= "old"\n', encoding="utf-8")

    def full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    app = ScreenApp('root ::= "new"')
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        screen.query_one("#grammar-path-input", Input).value = str(target)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")  # overwrite the old grammar
        await pilot.pause()
        assert app.errors and "the disk is full" in app.errors[0]
        assert screen.source == 'root ::= "new"'
    assert target.read_text(encoding="utf-8") == 'root ::= "old"\n'
    assert file_names(tmp_path) == ["g.gbnf"]


async def test_saving_over_a_folder_or_loading_a_missing_file_is_reported(
    tmp_path: Path,
) -> None:
    app = ScreenApp('root ::= "x"')
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        path = screen.query_one("#grammar-path-input", Input)
        path.value = str(tmp_path)
        await pilot.press("ctrl+s")
        path.value = str(tmp_path / "missing.gbnf")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert len(app.errors) == 2
        assert "folder" in app.errors[0]
        assert "no such file" in app.errors[1]
        assert screen.source == 'root ::= "x"'


async def test_loading_a_binary_file_is_refused(tmp_path: Path) -> None:
    blob = tmp_path / "blob.gbnf"
    blob.write_bytes(b"\xff\xfe\x00root")
    app = ScreenApp('root ::= "x"')
    async with app.run_test(size=(110, 40)) as pilot:
        screen = app.workbench
        screen.query_one("#grammar-path-input", Input).value = str(blob)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.errors and "not UTF-8" in app.errors[0]
        assert screen.source == 'root ::= "x"'


async def test_use_grammar_returns_the_edited_text() -> None:
    app = ScreenApp('root ::= "a"')
    async with app.run_test(size=(110, 40)) as pilot:
        app.workbench.editor.set_source('root ::= "b"')
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert app.results == ['root ::= "b"']


async def test_escape_discards_but_asks_first_when_edited() -> None:
    app = ScreenApp('root ::= "a"')
    async with app.run_test(size=(110, 40)) as pilot:
        app.workbench.editor.set_source('root ::= "b"')
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_every_screen_binding_has_an_id_and_a_description() -> None:
    for owner in (GrammarScreen, GrammarEditor, ConfirmInvalidGrammar):
        for binding in owner.BINDINGS:
            assert not isinstance(binding, tuple)
            if binding.show:
                assert binding.id and binding.description, binding


# --- the confirmation ------------------------------------------------------------------------


class ConfirmApp(App[None]):
    def __init__(self, grammar: str) -> None:
        super().__init__()
        self.grammar = grammar
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(
            ConfirmInvalidGrammar(self.grammar, check(self.grammar)), self.answers.append
        )


BAD = 'root ::= a b c d\nx_y ::= "[bold]\n'


@pytest.mark.parametrize(
    ("keys", "expected"),
    [(("escape",), False), (("enter",), False), (("ctrl+s",), True), (("right", "enter"), True)],
)
async def test_confirm_invalid_grammar_answers(keys: tuple[str, ...], expected: bool) -> None:
    app = ConfirmApp(BAD)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        assert app.answers == [expected]


async def test_confirm_invalid_grammar_lists_errors_and_the_consequence() -> None:
    app = ConfirmApp(BAD)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmInvalidGrammar)
        plain = str(dialog.query_one("#invalid-grammar-list").render())
        errors = check(BAD).errors
        assert len(errors) > 3
        assert f"grammar:{errors[0].line}:{errors[0].column}: error:" in plain
        assert "^" in plain  # the first errors come with their line and a caret
        assert f"grammar:{errors[-1].line}:{errors[-1].column}: error:" in plain
        title = str(dialog.query_one("#invalid-grammar-title").render())
        assert f"{len(errors)} errors" in title
        consequence = str(dialog.query_one("#invalid-grammar-consequence").render())
        assert "llama.cpp will refuse this grammar" in consequence
        await pilot.click("#send")
        await pilot.pause()
        assert app.answers == [True]


async def test_confirm_buttons_are_reachable_by_keyboard() -> None:
    app = ConfirmApp(BAD)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        focused = app.focused
        assert isinstance(focused, Button) and focused.id == "cancel"


async def test_a_long_problem_list_is_capped_but_says_how_many_more() -> None:
    source = "root ::= " + " ".join(f"r{i}" for i in range(150)) + "\n"
    app = EditorApp(source)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        assert len(app.editor.result.diagnostics) == 150
        shown = problems_shown(app)
        assert len(shown) == 101
        assert shown[-1].startswith("… 50 more")
        assert len(app.editor.text_area.marked_spans[0]) == 150


async def test_the_workbench_focus_keys_take_effect_before_the_next_key() -> None:
    app = ScreenApp('root ::= "x"')
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        screen = app.workbench
        for action, target in (
            (screen.action_focus_path, "#grammar-path-input"),
            (screen.action_focus_test, "#grammar-test-text"),
            (screen.action_focus_examples, "#grammar-examples"),
        ):
            action()  # no pause: a key typed right after must already land there
            assert app.focused is screen.query_one(target)
